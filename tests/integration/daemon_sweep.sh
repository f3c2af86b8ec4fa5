# The repair sweep and the metadata re-dispersal (zstor-master with short
# intervals), against the double or real 0-db (ZDB_BIN), with one dir:
# backend among the data backends:
#   - a shard corrupted, truncated or deleted on the dir: backend: the scrub
#     finds it and the object is rebuilt (the next sweep finds nothing);
#   - a data backend killed: once unreachable, its objects are rebuilt on the
#     others; then P=2 more are killed and every object retrieves bit-exact;
#   - more objects than one SCAN batch, a metadata backend replaced and
#     SIGUSR1: every record is saved again over the current 4, and every
#     object retrieves with the two untouched old metadata backends stopped;
#   - bad metadata is logged and skipped; the sweep and the daemon go on.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
mkdir -p "$D/files" "$D/disk" "$D/out"
zd_dirs_for_workers "$D" "$D/disk"
for i in 0 1 2 3 4; do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3 4; do zt_zdb_start "m$i" user; done
DATA="$(zd_be d0 d1 d2 d3 d4) dir:$D/disk#dd"
zd_config "$D/cfg.toml" 2 4 "$(zd_be m0 m1 m2 m3)" "$DATA"
Z() { zd_client "$D/cfg.toml" "$D/client.log" "$@"; }
ZD_MASTER_ARGS="--check-interval 0.3 --unreachable-after 2 \
--sweep-interval 2 --scrub-rate 50000000" \
    zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "the daemon serves" kill -0 "$ZD_PID"
L=$D/daemon.log
N=45	# more than the double's SCAN batch (32) and a meta_scan piece (24)
for ((i = 0; i < N; i++)); do head -c $((5000 + i * 97)) /dev/urandom \
    >"$D/files/f$i"; done
stored=0
for ((i = 0; i < N; i++)); do Z store -f "$D/files/f$i" && stored=$((stored + 1)); done
zt_check_eq "$N objects stored" "$N" "$stored"

all_retrieve() {
	local i
	for ((i = 0; i < N; i++)); do
		cp "$D/files/f$i" "$D/out/f$i"
		Z retrieve -f "$D/files/f$i" >/dev/null 2>&1 || return 1
		cmp -s "$D/files/f$i" "$D/out/f$i" || return 1
	done
}
# The next sweep that starts after this call; its summary line. A sweep
# already running when it is called may end after it: its line is not the one.
next_sweep() {
	local mark
	mark=$(wc -l <"$L")
	zt_wait_for 60 eval "tail -n +$((mark + 1)) '$L' | grep -q 'sweep: starting'" &&
	    zt_wait_for 120 eval "sweep_after $mark | grep -q ." &&
	    sweep_after "$mark"
}
sweep_after() {	# MARK: the first "done" after the first "starting" past MARK
	tail -n +$(($1 + 1)) "$L" | awk '/sweep: starting/ { s = 1 }
	    s && /sweep: done/ { print; exit }'
}
out=$(next_sweep)
zt_check "a sweep runs soon after the start and completes" test -n "$out"
zt_check "... it saw every object" grep -q ": $N objects, 0 with" <<<"$out"

# ---- scrub ----
# The shards damaged are those of objects stored now, one each: only a shard
# a store has just made is surely one a record names (the scrub reads no
# other), while an older one may have been replaced meanwhile, on a machine
# loaded enough for a check or a read to time out.
dd_shards() { find "$D/disk/dd" -maxdepth 1 -type f -name '[0-9a-f]*' | sort; }
shards=()
for ((i = N; ${#shards[@]} < 3 && i < N + 40; i++)); do
	head -c $((5000 + i * 97)) /dev/urandom >"$D/files/f$i"
	had=$(dd_shards)
	Z store -f "$D/files/f$i" || break
	new=$(comm -13 <(echo "$had") <(dd_shards))
	[[ -n $new && $(wc -l <<<"$new") -eq 1 ]] && shards+=("$new")
done
N=$i
zt_check_eq "the dir: backend holds a shard of each of 3 new objects" 3 \
    "${#shards[@]}" || { ls -la "$D/disk" "$D/disk/dd"; tail -n 30 "$L"; zt_done; }
printf '\xff' | dd of="${shards[0]}" bs=1 seek=10 conv=notrunc 2>/dev/null
truncate -s 7 "${shards[1]}"
rm -f "${shards[2]}"
zt_log_mark "$L"
out=$(next_sweep)
zt_check "the scrub finds the corrupt, the short and the missing shard" \
	grep -q " 3 with a damaged shard" <<<"$out" ||
    { echo "# the sweep: ${out:-none}"; zt_log_since "$L" | grep -v ' stored ' |
    tail -n 40 | sed 's/^/# /'; }
zt_check "... and queues their rebuilds" grep -q " 3 rebuilds queued" <<<"$out"
repaired() { [[ $(zt_log_since "$L" | grep -c 'repair /zt/meta/.*: done') -ge 3 ]]; }
zt_check "... which are done" zt_wait_for 120 repaired
out=$(next_sweep)
zt_check "the next sweep finds nothing damaged" \
	grep -q "0 with a damaged shard" <<<"$out"
zt_check "every object retrieves bit-exact after the scrub" all_retrieve

# ---- bad metadata is skipped ----
for i in 0 1 2 3; do
	zt_zdb_nscmd "m$i" SET "/zt/meta/00000000000000000000000000000bad" \
	    junk >/dev/null
done
out=$(next_sweep)
zt_check "a sweep goes past bad metadata" grep -q "1 bad metadata" <<<"$out"
zt_check "... and logs it" zt_log_has "$L" "skipping /zt/meta/00000000000000000000000000000bad"

# ---- a dead data backend ----
zt_zdb_stop d0
out=$(next_sweep)
until grep -q "with a shard on an unreachable backend" <<<"$out" &&
    ! grep -q " 0 with a shard on an unreachable backend" <<<"$out"; do
	out=$(next_sweep) || break
	(( SECONDS > 600 )) && break
done
zt_check "a sweep finds the objects of the dead backend" \
	grep -qv " 0 with a shard on an unreachable" <<<"$out"
# The rebuilds that sweep queued run at repair priority, and a sweep may
# start before the last of them is done: the sweeps after it, for a while.
t0=$SECONDS
out=$(next_sweep)
until grep -q " 0 with a shard on an unreachable backend" <<<"$out" ||
    (( SECONDS > t0 + 180 )); do
	out=$(next_sweep) || break
done
zt_check "after their rebuilds no object has a shard there" \
	grep -q " 0 with a shard on an unreachable backend" <<<"$out"
zt_zdb_stop d1
zt_zdb_stop d2
zt_check "with P=2 more data backends killed every object retrieves bit-exact" \
	all_retrieve

# ---- re-dispersal after a metadata backend is replaced ----
zt_zdb_restart d1
zt_zdb_restart d2
zd_config "$D/cfg.toml" 2 4 "$(zd_be m0 m1 m2 m4)" "$DATA"
zt_log_mark "$L"
kill -USR1 "$ZD_PID"
redisp_done() { zt_log_since "$L" | grep -q "metadata re-dispersal: done"; }
zt_check "the re-dispersal completes" zt_wait_for 120 redisp_done
zt_check "... having saved every record" eval \
	"zt_log_since '$L' | grep 'metadata re-dispersal: done' | grep -q '$N keys saved'"
zt_zdb_stop m0
zt_zdb_stop m1
zt_check "every object retrieves with the two untouched old metadata backends stopped" \
	all_retrieve
zt_check "the daemon still serves" kill -0 "$ZD_PID"
zt_done
