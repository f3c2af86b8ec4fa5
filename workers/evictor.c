/* The evictor: keeps zdb_data_dir_path under max_zdb_data_dir_size and reads
 * the 0-db-fs statistics of zdbfs_mountpoint.
 *
 * This version only starts (the master runs it when zdb_data_dir_path is set),
 * enters its sandbox, which allows reading and unlinking under that directory
 * and nothing else, and answers the master (config, ping). The eviction pass
 * (every 60 s: oldest-accessed files first, a file deleted only when its
 * metadata exists and its BLAKE2b equals the stored checksum, reported as
 * "evicted") and the 1 s statistics poll come in a later step. */
#include <string.h>

#include "log.h"
#include "worker.h"

int
evictor_dispatch(struct worker *w, struct msg *m, int fd)
{
	struct err e;

	(void)fd;
	err_set(&e, "the evictor does not take %s messages", msg_type(m));
	log_warnx("%s", e.msg);
	return worker_result_fail(w, msg_get_int(m, "job"), &e);
}
