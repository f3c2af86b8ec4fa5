#include <stdlib.h>
#include <string.h>

#include "table.h"

void
table_init(struct table *t, size_t ncols, const char *align,
    const char *const titles[])
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->align = align;
	table_add(t, titles);
}

void
table_add(struct table *t, const char *const cells[])
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		void *v = reallocarray(t->cells, cap, sizeof(*t->cells));

		if (v == NULL)
			return;
		t->cells = v;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows][i] = strdup(cells[i]);
	t->nrows++;
}

static void
rule(const struct table *t, const size_t *w, char c, FILE *f)
{
	size_t i, j;

	for (i = 0; i < t->ncols; i++) {
		fputc('+', f);
		for (j = 0; j < w[i] + 2; j++)
			fputc(c, f);
	}
	fputs("+\n", f);
}

void
table_print(const struct table *t, FILE *f)
{
	size_t w[TABLE_COLS] = { 0 }, r, i;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if (t->cells[r][i] && strlen(t->cells[r][i]) > w[i])
				w[i] = strlen(t->cells[r][i]);
	rule(t, w, '-', f);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r][i] ? t->cells[r][i] : "";
			int right = r > 0 && t->align[i] == 'r';

			fprintf(f, "| %*s ", right ? (int)w[i] : -(int)w[i], s);
		}
		fputs("|\n", f);
		rule(t, w, r == 0 ? '=' : '-', f);
	}
}

void
table_free(struct table *t)
{
	size_t r, i;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			free(t->cells[r][i]);
	free(t->cells);
}
