/* Lowercase hex, the way keys and checksums appear in metadata and on
 * stdout. */
#ifndef HEX_H
#define HEX_H

#include <stddef.h>
#include <stdint.h>

/* Value of one hex digit (either case), or -1. */
int	hex_digit(int c);
/* Writes 2*n hex digits and a NUL into out (which holds 2*n+1 bytes). */
void	hex_encode(char *out, const uint8_t *in, size_t n);
/* Decodes exactly 2*n digits (either case) from in; -1 on a bad digit. */
int	hex_decode(uint8_t *out, const char *in, size_t n);

#endif
