/* Errors are values: a function that fails returns -1 and fills a struct err
 * that says what failed, where, and what to do. Callers add context with
 * err_prefix. */
#ifndef ERR_H
#define ERR_H

#define ERR_MSG_MAX 768

struct err {
	char	msg[ERR_MSG_MAX];
};

/* Both return -1 so that "return err_set(e, ...);" reads naturally. */
int	err_set(struct err *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	err_prefix(struct err *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
