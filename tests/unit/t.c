#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "t.h"

int t_passed, t_failed;

void
t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_failed++;
	fprintf(stdout, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

int
t_finish(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

char *
t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

cJSON *
t_load_vectors(const char *name)
{
	const char *dir = getenv("T_VECTORS");
	char path[1024];
	char *text;
	cJSON *json;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/vectors",
	    name);
	text = t_read_file(path, NULL);
	json = cJSON_Parse(text);
	free(text);
	if (json == NULL) {
		fprintf(stderr, "%s: not valid JSON\n", path);
		exit(2);
	}
	return json;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

uint8_t *
t_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *out;

	if (n % 2) {
		fprintf(stderr, "odd hex length\n");
		exit(2);
	}
	out = malloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "bad hex\n");
			exit(2);
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

static uint64_t t_rng_state = 0x243f6a8885a308d3ULL;

void
t_rng_seed(uint64_t seed)
{
	t_rng_state = seed ? seed : 1;
}

uint64_t
t_rng(void)
{
	t_rng_state ^= t_rng_state >> 12;
	t_rng_state ^= t_rng_state << 25;
	t_rng_state ^= t_rng_state >> 27;
	return t_rng_state * 0x2545f4914f6cdd1dULL;
}

size_t
t_rng_below(size_t n)
{
	return n ? (size_t)(t_rng() % n) : 0;
}

int
t_buf_write(void *ctx, const void *data, size_t len, struct err *e)
{
	struct t_buf *b = ctx;

	(void)e;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

const char *
t_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int
t_same(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static char t_dir[64];

static int
t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void
t_rm_tmpdir(void)
{
	if (t_dir[0] != '\0')
		nftw(t_dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
t_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (t_dir[0] != '\0')
		return t_dir;
	snprintf(t_dir, sizeof(t_dir), "%s/zt-unit.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(t_dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	atexit(t_rm_tmpdir);
	return t_dir;
}

void
t_dir_ci(struct backend_ci *ci, const char *name, const char *ns)
{
	char addr[ADDR_PATH_MAX + 8];
	struct err e;

	memset(ci, 0, sizeof(*ci));
	snprintf(addr, sizeof(addr), "dir:%s/%s", t_tmpdir(), name);
	(void)mkdir(addr + 4, 0700);
	if (zaddr_parse(addr, &ci->addr, &e) == -1 ||
	    (ns != NULL && (ci->ns = strdup(ns)) == NULL)) {
		fprintf(stderr, "t_dir_ci %s: %s\n", addr, e.msg);
		exit(2);
	}
}
