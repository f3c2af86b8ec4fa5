/* Reed-Solomon with upstream's systematic Vandermonde matrix and ISA-L
 * arithmetic.
 *
 * ISA-L's own matrices differ from upstream's, so we build the matrix here and
 * only hand ISA-L coefficient rows: the parity rows for encoding, and for
 * reconstruction one row per missing shard expressing it in terms of the first
 * `data` present shards. All tables are allocated in rs_new; encoding and
 * reconstruction allocate nothing. Reconstruction keeps the tables of the last
 * erasure pattern, so a struct rs must not be shared between threads that call
 * rs_reconstruct. */
#include <isa-l/erasure_code.h>
#include <stdlib.h>
#include <string.h>

#include "rs.h"

#define RS_STEP (1 << 30)	/* ISA-L lengths are int */

struct rs {
	unsigned	 k;		/* data shards */
	unsigned	 m;		/* parity shards */
	unsigned	 n;		/* k + m */
	uint8_t		*matrix;	/* n x k, row-major */
	uint8_t		*enc_tbl;	/* ISA-L tables of the parity rows */
	/* ISA-L tables of dec_present's missing rows */
	uint8_t		*dec_tbl;
	/* n flags (0/1) dec_tbl was built for */
	uint8_t		*dec_present;
	int		 dec_valid;
	uint8_t		*sub;		/* k x k: rows of the present shards */
	uint8_t		*inv;		/* k x k: its inverse */
	uint8_t		*coef;		/* m x k: rows of the missing shards */
};

static void
rs_mat_mul(const uint8_t *a, const uint8_t *b, uint8_t *out, unsigned rows,
    unsigned inner, unsigned cols)
{
	unsigned r, c, j;
	uint8_t acc;

	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++) {
			acc = 0;
			for (j = 0; j < inner; j++)
				acc ^= gf_mul(a[r * inner + j],
				    b[j * cols + c]);
			out[r * cols + c] = acc;
		}
}

/* matrix = V * inverse(top k rows of V), V[r][c] = r^c. Rows below the identity
 * are computed; the top k are the identity by construction. */
static int
rs_build_matrix(struct rs *rs, struct err *e)
{
	unsigned k = rs->k, n = rs->n, r, c;
	uint8_t *v;

	if ((v = malloc((size_t)n * k)) == NULL)
		return err_set(e, "RS: out of memory for the matrix");
	for (r = 0; r < n; r++) {
		v[r * k] = 1;	/* r^0, including 0^0 */
		for (c = 1; c < k; c++)
			v[r * k + c] = gf_mul(v[r * k + c - 1],
			    (unsigned char)r);
	}
	memcpy(rs->sub, v, (size_t)k * k);
	if (gf_invert_matrix(rs->sub, rs->inv, (int)k) != 0) {
		free(v);
		return err_set(e,
		    "RS: Vandermonde matrix for %u+%u is singular", k, rs->m);
	}
	memset(rs->matrix, 0, (size_t)k * k);
	for (r = 0; r < k; r++)
		rs->matrix[r * k + r] = 1;
	rs_mat_mul(v + (size_t)k * k, rs->inv, rs->matrix + (size_t)k * k,
	    rs->m, k, k);
	free(v);
	return 0;
}

static int
rs_check_params(unsigned data, unsigned parity, struct err *e)
{
	if (data < 1)
		return err_set(e, "RS: need at least 1 data shard (got %u)",
		    data);
	if (parity < 1)
		return err_set(e, "RS: need at least 1 parity shard (got %u)",
		    parity);
	if (data > RS_MAX_SHARDS || parity > RS_MAX_SHARDS ||
	    data + parity > RS_MAX_SHARDS)
		return err_set(e,
		    "RS: %u data + %u parity shards is more than %d", data,
		    parity, RS_MAX_SHARDS);
	return 0;
}

struct rs *
rs_new(unsigned data, unsigned parity, struct err *e)
{
	struct rs *rs;
	size_t tbl = (size_t)32 * data * parity;

	if (rs_check_params(data, parity, e) == -1)
		return NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		err_set(e, "RS: out of memory");
		return NULL;
	}
	rs->k = data;
	rs->m = parity;
	rs->n = data + parity;
	rs->matrix = malloc((size_t)rs->n * data);
	rs->enc_tbl = malloc(tbl);
	rs->dec_tbl = malloc(tbl);
	rs->dec_present = malloc(rs->n);
	rs->sub = malloc((size_t)data * data);
	rs->inv = malloc((size_t)data * data);
	rs->coef = malloc((size_t)parity * data);
	if (rs->matrix == NULL || rs->enc_tbl == NULL || rs->dec_tbl == NULL ||
	    rs->dec_present == NULL || rs->sub == NULL || rs->inv == NULL ||
	    rs->coef == NULL) {
		err_set(e, "RS: out of memory for %u+%u tables", data, parity);
		goto fail;
	}
	if (rs_build_matrix(rs, e) == -1)
		goto fail;
	ec_init_tables((int)data, (int)parity, rs->matrix + (size_t)data * data,
	    rs->enc_tbl);
	return rs;
