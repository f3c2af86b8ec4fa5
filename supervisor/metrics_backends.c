/* The per-backend metrics (upstream's names and labels), read from the
 * master's health table (health.h) at each scrape. A backend whose last
 * check failed keeps only connection_status 0 and its state; one no longer
 * in the config disappears (the families are swept). */
#include "health.h"
#include "metrics.h"

static void
backend_series(const struct health_entry *h, void *arg)
{
	const char *t = h->meta ? "meta" : "data";
	const struct nsinfo *ni = &h->info;
	int up = h->state == HEALTH_HEALTHY || h->state == HEALTH_LOWSPACE;

	(void)arg;
	metric_set(MX(MF_CONNECTION_STATUS, h->address, t, h->ns), up);
	metric_set(MX(MF_BACKEND_STATE, h->address, t, h->ns,
	    health_state_name(h->state)), 1);
	if (!up || !h->has_info)
		return;
	metric_set(MX(MF_ENTRIES, h->address, t, h->ns), (double)ni->entries);
	metric_set(MX(MF_DATA_SIZE, h->address, t, h->ns),
	    (double)ni->data_size_bytes);
	metric_set(MX(MF_DATA_LIMIT, h->address, t, h->ns),
	    (double)(ni->data_limits_bytes > 0 ? ni->data_limits_bytes :
	    ni->data_disk_freespace_bytes));
	metric_set(MX(MF_INDEX_SIZE, h->address, t, h->ns),
	    (double)ni->index_size_bytes);
	metric_follow(MX(MF_INDEX_IO_ERRORS, h->address, t, h->ns),
	    ni->stats_index_io_errors);
	metric_follow(MX(MF_INDEX_FAULTS, h->address, t, h->ns),
	    ni->stats_index_faults);
	metric_follow(MX(MF_DATA_IO_ERRORS, h->address, t, h->ns),
	    ni->stats_data_io_errors);
	metric_follow(MX(MF_DATA_FAULTS, h->address, t, h->ns),
	    ni->stats_data_faults);
	metric_set(MX(MF_INDEX_DISK_FREE, h->address, t, h->ns),
	    (double)ni->index_disk_freespace_bytes);
	metric_set(MX(MF_DATA_DISK_FREE, h->address, t, h->ns),
	    (double)ni->data_disk_freespace_bytes);
}

void
metrics_backends_collect(void *arg)
{
	health_foreach(backend_series, arg);
}
