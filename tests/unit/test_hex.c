#include <string.h>

#include "hex.h"
#include "t.h"

int main(void);

int
main(void)
{
	uint8_t in[3] = {0x00, 0xab, 0xff}, back[3];
	char out[7];

	hex_encode(out, in, 3);
	T_CHECK(strcmp(out, "00abff") == 0, "hex_encode gave %s", out);
	T_CHECK(hex_decode(back, "00ABff", 3) == 0 && memcmp(back, in, 3) == 0,
	    "hex_decode mixed case");
	T_CHECK(hex_decode(back, "0g", 1) == -1,
	    "hex_decode accepts a bad digit");
	return t_finish();
}
