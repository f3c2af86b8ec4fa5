/* Text tables in the layout of upstream's `status` (prettytable's default
 * format). */
#ifndef TABLE_H
#define TABLE_H

#include <stdio.h>

#define TABLE_COLS 6

struct table {
	size_t ncols, nrows, cap;
	const char *align;	/* per column: 'l' or 'r' (titles are always
				 * left) */
	char *(*cells)[TABLE_COLS];	/* row 0 = titles */
};

void table_init(struct table *t, size_t ncols, const char *align,
    const char *const titles[]);
void table_add(struct table *t, const char *const cells[]);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif
