# A store survives a data backend dying in the middle of it: the shard that
# backend held goes whole to a spare of its group, and the store goes on. With
# no spare left in the group, the object is placed again without the dead
# backend; with no valid placement left, the store fails and deletes what it
# wrote. Standalone and through the daemon.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
export ZSTOR_TIMEOUT_MS=3000
D=$ZT_DIR
mkdir -p "$D/f"

# Each case has backends of its own: a dead backend stays dead.
for i in $(seq 0 24); do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
meta=$(zd_be m0 m1 m2 m3)
zt_write_config "$D/cfg.toml" 3 5 0 0 "$meta" "$(zd_be d0 d1 d2 d3 d4 d5 d6)"
# Six groups of one backend: the group of a dead backend has no spare, so the
# object is placed again over the others.
zt_write_config "$D/single.toml" 3 5 0 0 "$meta" "$(zd_be d7)" "$(zd_be d8)" \
	"$(zd_be d9)" "$(zd_be d10)" "$(zd_be d11)" "$(zd_be d12)"
zt_write_config "$D/tight.toml" 3 5 0 0 "$meta" "$(zd_be d13 d14 d15 d16 d17)"
zd_config "$D/dcfg.toml" 3 5 "$meta" "$(zd_be d18 d19 d20 d21 d22 d23 d24)"

pieces() {	# pieces on the running backends among $ALL
	local n t=0

	for n in $ALL; do
		[[ -n ${ZT_ZDB_PID[$n]} ]] && t=$((t + $(zt_zdb_nscmd "$n" DBSIZE)))
	done
	echo "$t"
}
# Slows every reply (double only), so that a store is long enough to be hit.
slow_all() {
	local n

	for n in $ALL; do
		[[ -n ${ZT_ZDB_PID[$n]} && $n != "${SKIP:-}" ]] &&
		    zt_zdb_fault "$n" "$@" >/dev/null
	done
	return 0
}
# Waits until some backend of $ALL holds a piece and prints its name.
first_written() {
	local i n

	for ((i = 0; i < 300; i++)); do
		for n in $ALL; do
			[[ -n ${ZT_ZDB_PID[$n]} ]] || continue
			if (($(zt_zdb_nscmd "$n" DBSIZE) > ${BASE[$n]:-0})); then
				echo "$n"
				return 0
			fi
		done
		sleep 0.05
	done
	return 1
}
declare -A BASE
snapshot() {
	local n

	for n in $ALL; do
		[[ -n ${ZT_ZDB_PID[$n]} ]] && BASE[$n]=$(zt_zdb_nscmd "$n" DBSIZE)
	done
	return 0
}

# hit HOW CLIENT...: stores big with CLIENT in the background, then HOW (stop,
# hang) the first backend written to. Sets rc (the store's exit status) and
# victim (the backend hit).
hit() {
	local how=$1 pid
	shift

	# New bytes each time: a file already stored is not uploaded again.
	# 16 MiB shards, 8 pieces each at 100 ms a reply: a loaded machine's
	# polling (first_written) finds the first backend written to long
	# before its last piece.
	head -c $((48 * 1024 * 1024)) /dev/urandom >"$D/big"
	snapshot
	slow_all slow 100
	cp "$D/big" "$D/f/big"
	"$@" store -f "$D/f/big" 2>"$D/err" &
	pid=$!
	victim=$(first_written)
	zt_zdb_fault "$victim" none
	case $how in
	stop) zt_zdb_stop "$victim" ;;
	hang) zt_zdb_hang "$victim" ;;
	esac
	SKIP=$victim slow_all none
	wait "$pid"
	rc=$?
}

Z() { timeout 300 "$ZT_ZSTOR" -c "$D/$CFG" --log_file "$D/zstor.log" "$@"; }
ZD() { zd_client "$D/dcfg.toml" "$D/client.log" "$@"; }
retrieves() {
	rm -f "$D/f/big"
	"$@" retrieve -f "$D/f/big" && cmp -s "$D/big" "$D/f/big"
}

CFG=cfg.toml ALL="d0 d1 d2 d3 d4 d5 d6"
hit stop Z
zt_check_eq "standalone: a backend killed mid-store: the store succeeds" 0 "$rc"
zt_check "... the shard went to a spare" grep -q "moved to spare" "$D/zstor.log"
zt_check "... and the file retrieves bit-exact, the dead backend still down" retrieves Z

: >"$D/zstor.log"
hit hang Z
zt_check_eq "standalone: a backend hung mid-store: the store succeeds" 0 "$rc"
zt_check "... the shard went to a spare" grep -q "moved to spare" "$D/zstor.log"
zt_zdb_unhang "$victim"
zt_check "... and retrieves bit-exact" retrieves Z

CFG=single.toml ALL="d7 d8 d9 d10 d11 d12"
: >"$D/zstor.log"
hit stop Z
zt_check_eq "standalone: no spare in the group: the store succeeds" 0 "$rc"
zt_check "... placing the object again" grep -q "placing the object again" "$D/zstor.log"
zt_check "... and retrieves bit-exact" retrieves Z

# 5 backends for 5 shards: a death leaves no valid placement; the store fails
# and takes back what it wrote.
CFG=tight.toml ALL="d13 d14 d15 d16 d17"
before=$(pieces)
hit stop Z
zt_check_eq "standalone: no valid placement left: the store fails" 1 "$rc"
zt_check "... saying why" grep -q "satisfies the redundancy settings" "$D/err"
zt_check_eq "... and the pieces it wrote are deleted" "$before" "$(pieces)"

ALL="d18 d19 d20 d21 d22 d23 d24"
zd_start "$D/dcfg.toml" "$D/master.log"
hit stop ZD
zt_check_eq "daemon: a backend killed mid-store: the store succeeds" 0 "$rc"
zt_check "... the shard went to a spare" grep -q "moved to spare" "$D/master.log"
zt_check "... and the file retrieves bit-exact" retrieves ZD

# A store takes space from the NSINFO of the last one when that is recent and
# roomy: a backend that filled up since refuses the write, and the shard goes
# to a spare. One of the six live backends is full for four stores right
# after one that read every NSINFO.
for n in $ALL; do [[ -n ${ZT_ZDB_PID[$n]} ]] && live=$n; done
for i in 0 1 2 3 4; do head -c 3000 /dev/urandom >"$D/f/s$i"; done
ZD store -f "$D/f/s0"
zt_zdb_full "$live"
ok=0
for i in 1 2 3 4; do ZD store -f "$D/f/s$i" && ok=$((ok + 1)); done
zt_zdb_unfull "$live"
zt_check_eq "daemon: stores just after a backend filled up succeed" 4 "$ok"
ok=0
for i in 0 1 2 3 4; do
	cp "$D/f/s$i" "$D/s$i.orig"
	rm -f "$D/f/s$i"
	ZD retrieve -f "$D/f/s$i" && cmp -s "$D/s$i.orig" "$D/f/s$i" && ok=$((ok + 1))
done
zt_check_eq "... and retrieve bit-exact" 5 "$ok"
zt_done
