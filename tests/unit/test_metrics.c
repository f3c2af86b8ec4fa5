/* The metrics registry and its text (supervisor/metrics.c) with a table of
 * its own, and the master's table against the exposition format's naming
 * rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "metrics.h"
#include "t.h"

enum { T_REQS, T_TEMP, T_SECS, T_BACKEND, T_FAMILIES };

static const double secs_buckets[] = { 0.1, 1, 2.5 };

static const struct metric_def test_table[T_FAMILIES] = {
	[T_REQS] = { "t_requests_total", "Requests\nseen, by \\code",
	    METRIC_COUNTER, { "code", NULL }, NULL, 0, 0 },
	[T_TEMP] = { "t_temperature", "A gauge", METRIC_GAUGE, { NULL },
	    NULL, 0, 0 },
	[T_SECS] = { "t_seconds", "A histogram", METRIC_HISTOGRAM,
	    { "op", NULL }, secs_buckets, 3, 0 },
	[T_BACKEND] = { "t_backend_up", "Collected", METRIC_GAUGE,
	    { "name", NULL }, NULL, 0, 1 },
};

static int collect_calls;
static const char *collect_names[4];

static void
collect(void *arg)
{
	size_t i;

	(void)arg;
	collect_calls++;
	for (i = 0; i < 4 && collect_names[i] != NULL; i++)
		metric_set(MX(T_BACKEND, collect_names[i]), (double)i);
}

/* The text of the metrics now, NUL-terminated (static). */
static const char *
render(void)
{
	static char text[8192];
	struct evbuffer *b = evbuffer_new();
	size_t n;

	if (b == NULL || metrics_render(b) == -1) {
		fprintf(stderr, "render failed\n");
		exit(2);
	}
	n = evbuffer_get_length(b);
	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	evbuffer_remove(b, text, n);
	text[n] = '\0';
	evbuffer_free(b);
	return text;
}

static void
test_counters_and_gauges(void)
{
	const char *t;

	metrics_init(test_table, T_FAMILIES);
	T_CHECK(strcmp(render(), "") == 0, "no series: no text at all");
	metric_inc(MX(T_REQS, "200"), 1);
	metric_inc(MX(T_REQS, "200"), 2);
	metric_inc(MX(T_REQS, "a\"b\\c\nd"), 1);
	metric_set(MX(T_TEMP), -1.5);
	t = render();
	T_CHECK(strcmp(t,
	    "# HELP t_requests_total Requests\\nseen, by \\\\code\n"
	    "# TYPE t_requests_total counter\n"
	    "t_requests_total{code=\"200\"} 3\n"
	    "t_requests_total{code=\"a\\\"b\\\\c\\nd\"} 1\n"
	    "# HELP t_temperature A gauge\n"
	    "# TYPE t_temperature gauge\n"
	    "t_temperature -1.5\n") == 0,
	    "counters, gauges, escapes in help and labels:\n%s", t);
	T_CHECK(metric_value(MX(T_REQS, "200")) == 3, "metric_value");
	metric_set(MX(T_TEMP), 1e300);
	T_CHECK(strstr(render(), "t_temperature 1.0000000000000001e+300\n") ||
	    strstr(render(), "t_temperature 1e+300\n"),
	    "a large value reads back: %s", render());
	metric_set(MX(T_TEMP), 0.1);
	T_CHECK(strstr(render(), "t_temperature 0.1\n") != NULL,
	    "0.1 is written as 0.1");
}

/* A mirrored counter never goes down: a source restart adds on top. */
static void
test_follow(void)
{
	struct metric *m;

	metrics_init(test_table, T_FAMILIES);
	m = MX(T_REQS, "x");
	metric_follow(m, 10);
	T_CHECK(metric_value(m) == 10, "follow: the source's value");
	metric_follow(m, 15);
	T_CHECK(metric_value(m) == 15, "follow: grows with it");
	metric_follow(m, 3);	/* restarted: 15 before, 3 since */
	T_CHECK(metric_value(m) == 18, "follow: a restart adds on top (%g)",
	    metric_value(m));
	metric_follow(m, 3);
	T_CHECK(metric_value(m) == 18, "follow: the same value again");
	metric_follow(m, 0);
	metric_follow(m, 5);
	T_CHECK(metric_value(m) == 23, "follow: a second restart (%g)",
	    metric_value(m));
	metric_follow(m, UINT64_MAX);
	T_CHECK(metric_value(m) > 1.8e19, "follow: the largest value");
}

