# 0-db-fs statistics (zdbfs_mountpoint): a FUSE file system that answers
# 0-db-fs's ioctl with known values (tests/tools/zdbfs-stub.c); every fs_
# metric carries its field; a 0-db-fs restart (counters back to small
# values) does not make the counters go down; an error, then a hang of the
# file system: the metrics say so, the master keeps serving (scrapes,
# stores), and both recover; 0-db-fs unmounts while the daemon runs (it
# holds the mount point only during a poll); a reload without the mount point
# stops the polls. Skipped, saying so, where /dev/fuse is missing or FUSE cannot mount.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
STUB=

zf_cleanup() {
	if [[ -n $STUB ]]; then
		echo ok >"$D/mode"	# a hung stub answers, and can go
		kill -TERM "$STUB" 2>/dev/null
		wait "$STUB" 2>/dev/null
		STUB=
	fi
	# also a mount whose stub was killed (not a mount point to stat)
	grep -q " $D/mnt fuse" /proc/mounts && umount -l "$D/mnt"
}
trap 'zf_cleanup; zd__cleanup; zt__cleanup' EXIT

if [[ ! -c /dev/fuse ]]; then
	zt_skip "no /dev/fuse here: the 0-db-fs statistics are not tried"
	zt_done
fi
mkdir -p "$D/mnt" "$D/files"
echo ok >"$D/mode"
"$ZT_BUILD/tools/zdbfs-stub" "$D/mnt" "$D/mode" 2>"$D/stub.log" &
STUB=$!
mounted() { grep -q "mounted on" "$D/stub.log" || ! kill -0 "$STUB" 2>/dev/null; }
zt_wait_for 10 mounted
if ! kill -0 "$STUB" 2>/dev/null || ! mountpoint -q "$D/mnt"; then
	STUB=
	zt_skip "FUSE cannot mount here ($(tail -n 1 "$D/stub.log")): the 0-db-fs statistics are not tried"
	zt_done
fi

for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
PORT=$(zt__free_port)
zf_config() {
	ZD_EXTRA="prometheus_port = $PORT${1:+
zdbfs_mountpoint = \"$1\"}" zd_config "$D/cfg.toml" 4 6 \
	    "$(zd_be m0 m1 m2 m3)" "$(zd_be d0 d1 d2 d3 d4 d5)"
}
zf_config "$D/mnt"
Z() { zd_client "$D/cfg.toml" "$D/client.log" "$@"; }
M() { curl -s -m 10 "http://127.0.0.1:$PORT/metrics"; }
metric() { M | awk -v s="$1" '$1 == s { print $2 }'; }
is() { [[ $(metric "$1") == "$2" ]]; }

zf_write() { zf_config "$D/mnt"; }
zt_log_mark "$D/daemon.log"
zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "the daemon serves" kill -0 "$ZD_PID"
zt_check "... and its metrics" zd_metrics_serve "$D/daemon.log" zf_write
zt_check "it polls the mount point" zt_log_has "$D/daemon.log" "0-db-fs statistics from $D/mnt every 1 s"
zt_check "zstor_zdbfs_up 1" zd_wait_for 15 is zstor_zdbfs_up 1

# ---- every field where upstream exports it ----
M >"$D/scrape"
want="fs_fuse_reqs 1000
fs_cache_hits 2000
fs_cache_miss 3000
fs_cache_full 4000
fs_cache_linear_flush 5000
fs_cache_random_flush 6000
fs_cache_branches 7000
fs_cache_branches_allocated 8000
fs_cache_entries 9000
fs_cache_blocks 10000
fs_cache_blocksize 11000"
i=12
for s in getattr setattr create readdir open read write mkdir unlink rmdir \
    rename link symlink statsfs ioctl; do
	want="$want