fail:
	rs_free(rs);
	return NULL;
}

void
rs_free(struct rs *rs)
{
	if (rs == NULL)
		return;
	free(rs->matrix);
	free(rs->enc_tbl);
	free(rs->dec_tbl);
	free(rs->dec_present);
	free(rs->sub);
	free(rs->inv);
	free(rs->coef);
	free(rs);
}

unsigned
rs_data(const struct rs *rs)
{
	return rs->k;
}

unsigned
rs_parity(const struct rs *rs)
{
	return rs->m;
}

const uint8_t *
rs_matrix(const struct rs *rs)
{
	return rs->matrix;
}

/* dst[i] = sum_j coefficient(i, j) * src[j], for len bytes, in int-sized
 * steps. */
static void
rs_apply(unsigned k, unsigned rows, uint8_t *tbl, unsigned char **src,
    unsigned char **dst, size_t len)
{
	unsigned i;
	int n;

	while (len > 0) {
		n = len > RS_STEP ? RS_STEP : (int)len;
		ec_encode_data(n, (int)k, (int)rows, tbl, src, dst);
		len -= (size_t)n;
		for (i = 0; len > 0 && i < k; i++)
			src[i] += n;
		for (i = 0; len > 0 && i < rows; i++)
			dst[i] += n;
	}
}

void
rs_encode(struct rs *rs, size_t len, uint8_t *const *data,
    uint8_t *const *parity)
{
	unsigned char *src[RS_MAX_SHARDS], *dst[RS_MAX_SHARDS];
	unsigned i;

	for (i = 0; i < rs->k; i++)
		src[i] = data[i];
	for (i = 0; i < rs->m; i++)
		dst[i] = parity[i];
	rs_apply(rs->k, rs->m, rs->enc_tbl, src, dst, len);
}

/* Builds the ISA-L tables that compute every shard missing from `present` out
 * of the first k present ones (sel). */
static int
rs_build_decoder(struct rs *rs, const uint8_t *present, const unsigned *sel,
    const unsigned *missing, unsigned nmissing, struct err *e)
{
	unsigned k = rs->k, i;

	for (i = 0; i < k; i++)
		memcpy(rs->sub + (size_t)i * k, rs->matrix + (size_t)sel[i] * k,
		    k);
	if (gf_invert_matrix(rs->sub, rs->inv, (int)k) != 0)
		return err_set(e, "RS: decoding matrix is singular");
	/* inv maps the selected shards back to the data; a missing shard's row
	 * of the encoding matrix times inv maps them to that shard. */
	for (i = 0; i < nmissing; i++)
		rs_mat_mul(rs->matrix + (size_t)missing[i] * k, rs->inv,
		    rs->coef + (size_t)i * k, 1, k, k);
	ec_init_tables((int)k, (int)nmissing, rs->coef, rs->dec_tbl);
	for (i = 0; i < rs->n; i++)
		rs->dec_present[i] = present[i] != 0;
	rs->dec_valid = 1;
	return 0;
}

static int
rs_same_pattern(const struct rs *rs, const uint8_t *present)
{
	unsigned i;

	if (!rs->dec_valid)
		return 0;
	for (i = 0; i < rs->n; i++)
		if (rs->dec_present[i] != (present[i] != 0))
			return 0;
	return 1;
}

int
rs_reconstruct(struct rs *rs, size_t len, uint8_t *const *shards,
    const uint8_t *present, struct err *e)
{
	unsigned sel[RS_MAX_SHARDS], missing[RS_MAX_SHARDS];
	unsigned char *src[RS_MAX_SHARDS], *dst[RS_MAX_SHARDS];
	unsigned i, nsel = 0, nmissing = 0, npresent = 0;

	for (i = 0; i < rs->n; i++) {
		if (!present[i])
			missing[nmissing++] = i;
		else if (npresent++ < rs->k)
			sel[nsel++] = i;
	}
	if (npresent < rs->k)
		return err_set(e, "RS: too few shards to reconstruct: %u of %u "
		    "present, need %u", npresent, rs->n, rs->k);
	if (nmissing == 0 || len == 0)
		return 0;
	if (!rs_same_pattern(rs, present)) {
		rs->dec_valid = 0;
		if (rs_build_decoder(rs, present, sel, missing, nmissing,
		    e) == -1)
			return -1;
	}
	for (i = 0; i < rs->k; i++)
		src[i] = shards[sel[i]];
	for (i = 0; i < nmissing; i++)
		dst[i] = shards[missing[i]];
	rs_apply(rs->k, nmissing, rs->dec_tbl, src, dst, len);
	return 0;
}

size_t
rs_pad_len(size_t len, unsigned data)
{
	if (data == 0)
		return 0;
	return data - len % data;
}

size_t
rs_shard_len(size_t len, unsigned data)
{
	if (data == 0)
		return 0;
	/* (len + pad) / data without overflowing near SIZE_MAX. */
	return len / data + 1;
}
