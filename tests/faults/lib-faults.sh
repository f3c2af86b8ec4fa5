# Helpers of the fault-injection suite (faults.sh), on top of lib.sh,
# lib-config.sh and lib-daemon.sh: the cluster, the faults, the objects and
# what may be read back.
#
# The cluster: data backends d0..d7 (seq), metadata backends m0..m3 (user),
# 4+2 shards, so 2 data backends are spares. Two configs on the same backends:
# solo.toml (standalone zstor) and cfg.toml (through zstor-master). Objects
# obj0..obj{FZ_K-1} live under $FZ_TGT (their key path and retrieve target);
# each version's source is written under $ZT_DIR/src and stored with -k.
#
# As root, $FZ_TMP (the scratch files' $TMPDIR, client and daemon) and $FZ_TGT
# are small tmpfs mounts, so they can be filled; otherwise those faults are
# not drawn (and said so).

# scripts/run-tests skips lib*.sh: helpers, not suites.

FZ_K=${FAULT_OBJECTS:-3}
FZ_DATA=(d0 d1 d2 d3 d4 d5 d6 d7)
FZ_META=(m0 m1 m2 m3)
FZ_OP_TIMEOUT_MS=${FAULT_OP_TIMEOUT_MS:-1500}
# A store that fails with one of these messages may have landed (its outcome
# is in doubt): readers may then find its version. The first is what zstor
# says of a metadata update it could neither finish nor undo; the second, the
# daemon's connection closing before its answer: the client cannot know how
# far the store went.
FZ_DOUBT_RE='readers may see the new or the previous version'
FZ_DOUBT_RE+='|closed the connection without an answer'
FZ_DOUBT_RE=${FAULT_DOUBT_RE:-$FZ_DOUBT_RE}

# Per object: checksum and version number acknowledged last, the checksums a
# reader may find, the last version made.
declare -ga FZ_ACK=() FZ_ACKV=() FZ_OK=() FZ_VER=()
declare -g FZ_MOUNTS="" FZ_FILL=0
declare -gi FZ_FAULTS=0 FZ_CHECKED=0 FZ_LOST=0 FZ_BAD=0

fz_b2() { b2sum -l 128 "$1" | cut -d' ' -f1; }

# ---- set-up ----

fz__mount() {	# DIR SIZE: a small tmpfs, as root
	mkdir -p "$1"
	((FZ_FILL)) || return 0
	if mount -t tmpfs -o "size=$2,mode=1777" tmpfs "$1"; then
		FZ_MOUNTS="$1 $FZ_MOUNTS"
	else
		FZ_FILL=0
	fi
}

fz__umount() {
	local m

	for m in $FZ_MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	FZ_MOUNTS=""
}

fz_init() {
	local i

	FZ_TMP=$ZT_DIR/tmp FZ_TGT=$ZT_DIR/tgt
	((EUID == 0)) && FZ_FILL=1
	fz__mount "$FZ_TMP" 32m
	fz__mount "$FZ_TGT" 64m
	trap 'zd__cleanup; fz__umount; zt__cleanup' EXIT
	mkdir -p "$ZT_DIR/src" "$ZT_DIR/ver"
	for i in "${FZ_DATA[@]}"; do zt_zdb_start "$i" seq || return 1; done
	for i in "${FZ_META[@]}"; do zt_zdb_start "$i" user || return 1; done
	ZT_CONFIG_EXTRA="" zt_write_config "$ZT_DIR/solo.toml" 4 6 0 0 \
	    "$(zd_be "${FZ_META[@]}")" "$(zd_be "${FZ_DATA[@]}")"
	zd_config "$ZT_DIR/cfg.toml" 4 6 "$(zd_be "${FZ_META[@]}")" \
	    "$(zd_be "${FZ_DATA[@]}")"
	fz_daemon_start && FZ_ENCODERS=$(zd_workers encoder | wc -l)
}

fz_daemon_start() {
	TMPDIR=$FZ_TMP ZSTOR_TIMEOUT_MS=$FZ_OP_TIMEOUT_MS \
	    ZD_MASTER_ARGS=$FZ_MASTER_ARGS \
	    zd_start "$ZT_DIR/cfg.toml" "$ZT_DIR/daemon.log"
}

# ---- clients ----