fs_syscalls{syscall=\"$s\"} $((i * 1000))"
	i=$((i + 1))
done
want="$want
fs_bytes_read 27000
fs_bytes_written 28000
fs_fuse_errors 29000"
got=$(grep -E '^fs_' "$D/scrape")
zt_check_eq "every fs_ metric carries its field of the ioctl" "$want" "$got"
zt_check "types as upstream: fs_fuse_reqs a counter, fs_cache_full a gauge" \
    bash -c "grep -qx '# TYPE fs_fuse_reqs counter' '$D/scrape' && grep -qx '# TYPE fs_cache_full gauge' '$D/scrape'"

# ---- 0-db-fs restarts: its counters start again from small values ----
echo reset >"$D/mode"
zt_check "after a restart of 0-db-fs the counters go on (1000 + 10)" \
    zd_wait_for 15 is fs_fuse_reqs 1010
zt_check_eq "... and gauges show the new value" 40 "$(metric fs_cache_full)"

# ---- an error: reopened, counted, and over ----
errors=$(metric zstor_zdbfs_poll_errors_total)
zt_log_mark "$D/daemon.log"
echo eio >"$D/mode"
zt_check "an ioctl error: zstor_zdbfs_up 0" zd_wait_for 15 is zstor_zdbfs_up 0
zt_check "... counted" test "$(metric zstor_zdbfs_poll_errors_total)" -gt "$errors"
zt_check "... logged once" zt_log_has "$D/daemon.log" "0-db-fs statistics from $D/mnt: Input/output error; trying again"
zt_check_eq "... the counters keep their values" 1010 "$(metric fs_fuse_reqs)"
echo ok >"$D/mode"
zt_check "the mount point is opened again: zstor_zdbfs_up 1" zd_wait_for 15 is zstor_zdbfs_up 1
zt_check "... logged" zt_log_has "$D/daemon.log" "0-db-fs statistics from $D/mnt again"
zt_check_eq "... the counters grow from where they were (1010 + 990)" 2000 "$(metric fs_fuse_reqs)"
zt_check_eq "one warning for the whole outage" 1 \
    "$(zt_log_since "$D/daemon.log" | grep -c 'Input/output error')"

# ---- a hung 0-db-fs never holds the master up ----
zt_log_mark "$D/daemon.log"
echo hang >"$D/mode"
zt_check "a hung 0-db-fs: zstor_zdbfs_up 0 after the poll's deadline" \
    zd_wait_for 20 is zstor_zdbfs_up 0
zt_check "... logged" zt_log_has "$D/daemon.log" "no answer to the ioctl within 5 s"
t0=$(date +%s%N)
M >/dev/null
t1=$(date +%s%N)
zt_check "... scrapes answer at once ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 2000
head -c 300000 /dev/urandom >"$D/files/f"
zt_check "... and stores go on" Z store -f "$D/files/f"
zt_check "... checks too" test -n "$(Z check -f "$D/files/f")"
echo ok >"$D/mode"
zt_check "once 0-db-fs answers again, so do the metrics" zd_wait_for 20 is zstor_zdbfs_up 1

# ---- 0-db-fs can be unmounted while the daemon runs ----
# The daemon holds the mount point only during a poll, so a plain umount
# finds it busy at most for that instant, and 0-db-fs ends.
stub_gone() { [[ ! -e /proc/$STUB ]] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$STUB/stat"; }
zt_check "0-db-fs unmounts while the daemon polls it (umount, not lazy)" \
    zd_wait_for 5 umount "$D/mnt"
zt_check "... and its process ends" zd_wait_for 10 stub_gone
stub_gone || kill -KILL "$STUB" 2>/dev/null	# still mounted: cleanup unmounts
wait "$STUB" 2>/dev/null
STUB=
zt_check "... the daemon says so: zstor_zdbfs_up 0" zd_wait_for 15 is zstor_zdbfs_up 0
zt_check "... and logs why" zt_log_has "$D/daemon.log" \
    "0-db-fs statistics from $D/mnt: Inappropriate ioctl for device (no 0-db-fs is mounted there)"

# ---- a reload without the mount point stops the polls ----
zf_config ""
kill -USR1 "$ZD_PID"
zt_check "a reload without zdbfs_mountpoint: zstor_zdbfs_up 0" zd_wait_for 15 is zstor_zdbfs_up 0
zt_check "... and the upstream fs_ metrics are still shown" test -n "$(metric fs_fuse_reqs)"

zt_done