static void
test_histogram(void)
{
	struct metric *m;
	const char *t;

	metrics_init(test_table, T_FAMILIES);
	m = MX(T_SECS, "store");
	metric_observe(m, 0.05);
	metric_observe(m, 0.1);		/* le is inclusive */
	metric_observe(m, 2);
	metric_observe(m, 100);
	t = render();
	T_CHECK(strcmp(t,
	    "# HELP t_seconds A histogram\n"
	    "# TYPE t_seconds histogram\n"
	    "t_seconds_bucket{op=\"store\",le=\"0.1\"} 2\n"
	    "t_seconds_bucket{op=\"store\",le=\"1\"} 2\n"
	    "t_seconds_bucket{op=\"store\",le=\"2.5\"} 3\n"
	    "t_seconds_bucket{op=\"store\",le=\"+Inf\"} 4\n"
	    "t_seconds_sum{op=\"store\"} 102.15000000000001\n"
	    "t_seconds_count{op=\"store\"} 4\n") == 0 ||
	    strstr(t, "t_seconds_sum{op=\"store\"} 102.15\n") != NULL,
	    "histogram: cumulative buckets, sum, count:\n%s", t);
	T_CHECK(metric_value(m) == 4, "histogram: its count");
}

/* A swept family keeps only what the last collection set. */
static void
test_collectors(void)
{
	const char *t;

	metrics_init(test_table, T_FAMILIES);
	metrics_collector_add(collect, NULL);
	collect_names[0] = "a";
	collect_names[1] = "b";
	collect_names[2] = NULL;
	t = render();
	T_CHECK(collect_calls == 1 && strstr(t, "t_backend_up{name=\"a\"} 0\n")
	    && strstr(t, "t_backend_up{name=\"b\"} 1\n"),
	    "collected series:\n%s", t);
	collect_names[0] = "b";
	collect_names[1] = NULL;
	t = render();
	T_CHECK(strstr(t, "name=\"a\"") == NULL &&
	    strstr(t, "t_backend_up{name=\"b\"} 0\n") != NULL,
	    "a series the collector no longer sets is gone:\n%s", t);
	collect_names[0] = NULL;
	t = render();
	T_CHECK(strstr(t, "t_backend_up") == NULL,
	    "no series left: no HELP or TYPE either:\n%s", t);
}

static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		    (i > 0 && s[i] >= '0' && s[i] <= '9')))
			return 0;
	return i > 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The master's table: valid names; ours (zstor_) by the conventions:
 * counters end in _total, nothing else does. Upstream's keep their names. */
static void
test_master_table(void)
{
	const struct metric_def *d;
	size_t f, i;
	int bad = 0;

	for (f = 0; f < MF_FAMILIES; f++) {
		d = &metrics_table[f];
		if (d->name == NULL || !name_ok(d->name) || d->help == NULL ||
		    d->help[0] == '\0') {
			T_CHECK(0, "family %zu: a name and a help", f);
			bad++;
			continue;
		}
		for (i = 0; d->labels[i] != NULL; i++)
			if (!name_ok(d->labels[i]) ||
			    strncmp(d->labels[i], "__", 2) == 0 ||
			    strcmp(d->labels[i], "le") == 0) {
				T_CHECK(0, "%s: label %s", d->name,
				    d->labels[i]);
				bad++;
			}
		if (strncmp(d->name, "zstor_", 6) != 0)
			continue;
		if ((d->type == METRIC_COUNTER) !=
		    ends_with(d->name, "_total")) {
			T_CHECK(0, "%s: _total if and only if a counter",
			    d->name);
			bad++;
		}
		if (d->type == METRIC_HISTOGRAM && d->nbuckets == 0) {
			T_CHECK(0, "%s: a histogram without buckets", d->name);
			bad++;
		}
	}
	T_CHECK(bad == 0, "the master's table follows the naming rules");
}

int
main(void)
{
	log_init(NULL, 0);
	test_counters_and_gauges();
	test_follow();
	test_histogram();
	test_collectors();
	test_master_table();
	return t_finish();
}