# fz_zstor solo|daemon ARGS...: one command as a round runs it (short backend
# deadline, scratch files in $FZ_TMP).
fz_zstor() {
	local cfg=$ZT_DIR/solo.toml

	[[ $1 == daemon ]] && cfg=$ZT_DIR/cfg.toml
	shift
	TMPDIR=$FZ_TMP ZSTOR_TIMEOUT_MS=$FZ_OP_TIMEOUT_MS timeout 60 \
	    "$ZT_ZSTOR" -c "$cfg" --log_file "$ZT_DIR/client.log" "$@"
}

# The invariant's reader: standalone, default deadline, healthy cluster.
fz_reader() {
	timeout 120 "$ZT_ZSTOR" -c "$ZT_DIR/solo.toml" \
	    --log_file "$ZT_DIR/reader.log" "$@"
}

# ---- faults ----
#
# A fault is "KIND [TARGET]": kill, restart, stop, lock or full of a backend;
# master, encoder, metawriter or repairer (kill -9, daemon rounds only);
# tmpfull or tgtfull. fz_inject starts it, fz_heal ends it.

fz__fill() {	# DIR: fill the filesystem to the last byte
	head -c 64m /dev/zero >"$1/.filler" 2>/dev/null
	return 0
}

fz_inject() {
	local kind=$1 t=${2:-} pid

	FZ_FAULTS+=1
	case $kind in
	kill) zt_zdb_stop "$t" ;;
	restart) zt_zdb_restart "$t" ;;
	stop) zt_zdb_hang "$t" ;;
	lock) zt_zdb_readonly "$t" ;;
	full) zt_zdb_full "$t" ;;
	master)	# waited for here, so the shell does not report it
		{ kill -KILL "$ZD_PID"; wait "$ZD_PID"; } 2>/dev/null
		ZD_PID=
		;;
	encoder | metawriter | repairer)
		pid=$(zd_workers "$kind" | head -n 1)
		[[ -n $pid ]] && kill -KILL "$pid"
		;;
	tmpfull) fz__fill "$FZ_TMP" ;;
	tgtfull) fz__fill "$FZ_TGT" ;;
	esac
}

fz__workers_back() {	# ROLE COUNT
	(($(zd_workers "$1" | wc -l) >= $2))
}

fz_heal() {
	local kind=$1 t=${2:-}

	case $kind in
	kill) zt_zdb_restart "$t" ;;
	stop) zt_zdb_unhang "$t" ;;
	lock) zt_zdb_readwrite "$t" ;;
	full) zt_zdb_unfull "$t" ;;
	master) fz_daemon_start ;;
	encoder | metawriter | repairer) ;;	# the master starts it again
	tmpfull) rm -f "$FZ_TMP/.filler" ;;
	tgtfull) rm -f "$FZ_TGT/.filler" ;;
	esac
}

# Every backend and the daemon serve again (a killed worker comes back on its
# own, after the master's back-off; fz_workers_back checks that at the end).
fz_all_well() {
	local b

	for b in "${FZ_DATA[@]}" "${FZ_META[@]}"; do
		if [[ -z ${ZT_ZDB_PID[$b]} ]] || ! kill -0 "${ZT_ZDB_PID[$b]}" \
		    2>/dev/null; then
			zt_zdb_restart "$b" || return 1
		fi
	done
	if [[ -z $ZD_PID ]] || ! kill -0 "$ZD_PID" 2>/dev/null; then
		[[ -n $ZD_PID ]] && wait "$ZD_PID" 2>/dev/null
		ZD_PID=
		fz_daemon_start || return 1
	fi
}

fz_workers_back() {
	zd_wait_for 20 fz__workers_back metawriter 1 &&
	    zd_wait_for 20 fz__workers_back repairer 1 &&
	    zd_wait_for 20 fz__workers_back encoder "$FZ_ENCODERS"
}

# ---- objects ----

fz_target() { echo "$FZ_TGT/obj$1"; }

# fz_new_version I: a new source for object I, its content kept aside as
# version FZ_VER[I]; its checksum in FZ_SUM. (No command substitution here
# nor in the draws: a subshell's draws would not advance the round's RANDOM.)
fz_new_version() {
	local i=$1 n size

	n=$((${FZ_VER[$i]:-0} + 1))
	FZ_VER[$i]=$n
	# From empty to over one 2 MiB piece per shard (1 in 60), mostly small.
	size=$((RANDOM * 8 + RANDOM % 8))
	case $((RANDOM % 60)) in
	0 | 1 | 2) size=0 ;;
	3) size=$((8 * 1024 * 1024 + RANDOM)) ;;
	4 | 5 | 6 | 7 | 8 | 9 | 1?) size=$((RANDOM % 2000)) ;;
	2? | 3?) size=$((RANDOM * 64 + RANDOM)) ;;
	esac
	head -c "$size" /dev/urandom >"$ZT_DIR/ver/obj$i.$n"
	cp "$ZT_DIR/ver/obj$i.$n" "$ZT_DIR/src/obj$i"
	FZ_SUM=$(fz_b2 "$ZT_DIR/src/obj$i")
}

