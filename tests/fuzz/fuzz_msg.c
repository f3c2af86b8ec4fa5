/* One frame's JSON as the strict message parser reads it, in each direction
 * (the first byte picks it: client or worker, to or from the master). What
 * parses must encode, and parse again. */
#include <stdlib.h>

#include "fuzz.h"
#include "msg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg *m, *again;
	enum msg_dir dir;
	struct err e;
	size_t len;
	char *enc;

	if (size < 1)
		return 0;
	dir = (enum msg_dir)(data[0] % 4);
	if ((m = msg_parse((const char *)data + 1, size - 1, dir, &e)) == NULL)
		return 0;
	(void)msg_check_fds(m, data[0] / 4 % 3, &e);
	if ((enc = msg_encode(m, &len, &e)) == NULL)
		fuzz_broken("a parsed message does not encode");
	if ((again = msg_parse(enc, len, dir, &e)) == NULL)
		fuzz_broken("an encoded message does not parse");
	if (msg_type(again) != msg_type(m) || msg_id(again) != msg_id(m))
		fuzz_broken("a message changes through encode and parse");
	msg_free(again);
	msg_free(m);
	free(enc);
	return 0;
}
