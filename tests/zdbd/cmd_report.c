/* INFO and NSINFO: the text reports, field for field in 0-db v2.0.7's order and
 * number formats, since clients (zstor among them) parse them. Figures that
 * depend on 0-db's files (index and data sizes, offsets) are worked out the way
 * 0-db would count them; the I/O statistics are zero. */
#include <sys/statvfs.h>

#include <byteswap.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "zdbd.h"

#define DATA_FILE_HEADER	28	/* an empty 0-db data file */
#define MIB			(1024.0 * 1024.0)

/* f_bsize * f_bavail, as 0-db. */
static uint64_t
disk_free(const char *dir)
{
	struct statvfs st;

	if (statvfs(dir, &st) == -1)
		return 0;
	return (uint64_t)st.f_bsize * st.f_bavail;
}

static void
reply_text(struct call *c, struct evbuffer *text)
{
	size_t len = evbuffer_get_length(text);

	evbuffer_add_printf(c->out, "$%zu\r\n", len);
	evbuffer_add_buffer(c->out, text);
	evbuffer_add(c->out, "\r\n", 2);
}

static void
nsinfo_sizes(struct evbuffer *t, const struct ns *ns)
{
	evbuffer_add_printf(t, "data_size_bytes: %" PRIu64 "\n", ns->data_size);
	evbuffer_add_printf(t, "data_size_mb: %.2f\n", ns->data_size / MIB);
	evbuffer_add_printf(t, "data_limits_bytes: %" PRIu64 "\n",
	    ns->maxsize);
	evbuffer_add_printf(t, "index_size_bytes: %" PRIu64 "\n",
	    ns->index_size);
	evbuffer_add_printf(t, "index_size_kb: %.2f\n",
	    ns->index_size / 1024.0);
	/* 0-db prints the id byte-swapped with %08x: 1 shows as
	 * 0x100000000000000. */
	evbuffer_add_printf(t, "next_internal_id: 0x%08" PRIx64 "\n",
	    bswap_64(ns->next_id));
	evbuffer_add_printf(t, "mode: %s\n",
	    ns->mode == NS_USERKEY ? "userkey" : "sequential");
	evbuffer_add_printf(t, "stats_index_io_errors: 0\n"
	    "stats_index_io_error_last: 0\nstats_index_faults: 0\n"
	    "stats_data_io_errors: 0\nstats_data_io_error_last: 0\n"
	    "stats_data_faults: 0\n");
	if (ns->maxsize > 0)
		evbuffer_add_printf(t, "space_available: %" PRIu64 "\n",
		    ns->maxsize - ns->data_size);
}

static void
nsinfo_disks(struct evbuffer *t, const struct zdbd *srv, const struct ns *ns)
{
	uint64_t ifree = disk_free(srv->indexdir);
	uint64_t dfree = disk_free(srv->datadir);

	evbuffer_add_printf(t, "index_disk_freespace_bytes: %" PRIu64 "\n"
	    "index_disk_freespace_mb: %.2f\n", ifree, ifree / MIB);
	evbuffer_add_printf(t, "data_disk_freespace_bytes: %" PRIu64 "\n"
	    "data_disk_freespace_mb: %.2f\n", dfree, dfree / MIB);
	/* Admin-only in 0-db; without --admin every client is admin. */
	evbuffer_add_printf(t, "data_path: %s/%s\n", srv->datadir, ns->name);
	evbuffer_add_printf(t, "data_active: %s/%s/d0\n", srv->datadir,
	    ns->name);
	evbuffer_add_printf(t, "index_path: %s/%s\n", srv->indexdir, ns->name);
	evbuffer_add_printf(t, "index_active: %s/%s/i0\n", srv->indexdir,
	    ns->name);
	evbuffer_add_printf(t, "data_current_id: 0\n"
	    "data_current_offset: %" PRIu64 "\n",
	    DATA_FILE_HEADER + ns->data_offset);
}

enum cmd_result
cmd_nsinfo(struct call *c)
{
	struct evbuffer *t;
	const struct ns *ns;

	if (c->argc != 2) {
		reply_error(c->out, "Unexpected arguments");
		return CMD_NEXT;
	}
	if ((ns = zdbd_find_ns(c->srv, c->argv[1], c->argl[1])) == NULL) {
		reply_error(c->out, "Namespace not found");
		return CMD_NEXT;
	}
	if ((t = evbuffer_new()) == NULL) {
		reply_error(c->out, "Internal memory error");
		return CMD_NEXT;
	}
	evbuffer_add_printf(t, "# namespace\nname: %s\nentries: %zu\n"
	    "public: %s\nworm: %s\nlocked: %s\npassword: %s\n", ns->name,
	    ns->entries, ns->public ? "yes" : "no", ns->worm ? "yes" : "no",
	    ns->lock != NS_UNLOCKED ? "yes" : "no",
	    ns->has_password ? "yes" : "no");
	nsinfo_sizes(t, ns);
	nsinfo_disks(t, c->srv, ns);
	reply_text(c, t);
	evbuffer_free(t);
	return CMD_NEXT;
}

enum cmd_result
cmd_info(struct call *c)
{
	const struct zdbd *srv = c->srv;
	struct evbuffer *t;

	if ((t = evbuffer_new()) == NULL) {
		reply_error(c->out, "Internal memory error");
		return CMD_NEXT;
	}
	evbuffer_add_printf(t, "# server\nserver_name: 0-db (zdb)\n"
	    "server_revision: 2.0.7\nengine_revision: 2.0.7\n"
	    "instance_id: %u\nboot_time: %lld\nuptime: %lld\n\n",
	    srv->instance_id, (long long)srv->boot,
	    (long long)(time(NULL) - srv->boot));
	evbuffer_add_printf(t, "# clients\nclients_lifetime: %" PRIu64 "\n\n",
	    srv->clients_lifetime);
	evbuffer_add_printf(t, "# internals\nsequential_key_size: 8\n"
	    "data_version: 3\nindex_version: 4\n\n");
	evbuffer_add_printf(t, "# stats\ncommands_executed: %" PRIu64 "\n"
	    "commands_failed: 0\ncommands_unauthorized: 0\n",
	    srv->commands_executed);
	evbuffer_add_printf(t, "index_disk_read_failed: 0\n"
	    "index_disk_write_failed: 0\ndata_disk_read_failed: 0\n"
	    "data_disk_write_failed: 0\n");
	evbuffer_add_printf(t, "index_disk_read_bytes: 0\nindex_disk_read_mb: "
	    "0.00\nindex_disk_write_bytes: 0\nindex_disk_write_mb: 0.00\n"
	    "data_disk_read_bytes: 0\ndata_disk_read_mb: 0.00\n"
	    "data_disk_write_bytes: 0\ndata_disk_write_mb: 0.00\n");
	evbuffer_add_printf(t, "network_rx_bytes: 0\nnetwork_rx_mb: 0.00\n"
	    "network_tx_bytes: 0\nnetwork_tx_mb: 0.00\n");
	reply_text(c, t);
	evbuffer_free(t);
	return CMD_NEXT;
}