# What a reader may find for object I: the version acknowledged last, or a
# later one whose store ended in doubt.
fz_allowed() {	# I CHECKSUM
	[[ " ${FZ_OK[$1]:-} " == *" $2 "* ]]
}

# Temporary files a retrieve left beside its target.
fz_debris() {
	find "$FZ_TGT" -maxdepth 1 -name '.*.zstor-*' 2>/dev/null
}

# ---- the daemon's duties ----
#
# The daemon runs with short intervals (fz_daemon_start): health checks
# every 0.5 s, a sweep (with its scrub) 2 s after the last one ended, and
# garbage collection on SIGUSR2 with no grace period, which fz_gc sends
# only between rounds, when nothing is in flight.
FZ_MASTER_ARGS="--check-interval 0.5 --unreachable-after 5 \
--sweep-interval 2 --gc-grace 0"
# Rounds draw "repair": it waits for the next sweep to end, with the round's
# faults coming and going meanwhile, and the same invariant after it.
fz_duties() { echo repair; }
fz__log_from() {	# LINE: the daemon's log from that line on
	tail -n +"$1" "$ZT_DIR/daemon.log" 2>/dev/null
}
fz_duty() {	# repair: 0 when a sweep ended, 1 when one stopped
	local mark

	[[ $1 == repair ]] || return 2
	mark=$(($(wc -l <"$ZT_DIR/daemon.log") + 1))
	zt_wait_for 60 eval 'fz__log_from $mark | grep -q "sweep: \(done\|stopped\)"' ||
	    return 1
	fz__log_from "$mark" | grep -q "sweep: done"
}

# Garbage collection every FAULT_GC_EVERY rounds (default 50): fz_gc runs a
# pass after the invariant is checked, then the invariant is checked again
# (it deleted nothing a reader needs), and fz_orphans runs a second pass:
# every orphan it still finds survived the first.
FZ_GC_EVERY=${FAULT_GC_EVERY:-50}
fz_have_gc() { (( ${r:-0} % FZ_GC_EVERY == 0 )); }
fz__gc_pass() {	# prints the pass's summary line
	local mark

	mark=$(($(wc -l <"$ZT_DIR/daemon.log") + 1))
	kill -USR2 "$ZD_PID" 2>/dev/null || return 1
	zt_wait_for 120 eval 'fz__log_from $mark | grep -q "gc: \(done\|stopped\)"' &&
	    fz__log_from "$mark" | grep "gc: \(done\|stopped\)" | head -n 1
}
# With no grace period, the pieces of a rebuild in flight (one a sweep
# queued) are orphans until its record is saved: a pass waits for a sweep
# that queued no rebuild, when none is in flight (60 s at most).
fz__quiet() {
	local mark

	mark=$(($(wc -l <"$ZT_DIR/daemon.log") + 1))
	zt_wait_for 60 eval 'fz__log_from $mark |
	    grep -q "sweep: done.*, 0 rebuilds queued"'
}
# A pass keeps what was stored in the second it starts (0-db's timestamps are
# whole seconds, and "older than 0 s" is an earlier second): a version this
# round's operations replaced a moment ago would still be there for the next
# pass to find. So the first pass starts in a second after the quiet point.
fz__next_second() {
	local s

	s=$(date +%s)
	while (($(date +%s) <= s)); do sleep 0.1; done
}
fz_gc() { fz__quiet; fz__next_second; FZ_GC_LAST=$(fz__gc_pass); }
fz_orphans() {
	local out n

	fz__quiet
	out=$(fz__gc_pass)
	[[ $FZ_GC_LAST == *"gc: done"* && $out == *"gc: done"* ]] || {
		echo "a gc pass did not complete: ${FZ_GC_LAST:-none} / ${out:-none}"
		return
	}
	n=$(sed -n 's/.* \([0-9]*\) orphans older than.*/\1/p' <<<"$out")
	((n == 0)) || echo "$n pieces no record names, after: $FZ_GC_LAST"
}
