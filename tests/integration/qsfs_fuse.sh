# QSFS as deployed: a real 0-db-fs (ZDBFS_BIN) mounted over FUSE on a local
# real 0-db (ZDB_BIN) whose --hook stores each closed data file with `zstor
# store -s` and fetches a missing one with `zstor retrieve`, through the
# daemon, which keeps that 0-db's data directory under its limit and reads
# 0-db-fs's statistics from the mount point. Files of every size written
# through the mount read back bit-exact after the cache was evicted and the
# file system mounted again, every missing data file fetched by the hook.
#
# Skipped unless both ZDBFS_BIN and ZDB_BIN name the programs (neither is
# packaged for Debian) and FUSE can mount here.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
. "$(dirname "$0")/lib-qsfs.sh"
zt_init
zd_init
D=$ZT_DIR

if [[ -z ${ZDBFS_BIN:-} || -z ${ZDB_BIN:-} ]]; then
	zt_skip "QSFS over FUSE needs a real 0-db-fs and 0-db (set ZDBFS_BIN and ZDB_BIN)"
	zt_done
fi
if [[ ! -c /dev/fuse ]]; then
	zt_skip "no /dev/fuse here: QSFS over FUSE is not tried"
	zt_done
fi

FPID=
qf_unmount() {	# 0 when 0-db-fs unmounted and ended by itself
	local rc=0
	[[ -n $FPID ]] || return 0
	if ! zd_wait_for 5 fusermount3 -u "$D/mnt"; then
		rc=1
		kill -KILL "$FPID" 2>/dev/null
		umount -l "$D/mnt" 2>/dev/null
	fi
	wait "$FPID" 2>/dev/null
	FPID=
	return $rc
}
trap 'qf_unmount; zq_local_stop; zd__cleanup; zt__cleanup' EXIT

for i in $(seq 0 14); do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
CACHE=$D/local/data/zdbfs-data
LIMIT_MIB=16
PORT=$(zt__free_port)
mkdir -p "$D/mnt"
groups=()
for g in 0 1 2; do
	s=
	for j in 0 1 2 3 4; do s="$s $(zd_be "d$((g * 5 + j))")"; done
	groups+=("$s")
done
ZD_EXTRA="zdb_data_dir_path = \"$CACHE\"
max_zdb_data_dir_size = $LIMIT_MIB
prometheus_port = $PORT
zdbfs_mountpoint = \"$D/mnt\"" zd_config "$D/cfg.toml" 10 15 \
    "$(zd_be m0 m1 m2 m3)" "${groups[@]}"

zq_hook "$D/cfg.toml"
ZD_MASTER_ARGS="--evict-interval 1" zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "the daemon serves" kill -0 "$ZD_PID"

# The local 0-db in mixed mode (0-db-fs makes a sequential namespace for its
# metadata), 4 MiB data files.
zt_check "the local 0-db runs with the hook" zq_local_start --datasize 4M

qf_mount() {	# zdbfs options
	"$ZDBFS_BIN" -o "host=127.0.0.1,port=$LPORT${1:+,$1}" "$D/mnt" \
	    >>"$D/zdbfs.log" 2>&1 &
	FPID=$!
	zd_wait_for 10 mountpoint -q "$D/mnt"
}
if ! qf_mount autons; then
	FPID=
	zt_skip "0-db-fs cannot mount here ($(tail -n 1 "$D/zdbfs.log")): QSFS over FUSE is not tried"
	zt_done
fi
zt_check "0-db-fs is mounted on the local 0-db" mountpoint -q "$D/mnt"

# 48 MiB: random, text and compressible files, a source tree, 200 small
# files, and an empty one.
mkdir -p "$D/src"
head -c $((16 << 20)) /dev/urandom >"$D/src/random.bin"
"$ZT_BUILD/tools/bench-stages" gen text 16 "$D/src/text.txt"
"$ZT_BUILD/tools/bench-stages" gen compressible 16 "$D/src/zeroish.bin"
cp -r "$(dirname "$0")/../../shared" "$D/src/tree"
for i in $(seq 1 200); do head -c $((i * 397)) /dev/urandom >"$D/src/small$i"; done
: >"$D/src/empty"
sums() { (cd "$1" && find . -type f -exec sha256sum {} + | sort -k 2); }
sums "$D/src" >"$D/sums"
zt_check "the files are written through the mount" cp -r "$D/src/." "$D/mnt/"
sync
stored() { (($(grep -c '^jump-data' "$D/hook.log" 2>/dev/null) >= 8)); }
zt_check "0-db's closed data files went to zstor (the jump-data hook)" zd_wait_for 120 stored
cache_bytes() {
	find "$CACHE" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
under() { (($(cache_bytes) < LIMIT_MIB * 1024 * 1024)); }
zt_check "the evictor brings the data directory under $LIMIT_MIB MiB" zd_wait_for 60 under
zt_check "... by deleting data files zstor holds" zt_log_has "$D/daemon.log" "evictor: deleted $CACHE/d"

M() { curl -s -m 10 "http://127.0.0.1:$PORT/metrics"; }
up() { M | grep -q '^zstor_zdbfs_up 1$'; }
zt_check "the daemon reads 0-db-fs's statistics (zstor_zdbfs_up 1)" zd_wait_for 15 up
reqs() { M | awk '$1 ~ /^fs_fuse_reqs/ && $2 > 0 { f = 1 } END { exit !f }'; }
zt_check "... and exports its request count (fs_fuse_reqs)" zd_wait_for 15 reqs

# Mounted again, 0-db-fs has no cache: every read goes to 0-db, which
# fetches the evicted data files through the missing-data hook.
zt_check "0-db-fs unmounts while the daemon runs (fusermount3 -u)" qf_unmount
zt_check "0-db-fs mounts again" qf_mount
sums "$D/mnt" >"$D/sums2"
zt_check "every file reads back bit-exact ($(wc -l <"$D/sums") files)" cmp "$D/sums" "$D/sums2"
zt_check "... the evicted data files came back through the missing-data hook" \
    grep -q '^missing-data' "$D/hook.log"
zt_check_eq "no hook command failed" 0 "$(grep -ciE 'error|fail' "$D/hook-client.log")"
zt_check "... and the data directory goes back under its limit" zd_wait_for 60 under
qf_unmount
zt_done
