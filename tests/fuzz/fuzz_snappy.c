/* The snappy frame decoder, whole and streamed. The first byte says where the
 * stream is cut in two for the streaming decoder; both must agree. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sink.h"
#include "snappy_frame.h"

struct out {
	uint8_t	*p;
	size_t	 len, cap;
};

static int
collect(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct out *o = ctx;
	uint8_t *p;

	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		if ((p = realloc(o->p, o->cap)) == NULL)
			return err_set(e, "out of memory");
		o->p = p;
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out o = { NULL, 0, 0 };
	struct sink s = { collect, &o };
	struct sf_dec *d;
	uint8_t *whole = NULL;
	size_t wlen = 0, cut;
	struct err e;
	int rc1, rc2;

	if (size < 1)
		return 0;
	cut = (size - 1) * data[0] / 255;
	data++, size--;
	rc1 = sf_decompress(data, size, &whole, &wlen, &e);
	if ((d = sf_dec_new(&s, NULL)) == NULL)
		return 0;
	rc2 = sf_dec_write(d, data, cut, &e);
	if (rc2 == 0)
		rc2 = sf_dec_write(d, data + cut, size - cut, &e);
	if (rc2 == 0)
		rc2 = sf_dec_finish(d, &e);
	sf_dec_free(d);
	if ((rc1 == 0) != (rc2 == 0))
		fuzz_broken("whole and streamed decoding disagree on success");
	if (rc1 == 0 && (wlen != o.len ||
	    (wlen && memcmp(whole, o.p, wlen) != 0)))
		fuzz_broken("whole and streamed decoding give different bytes");
	free(whole);
	free(o.p);
	return 0;
}
