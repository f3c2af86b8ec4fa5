/* Counters, gauges and histograms, and their text in the Prometheus exposition
 * format 0.0.4 (metrics.h). One thread: the master's loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "metrics.h"

#define COLLECTORS_MAX	16

struct metric {
	struct metric	*next;
	int		 fam;
	char		*vals[METRIC_LABELS_MAX];
	double		 value;		/* counter, gauge */
	/* metric_follow: the source's last value, and what its restarts
	 * added */
	uint64_t	 src_last;
	double		 src_base;
	/* histogram: per bucket, the last one for +Inf */
	uint64_t	*counts;
	double		 sum;
	uint64_t	 count;
	uint64_t	 gen;		/* the last collection to set it */
};

struct collector {
	void	(*fn)(void *);
	void	*arg;
};

static const struct metric_def	*defs;
static size_t			 ndefs;
static struct metric		**series;	/* a list per family */
static uint64_t			 generation;
static struct collector		 collectors[COLLECTORS_MAX];
static size_t			 ncollectors;
static int			 oom_logged;

static size_t
def_nlabels(const struct metric_def *d)
{
	size_t n = 0;

	while (n < METRIC_LABELS_MAX && d->labels[n] != NULL)
		n++;
	return n;
}

static void
metric_free(struct metric *m)
{
	size_t i;

	for (i = 0; i < METRIC_LABELS_MAX; i++)
		free(m->vals[i]);
	free(m->counts);
	free(m);
}

void
metrics_init(const struct metric_def *d, size_t n)
{
	struct metric *m;
	size_t i;

	for (i = 0; series != NULL && i < ndefs; i++)
		while ((m = series[i]) != NULL) {
			series[i] = m->next;
			metric_free(m);
		}
	free(series);
	if ((series = calloc(n ? n : 1, sizeof(*series))) == NULL)
		fatalx("out of memory for the metrics");
	defs = d;
	ndefs = n;
	ncollectors = 0;
}

static int
vals_equal(const struct metric *m, const char *const *vals, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(m->vals[i], vals[i]) != 0)
			return 0;
	return 1;
}

static struct metric *
metric_new(int f, const char *const *vals, size_t n)
{
	const struct metric_def *d = &defs[f];
	struct metric *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->fam = f;
	for (i = 0; i < n; i++)
		if ((m->vals[i] = strdup(vals[i])) == NULL) {
			metric_free(m);
			return NULL;
		}
	if (d->type == METRIC_HISTOGRAM &&
	    (m->counts = calloc(d->nbuckets + 1, sizeof(*m->counts))) ==
	    NULL) {
		metric_free(m);
		return NULL;
	}
	return m;
}

struct metric *
metric_of(int f, const char *const *vals)
{
	struct metric *m, **tail;
	size_t n = 0;

	if (f < 0 || (size_t)f >= ndefs)
		fatalx("metric family %d is not in the table", f);
	while (vals[n] != NULL)
		n++;
	if (n != def_nlabels(&defs[f]))
		fatalx("metric %s takes %zu label values, not %zu",
		    defs[f].name, def_nlabels(&defs[f]), n);
	for (tail = &series[f]; (m = *tail) != NULL; tail = &m->next)
		if (vals_equal(m, vals, n)) {
			m->gen = generation;
			return m;
		}
	if ((m = metric_new(f, vals, n)) == NULL) {
		if (!oom_logged++)
			log_warnx("out of memory for the series of metric %s; "
			    "its updates are lost", defs[f].name);
		return NULL;
	}
	m->gen = generation;
	*tail = m;
	return m;
}

void
metric_inc(struct metric *m, double by)
{
	if (m == NULL)
		return;
	if (defs[m->fam].type == METRIC_COUNTER && !(by >= 0))
		fatalx("counter %s must not go down", defs[m->fam].name);
	m->value += by;
}

void
metric_set(struct metric *m, double v)
{
	if (m == NULL)
		return;
	if (defs[m->fam].type != METRIC_GAUGE)
		fatalx("metric %s is not a gauge", defs[m->fam].name);
	m->value = v;
}

void
metric_follow(struct metric *m, uint64_t v)
{
	if (m == NULL)
		return;
	if (v < m->src_last)		/* the source restarted from 0 */
		m->src_base += (double)m->src_last;
	m->src_last = v;
	m->value = m->src_base + (double)v;
}

void
metric_observe(struct metric *m, double v)
{
	const struct metric_def *d;
	size_t i;

	if (m == NULL)
		return;
	d = &defs[m->fam];
	if (d->type != METRIC_HISTOGRAM)
		fatalx("metric %s is not a histogram", d->name);
	for (i = 0; i < d->nbuckets && v > d->buckets[i]; i++)
		;
	m->counts[i]++;
	m->count++;
	m->sum += v;
}

