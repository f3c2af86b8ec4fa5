/* The repairer: backend health checks and the repair sweep.
 *
 * This version only starts, enters its sandbox and answers the master (config,
 * ping). Its duties come in a later step: every 3 s a health check of every
 * backend (sent to the master as "health"), every 600 s a sweep that asks the
 * metawriter for batches of metadata keys and sends "repair" {key} for objects
 * with a shard on an unreachable backend; the master already queues such a
 * repair as a rebuild at the lowest priority. */
#include <string.h>

#include "log.h"
#include "worker.h"

int
repairer_dispatch(struct worker *w, struct msg *m, int fd)
{
	struct err e;

	(void)fd;
	err_set(&e, "the repairer does not take %s messages", msg_type(m));
	log_warnx("%s", e.msg);
	return worker_result_fail(w, msg_get_int(m, "job"), &e);
}
