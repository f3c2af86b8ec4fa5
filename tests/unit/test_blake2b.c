/* BLAKE2b-128 against blake2b.json, one-shot and streamed in odd-sized
 * pieces. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blake2b.h"
#include "t.h"

int main(void);

/* MT19937, seeded the way the vectors' 1 MiB input was made. */
#define MT_N 624
#define MT_M 397

struct mt {
	uint32_t	s[MT_N];
	int		i;
};

static void
mt_init(struct mt *mt, uint32_t seed)
{
	int i;

	mt->s[0] = seed;
	for (i = 1; i < MT_N; i++)
		mt->s[i] = 1812433253U * (mt->s[i - 1] ^ (mt->s[i - 1] >> 30)) +
		    (uint32_t)i;
	mt->i = MT_N;
}

static void
mt_init_by_array(struct mt *mt, const uint32_t *key, int klen)
{
	int i = 1, j = 0, k;
	uint32_t *s = mt->s;

	mt_init(mt, 19650218U);
	for (k = MT_N > klen ? MT_N : klen; k > 0; k--) {
		s[i] = (s[i] ^ ((s[i - 1] ^ (s[i - 1] >> 30)) * 1664525U)) +
		    key[j] + (uint32_t)j;
		i++;
		j++;
		if (i >= MT_N) {
			s[0] = s[MT_N - 1];
			i = 1;
		}
		if (j >= klen)
			j = 0;
	}
	for (k = MT_N - 1; k > 0; k--) {
		s[i] = (s[i] ^ ((s[i - 1] ^ (s[i - 1] >> 30)) * 1566083941U)) -
		    (uint32_t)i;
		i++;
		if (i >= MT_N) {
			s[0] = s[MT_N - 1];
			i = 1;
		}
	}
	s[0] = 0x80000000U;
}

static void
mt_twist(struct mt *mt)
{
	uint32_t *s = mt->s, y;
	int i;

	for (i = 0; i < MT_N; i++) {
		y = (s[i] & 0x80000000U) | (s[(i + 1) % MT_N] & 0x7fffffffU);
		s[i] = s[(i + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1) ?
		    0x9908b0dfU : 0);
	}
	mt->i = 0;
}

static uint32_t
mt_next(struct mt *mt)
{
	uint32_t y;

	if (mt->i >= MT_N)
		mt_twist(mt);
	y = mt->s[mt->i++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680U;
	y ^= (y << 15) & 0xefc60000U;
	y ^= y >> 18;
	return y;
}

static uint8_t *
seeded_bytes(uint32_t seed, size_t len)
{
	struct mt mt;
	uint8_t *buf = malloc(len + 4);
	uint32_t w;
	size_t i;

	mt_init_by_array(&mt, &seed, 1);
	for (i = 0; i < len; i += 4) {
		w = mt_next(&mt);
		buf[i] = (uint8_t)w;
		buf[i + 1] = (uint8_t)(w >> 8);
		buf[i + 2] = (uint8_t)(w >> 16);
		buf[i + 3] = (uint8_t)(w >> 24);
	}
	return buf;
}

static void
check_hex(const uint8_t *got, const char *want_hex, const char *what,
    const char *name)
{
	uint8_t *want;
	size_t n;

	if (want_hex[0] == '\0') {
		T_CHECK(0, "%s: no %s in the vectors", name, what);
		return;
	}
	want = t_unhex(want_hex, &n);
	T_EQ_MEM(got, want, n, "%s: %s differs", name, what);
	free(want);
}

/* Builds the input of a recipe case and checks the recipe's own checkpoints. */
static uint8_t *
recipe_input(const cJSON *r, const char *name, size_t *len)
{
	const cJSON *jlen = cJSON_GetObjectItemCaseSensitive(r, "len");
	const cJSON *seed = cJSON_GetObjectItemCaseSensitive(r, "seed");
	uint8_t *buf;
	size_t i;

	*len = cJSON_IsNumber(jlen) ? (size_t)jlen->valuedouble : 0;
	if (cJSON_IsNumber(seed)) {
		buf = seeded_bytes((uint32_t)seed->valuedouble, *len);
		check_hex(buf, t_jstr(r, "first32"), "first32", name);
		if (*len >= 32)
			check_hex(buf + *len - 32, t_jstr(r, "last32"),
			    "last32", name);
		return buf;
	}
	buf = malloc(*len + 1);
	for (i = 0; i < *len; i++)
		buf[i] = (uint8_t)(i % 251);
	return buf;
}

static void
check_streamed(const uint8_t *in, size_t len, const uint8_t *want,
    const char *name)
{
	static const size_t steps[] = { 1, 3, 7, 13, 127, 128, 129, 1000, 4097,
	    65537 };
	uint8_t got[B2_LEN];
	struct b2 h;
	size_t off = 0, n, k = 0;

	b2_init(&h);
	while (off < len) {
		n = steps[k++ % (sizeof(steps) / sizeof(steps[0]))];
		if (n > len - off)
			n = len - off;
		b2_update(&h, in + off, n);
		off += n;
	}
	b2_final(&h, got);
	T_EQ_MEM(got, want, B2_LEN, "%s: streamed digest differs", name);
}

static void
check_case(const cJSON *c)
{
	const cJSON *input = cJSON_GetObjectItemCaseSensitive(c, "input");
	const char *name = t_jstr(c, "name");
	uint8_t got[B2_LEN], *in;
	size_t len;

	if (name == NULL)
		name = "?";
	if (cJSON_IsString(input))
		in = t_unhex(input->valuestring, &len);
	else
		in = recipe_input(input, name, &len);
	b2_hash(in, len, got);
	check_hex(got, t_jstr(c, "digest"), "digest", name);
	check_streamed(in, len, got, name);
	free(in);
}

int
main(void)
{
	cJSON *v = t_load_vectors("blake2b.json"), *c;
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(v, "cases");
	uint8_t d128[B2_LEN], d512[64];
	int n = 0;

	cJSON_ArrayForEach(c, cases) {
		check_case(c);
		n++;
	}
	T_CHECK(n == 10, "expected 10 cases, found %d", n);

	/* The digest length is a parameter, not a truncation. */
	b2_hash("abc", 3, d128);
	crypto_generichash_blake2b(d512, sizeof(d512),
	    (const unsigned char *)"abc", 3, NULL, 0);
	T_CHECK(memcmp(d128, d512, B2_LEN) != 0,
	    "BLAKE2b-128 equals truncated BLAKE2b-512");
	cJSON_Delete(v);
	return t_finish();
}