double
metric_value(const struct metric *m)
{
	if (m == NULL)
		return 0;
	return defs[m->fam].type == METRIC_HISTOGRAM ? (double)m->count :
	    m->value;
}

void
metrics_collector_add(void (*fn)(void *), void *arg)
{
	if (ncollectors == COLLECTORS_MAX)
		fatalx("more than %d metrics collectors", COLLECTORS_MAX);
	collectors[ncollectors].fn = fn;
	collectors[ncollectors].arg = arg;
	ncollectors++;
}

/* Series of swept families that the collectors did not set this time. */
static void
metrics_sweep(void)
{
	struct metric *m, **link;
	size_t f;

	for (f = 0; f < ndefs; f++) {
		if (!defs[f].swept)
			continue;
		for (link = &series[f]; (m = *link) != NULL;)
			if (m->gen != generation) {
				*link = m->next;
				metric_free(m);
			} else
				link = &m->next;
	}
}

/* The shortest text that reads back as v; Prometheus' spellings of the
 * infinities and NaN. */
static void
fmt_double(char *out, size_t len, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(out, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, len, "%.0f", v);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(out, len, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, len, "%.17g", v);
}

/* HELP text escapes \ and newline; label values also ". */
static int
add_escaped(struct evbuffer *out, const char *s, int quote)
{
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '\\')
			rc = evbuffer_add(out, "\\\\", 2);
		else if (*s == '\n')
			rc = evbuffer_add(out, "\\n", 2);
		else if (*s == '"' && quote)
			rc = evbuffer_add(out, "\\\"", 2);
		else
			rc = evbuffer_add(out, s, 1);
	}
	return rc;
}

/* name{l1="v1",...,extra="xv"} value: extra is a histogram's le. */
static int
add_sample(struct evbuffer *out, const struct metric *m, const char *suffix,
    const char *extra, const char *xval, double v)
{
	const struct metric_def *d = &defs[m->fam];
	size_t i, n = def_nlabels(d);
	char num[40];
	int rc;

	rc = evbuffer_add_printf(out, "%s%s", d->name, suffix) < 0;
	for (i = 0; i < n + (extra != NULL) && rc == 0; i++) {
		rc = evbuffer_add_printf(out, "%s%s=\"", i ? "," : "{",
		    i < n ? d->labels[i] : extra) < 0;
		if (rc == 0)
			rc = add_escaped(out, i < n ? m->vals[i] : xval, 1);
		if (rc == 0)
			rc = evbuffer_add(out, "\"", 1);
	}
	if (rc == 0 && i > 0)
		rc = evbuffer_add(out, "}", 1);
	fmt_double(num, sizeof(num), v);
	if (rc == 0)
		rc = evbuffer_add_printf(out, " %s\n", num) < 0;
	return rc ? -1 : 0;
}

static int
add_histogram(struct evbuffer *out, const struct metric *m)
{
	const struct metric_def *d = &defs[m->fam];
	uint64_t cum = 0;
	char le[40];
	size_t i;

	for (i = 0; i <= d->nbuckets; i++) {
		cum += m->counts[i];
		if (i < d->nbuckets)
			fmt_double(le, sizeof(le), d->buckets[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		if (add_sample(out, m, "_bucket", "le", le, (double)cum) == -1)
			return -1;
	}
	if (add_sample(out, m, "_sum", NULL, NULL, m->sum) == -1 ||
	    add_sample(out, m, "_count", NULL, NULL, (double)m->count) == -1)
		return -1;
	return 0;
}

static int
add_family(struct evbuffer *out, size_t f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	const struct metric_def *d = &defs[f];
	const struct metric *m;

	if (series[f] == NULL)
		return 0;	/* as upstream: left out without series */
	if (evbuffer_add_printf(out, "# HELP %s ", d->name) < 0 ||
	    add_escaped(out, d->help, 0) == -1 ||
	    evbuffer_add_printf(out, "\n# TYPE %s %s\n", d->name,
	    types[d->type]) < 0)
		return -1;
	for (m = series[f]; m != NULL; m = m->next)
		if ((d->type == METRIC_HISTOGRAM ? add_histogram(out, m) :
		    add_sample(out, m, "", NULL, NULL, m->value)) == -1)
			return -1;
	return 0;
}

int
metrics_render(struct evbuffer *out)
{
	size_t i;

	generation++;
	for (i = 0; i < ncollectors; i++)
		collectors[i].fn(collectors[i].arg);
	metrics_sweep();
	for (i = 0; i < ndefs; i++)
		if (add_family(out, i) == -1)
			return -1;
	return 0;
}
