/* The ceilings of a store and of a retrieve, measured with the project's own
 * stage code (BLAKE2b-128, snappy framing both ways, AES-256-GCM, RS 10+5)
 * on the bytes a benchmark stores; the benchmark's inputs; and a wrapper that
 * runs a command and reports its wall time and peak RSS.
 *   bench-stages gen random|text|compressible MiB FILE
 *   bench-stages ceilings random|text|compressible [MiB]
 *   bench-stages run CMD ARGS...      prints "seconds maxrss_kib" on stderr
 *
 * A ceiling is 1 / (the sum of the stage costs per byte): per input byte a
 * store hashes the file, compresses it, encrypts and erasure-codes the
 * compressed bytes and hashes 15/10 of those as shards, four chains at a
 * time as a store does (blake2b_x4.h); per output byte a retrieve decrypts
 * the compressed bytes (GCM costs the same both ways), unframes them and
 * hashes the output (its fast path does not hash the data shards: obj_stream.c
 * says why). The 1-core
 * ceiling runs the stages on one thread; the 2-core ceiling runs them on two
 * threads at once, each on its own copy, and counts the bytes of both over
 * the slower one's time, so what the two cores share (memory, caches) is in
 * the figure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aesgcm.h"
#include "blake2b_x4.h"
#include "rs.h"
#include "snappy_frame.h"

int main(int argc, char **argv);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Text-like: words of a made-up vocabulary in lines of varying length, so
 * that snappy's ratio is that of prose or logs (2-4), not of one line
 * repeated. */
static void
fill_text(uint8_t *buf, size_t len)
{
	static char words[512][12];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i = 0, w, n, col = 0;

	for (w = 0; w < 512; w++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = 2 + x % 9;
		for (size_t c = 0; c < n; c++)
			words[w][c] = (char)('a' + (x >> (5 * c + 8)) % 26);
		words[w][n] = '\0';
	}
	while (i < len) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* Zipf-like: small indices far more often */
		w = (x % 512) * ((x >> 20) % 512) / 512;
		for (n = 0; words[w][n] && i < len; n++, col++)
			buf[i++] = (uint8_t)words[w][n];
		if (i < len)
			buf[i++] = col > 60 + (x >> 40) % 20 ? '\n' : ' ';
		if (col > 60)
			col = 0;
	}
}

static int
fill(uint8_t *buf, size_t len, const char *kind)
{
	static const char line[] = "zstor stores files as compressed, "
	    "encrypted shards; ";
	size_t i;

	if (strcmp(kind, "random") == 0)
		randombytes_buf(buf, len);
	else if (strcmp(kind, "text") == 0)
		fill_text(buf, len);
	else if (strcmp(kind, "compressible") == 0)
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)line[i % (sizeof(line) - 1)];
	else
		return -1;
	return 0;
}

struct mem {
	uint8_t	*p;
	size_t	 len, cap;
};

