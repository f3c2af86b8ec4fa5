/* Single-core ceilings of each store stage (BLAKE2b-128, snappy framing, AES-256-GCM,
 * Reed-Solomon 10+5), measured with the project's own code, and a wrapper that runs
 * a command and reports its wall time and peak RSS.
 *   bench-stages ceilings [MiB]
 *   bench-stages run CMD ARGS...      prints "seconds maxrss_kib" on stderr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aesgcm.h"
#include "blake2b.h"
#include "rs.h"
#include "snappy_frame.h"

int main(int argc, char **argv);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fill(uint8_t *buf, size_t len, int text)
{
	static const char line[] = "zstor stores files as compressed, encrypted shards; ";
	size_t i;

	if (!text) {
		randombytes_buf(buf, len);
		return;
	}
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)line[i % (sizeof(line) - 1)];
}

static double
mbps(size_t bytes, double secs)
{
	return (double)bytes / 1e6 / secs;
}

static int
count_sink(void *ctx, const void *buf, size_t len, struct err *e)
{
	(void)buf, (void)e;
	*(size_t *)ctx += len;
	return 0;
}

/* Streaming compression, as a store runs it: 1 MiB writes, output discarded. */
static double
bench_snappy(const uint8_t *buf, size_t len, double *ratio)
{
	size_t out = 0, off;
	struct sink s = { count_sink, &out };
	struct sf_enc *enc = sf_enc_new(&s);
	struct err e;
	double t = now();

	for (off = 0; off < len; off += 1 << 20)
		sf_enc_write(enc, buf + off, len - off < (1 << 20) ? len - off : 1 << 20, &e);
	sf_enc_finish(enc, &e);
	t = now() - t;
	sf_enc_free(enc);
	*ratio = (double)out / (double)len;
	return mbps(len, t);
}

static double
bench_gcm(const uint8_t *buf, size_t len)
{
	static const uint8_t key[32] = { 1 };
	size_t out = 0, off;
	struct sink s = { count_sink, &out };
	struct err e;
	struct gcm_enc *g = gcm_enc_new(key, NULL, &s, &e);
	double t = now();

	for (off = 0; off < len; off += 1 << 20)
		gcm_enc_write(g, buf + off, len - off < (1 << 20) ? len - off : 1 << 20, &e);
	gcm_enc_finish(g, &e);
	t = now() - t;
	gcm_enc_free(g);
	return mbps(len, t);
}

static double
bench_rs(const uint8_t *buf, size_t len)
{
	uint8_t *data[10], *parity[5];
	size_t shard = len / 10, i;
	struct err e;
	struct rs *rs = rs_new(10, 5, &e);
	double t;

	for (i = 0; i < 10; i++)
		data[i] = (uint8_t *)(uintptr_t)(buf + i * shard);
	for (i = 0; i < 5; i++)
		parity[i] = malloc(shard);
	t = now();
	rs_encode(rs, shard, data, parity);
	t = now() - t;
	for (i = 0; i < 5; i++)
		free(parity[i]);
	rs_free(rs);
	return mbps(len, t);
}

static void
ceilings(size_t mib)
{
	size_t len = mib << 20;
	uint8_t *buf = malloc(len), sum[B2_LEN];
	int text;

	for (text = 1; text >= 0; text--) {
		double t, b2, sf, gcm, rs, ratio;

		fill(buf, len, text);
		t = now(); b2_hash(buf, len, sum); b2 = mbps(len, now() - t);
		sf = bench_snappy(buf, len, &ratio);
		gcm = bench_gcm(buf, len);
		rs = bench_rs(buf, len);
		/* Per input byte a store hashes the file, compresses it, encrypts and
		 * erasure-codes ratio bytes, and hashes 15/10 of those as shards. */
		printf("%s: blake2b %.0f MB/s, snappy %.0f MB/s (ratio %.3f), aes-gcm %.0f MB/s, "
		    "rs-10+5 %.0f MB/s; store ceiling %.0f MB/s\n",
		    text ? "compressible" : "random", b2, sf, ratio, gcm, rs,
		    1.0 / (1.0 / b2 + 1.0 / sf + ratio / gcm + ratio / rs + 1.5 * ratio / b2));
	}
	free(buf);
}

static int
run(char **argv)
{
	struct rusage ru;
	double t = now();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	getrusage(RUSAGE_CHILDREN, &ru);
	fprintf(stderr, "%.3f %ld\n", now() - t, ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc >= 2 && strcmp(argv[1], "ceilings") == 0) {
		ceilings(argc > 2 ? (size_t)atoi(argv[2]) : 256);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(argv + 2);
	fprintf(stderr, "usage: bench-stages ceilings [MiB] | run CMD...\n");
	return 2;
}