static int
mem_sink(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct mem *m = ctx;

	(void)e;
	if (m->p != NULL && m->len + len <= m->cap)
		memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

/* Per-stage seconds of one thread over len bytes. */
struct costs {
	double	b2, b2x4, sf_enc, sf_dec, gcm, rs;
	const char *b2x4_path;
	double	ratio;	/* compressed / input */
};

static void
stages(const uint8_t *buf, size_t len, struct costs *c)
{
	static const uint8_t key[32] = { 1 };
	struct mem comp = { malloc(len + len / 8 + 65536), 0,
	    len + len / 8 + 65536 }, plain = { NULL, 0, 0 }, out = { 0 };
	uint8_t *data[10], *parity[5], sum[B2_LEN], sums[B2X4_LANES][B2_LEN];
	const uint8_t *quarter[B2X4_LANES];
	struct b2x4 x4;
	struct sink s = { mem_sink, &comp }, p = { mem_sink, &plain },
	    o = { mem_sink, &out };
	struct sf_enc *enc = sf_enc_new(&s, NULL);
	struct sf_dec *dec = sf_dec_new(&p, NULL);
	struct gcm_enc *g = gcm_enc_new(key, NULL, &o, NULL);
	struct rs *rs = rs_new(10, 5, NULL);
	size_t off, shard = len / 10, i;
	double t;

	t = now();
	b2_hash(buf, len, sum);
	c->b2 = now() - t;
	for (i = 0; i < B2X4_LANES; i++)
		quarter[i] = buf + i * (len / B2X4_LANES);
	t = now();
	b2x4_init(&x4);
	b2x4_update(&x4, quarter, len / B2X4_LANES);
	b2x4_final(&x4, sums);
	c->b2x4 = now() - t;
	c->b2x4_path = b2x4_path_name(&x4);
	t = now();
	for (off = 0; off < len; off += 1 << 20)
		sf_enc_write(enc, buf + off, len - off < (1 << 20) ?
		    len - off : 1 << 20, NULL);
	sf_enc_finish(enc, NULL);
	c->sf_enc = now() - t;
	c->ratio = (double)comp.len / (double)len;
	t = now();
	for (off = 0; off < comp.len; off += 1 << 20)
		sf_dec_write(dec, comp.p + off, comp.len - off < (1 << 20) ?
		    comp.len - off : 1 << 20, NULL);
	sf_dec_finish(dec, NULL);
	c->sf_dec = now() - t;
	t = now();
	for (off = 0; off < len; off += 1 << 20)
		gcm_enc_write(g, buf + off, len - off < (1 << 20) ?
		    len - off : 1 << 20, NULL);
	gcm_enc_finish(g, NULL);
	c->gcm = now() - t;
	for (i = 0; i < 10; i++)
		data[i] = (uint8_t *)(uintptr_t)(buf + i * shard);
	for (i = 0; i < 5; i++)
		parity[i] = malloc(shard);
	t = now();
	rs_encode(rs, shard, data, parity);
	c->rs = now() - t;
	for (i = 0; i < 5; i++)
		free(parity[i]);
	rs_free(rs);
	gcm_enc_free(g);
	sf_enc_free(enc);
	sf_dec_free(dec);
	free(comp.p);
}

/* Seconds per input byte of a store, per output byte of a retrieve. */
static double
store_cost(const struct costs *c, size_t len)
{
	return (c->b2 + c->sf_enc + c->ratio * (c->gcm + c->rs) +
	    1.5 * c->ratio * c->b2x4) / (double)len;
}

static double
retrieve_cost(const struct costs *c, size_t len)
{
	return (c->ratio * c->gcm + c->sf_dec + c->b2) / (double)len;
}

struct job {
	uint8_t		*buf;
	size_t		 len;
	struct costs	 c;
};

static void *
job_run(void *arg)
{
	struct job *j = arg;

	stages(j->buf, j->len, &j->c);
	return NULL;
}

static void
ceilings(const char *kind, size_t mib)
{
	size_t len = mib << 20;
	struct job j[2];
	pthread_t t;
	double s1, r1, s2, r2;
	int i;

	for (i = 0; i < 2; i++) {
		j[i].buf = malloc(len);
		j[i].len = len;
		if (j[i].buf == NULL || fill(j[i].buf, len, kind) < 0) {
			fprintf(stderr,
			    "bench-stages: bad kind or no memory\n");
			exit(2);
		}
	}
	job_run(&j[0]);
	s1 = 1e-6 / store_cost(&j[0].c, len);
	r1 = 1e-6 / retrieve_cost(&j[0].c, len);
	pthread_create(&t, NULL, job_run, &j[1]);
	job_run(&j[0]);
	pthread_join(t, NULL);
	/* both threads' bytes over the slower one's time */
	s2 = 2e-6 / (store_cost(&j[0].c, len) > store_cost(&j[1].c, len) ?
	    store_cost(&j[0].c, len) : store_cost(&j[1].c, len));
	r2 = 2e-6 / (retrieve_cost(&j[0].c, len) > retrieve_cost(&j[1].c,
	    len) ? retrieve_cost(&j[0].c, len) : retrieve_cost(&j[1].c, len));
	printf("%s: snappy ratio %.2f; one core: blake2b %.0f (four chains, "
	    "%s: %.0f), snappy %.0f in / %.0f out, aes-gcm %.0f, rs-10+5 %.0f "
	    "MB/s\n", kind, 1 / j[0].c.ratio, len / 1e6 / j[0].c.b2,
	    j[0].c.b2x4_path, len / 1e6 / j[0].c.b2x4, len / 1e6 / j[0].c.sf_enc,
	    len / 1e6 / j[0].c.sf_dec, len / 1e6 / j[0].c.gcm,
	    len / 1e6 / j[0].c.rs);
	printf("ceiling %s store %.0f %.0f retrieve %.0f %.0f\n", kind, s1, s2,
	    r1, r2);
	free(j[0].buf);
	free(j[1].buf);
}

static int
gen(const char *kind, size_t mib, const char *path)
{
	size_t len = mib << 20;
	uint8_t *buf = malloc(len);
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (buf == NULL || f == NULL || fill(buf, len, kind) < 0 ||
	    fwrite(buf, 1, len, f) != len)
		rc = 1;
	if (f != NULL && fclose(f) != 0)
		rc = 1;
	free(buf);
	return rc;
}

static int
run(char **argv)
{
	struct rusage ru;
	double t = wall();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	getrusage(RUSAGE_CHILDREN, &ru);
	fprintf(stderr, "%.3f %ld\n", wall() - t, ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc >= 3 && strcmp(argv[1], "ceilings") == 0) {
		ceilings(argv[2], argc > 3 ? (size_t)atoi(argv[3]) : 256);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], (size_t)atoi(argv[3]), argv[4]);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(argv + 2);
	fprintf(stderr, "usage: bench-stages ceilings KIND [MiB] | "
	    "gen KIND MiB FILE | run CMD...\n");
	return 2;
}
