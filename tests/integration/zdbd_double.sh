#!/bin/bash
# Self-test of the 0-db test double and of lib.sh. The same script runs against a
# real 0-db (ZDB_BIN=/path/to/zdb): the replies must be the same, only the
# fault-injection checks are skipped there, and then a double and the real
# server are also compared byte for byte.
set -u
. "$(dirname "$0")/lib.sh"
zt_init

# Sends raw bytes (a printf format) on a new connection; prints the first reply
# line, then "EOF" if the server hung up right after it.
raw_exchange() {
	local fd line rest

	exec {fd}<>"/dev/tcp/127.0.0.1/$(zt_zdb_port "$1")" || return 2
	printf "$2" >&"$fd"
	IFS= read -r -t 3 line <&"$fd"
	echo "${line%$'\r'}"
	IFS= read -r -t 3 rest <&"$fd"
	(($? == 1)) && echo EOF	# 1: end of file; >128: timed out, still open
	exec {fd}>&-
}

# Follows SCAN cursors through namespace NAME; prints "KEYS BATCHES".
scan_count() {
	local name=$1 out cur="" keys=0 batches=0 lines
	local -a from=()

	while out=$(zt_zdb_nscmd "$name" --raw-hex SCAN "${from[@]}"); do
		cur=$(head -n 1 <<<"$out")
		lines=$(wc -l <<<"$out")
		keys=$((keys + (lines - 1) / 3))
		batches=$((batches + 1))
		from=("hex:$cur")
	done
	[[ $out == "(error) No more data" ]] || echo "SCAN ended with: $out" >&2
	echo "$keys $batches"
}

nsinfo_field() {	# backend, namespace, field
	zt_zdb_cmd "$1" NSINFO "$2" | sed -n "s/^$3: //p"
}

skip_or() {	# rc from zt_zdb_fault, description
	(($1 == 2)) && { zt_skip "$2 (needs XFAULT: test double only)"; return 1; }
	return 0
}

zt_check "start backend u1 (user mode)" zt_zdb_start u1 user
zt_check "start backend s1 (seq mode)" zt_zdb_start s1 seq
zt_check_eq "u1 answers PING" PONG "$(zt_zdb_cmd u1 PING)"
zt_check_eq "s1 answers PING" PONG "$(zt_zdb_cmd s1 PING)"
zt_check_eq "zt_zdb_addr is a loopback address" "127.0.0.1:$(zt_zdb_port u1)" \
    "$(zt_zdb_addr u1)"
zt_check_eq "lib.sh created namespace u1" "default u1" \
    "$(zt_zdb_cmd u1 NSLIST | tr '\n' ' ' | sed 's/ $//')"

# ---- user mode ----
zt_check_eq "SET echoes the key" k1 "$(zt_zdb_nscmd u1 SET k1 hello)"
zt_check_eq "SET of the same value is nil" "(nil)" \
    "$(zt_zdb_nscmd u1 SET k1 hello)"
zt_check_eq "GET returns the value" hello "$(zt_zdb_nscmd u1 GET k1)"
zt_check_eq "--raw-hex prints bulk as hex" 68656c6c6f \
    "$(zt_zdb_nscmd u1 --raw-hex GET k1)"
zt_check_eq "GET of a missing key is nil" "(nil)" "$(zt_zdb_nscmd u1 GET nope)"
zt_check_eq "namespaces are separate" "(nil)" "$(zt_zdb_cmd u1 GET k1)"
zt_check_eq "binary key and value via hex:" 00ff \
    "$(zt_zdb_nscmd u1 SET hex:0001 hex:00ff >/dev/null;
    zt_zdb_nscmd u1 --raw-hex GET hex:0001)"
printf 'from a file\n' >"$ZT_DIR/value"
zt_check_eq "@file sends a file's contents" 12 \
    "$(zt_zdb_nscmd u1 SET fk "@$ZT_DIR/value" >/dev/null;
    zt_zdb_nscmd u1 LENGTH fk)"
zt_check_eq "EXISTS" 1 "$(zt_zdb_nscmd u1 EXISTS k1)"
zt_check_eq "DEL" OK "$(zt_zdb_nscmd u1 DEL k1)"
zt_check_eq "DEL of a missing key" "(error) Key not found" \
    "$(zt_zdb_nscmd u1 DEL k1)"
zt_check_fail "an error reply exits non-zero" zt_zdb_nscmd u1 DEL k1
zt_check_eq "DBSIZE" 2 "$(zt_zdb_nscmd u1 DBSIZE)"
zt_check_eq "key over 255 bytes" "(error) Key too large" \
    "$(zt_zdb_nscmd u1 SET "$(printf 'k%.0s' {1..256})" v)"
zt_check_eq "unknown command" "(error) Command not supported" \
    "$(zt_zdb_cmd u1 GETX k)"

for i in $(seq 1 70); do zt_zdb_nscmd u1 SET "scan$i" "v$i" >/dev/null; done
zt_zdb_nscmd u1 SET scan5 rewritten >/dev/null
zt_zdb_nscmd u1 DEL scan9 >/dev/null
read -r keys batches <<<"$(scan_count u1)"
zt_check_eq "SCAN walks every key through its cursors" 71 "$keys"
if zt_zdb_is_real u1; then
	zt_skip "SCAN returns several batches (0-db batches by time)"
else
	zt_check_eq "SCAN returns batches of 32 keys" 3 "$batches"
fi
zt_check_eq "bad SCAN cursor" "(error) Invalid key format" \
    "$(zt_zdb_nscmd u1 SCAN abc)"

# ---- seq mode: ids are 8-byte little-endian, from 0 in each namespace ----
zt_check_eq "first seq id is 0" 0000000000000000 \
    "$(zt_zdb_nscmd s1 --raw-hex SET "" first)"
zt_check_eq "second seq id is 1" 0100000000000000 \
    "$(zt_zdb_nscmd s1 --raw-hex SET "" second)"
zt_check_eq "GET by seq id" second \
    "$(zt_zdb_nscmd s1 GET hex:0100000000000000)"
zt_check_eq "seq update keeps the id" 0000000000000000 \
    "$(zt_zdb_nscmd s1 --raw-hex SET hex:0000000000000000 updated)"
zt_check_eq "an update uses up an id" 0300000000000000 \
    "$(zt_zdb_nscmd s1 --raw-hex SET "" third)"
zt_check_eq "seq SET of an unknown key" \
    "(error) Invalid key, only update authorized" \
    "$(zt_zdb_nscmd s1 SET mykey v)"
zt_check_eq "ids start at 0 in every namespace" 0000000000000000 \
    "$(zt_zdb_cmd s1 --raw-hex SET "" in-default)"

# ---- NSINFO ----
zt_check_eq "NSINFO name" u1 "$(nsinfo_field u1 u1 name)"
zt_check_eq "NSINFO mode userkey" userkey "$(nsinfo_field u1 u1 mode)"
zt_check_eq "NSINFO mode sequential" sequential "$(nsinfo_field s1 s1 mode)"
zt_check_eq "NSINFO entries" 3 "$(nsinfo_field s1 s1 entries)"
zt_check_eq "NSINFO data_size_bytes" 18 "$(nsinfo_field s1 s1 data_size_bytes)"
zt_check_eq "NSINFO next_internal_id is byte-swapped" 0x400000000000000 \
    "$(nsinfo_field s1 s1 next_internal_id)"
zt_check_eq "NSINFO has no space_available without maxsize" "" \
    "$(nsinfo_field s1 s1 space_available)"
zt_check_eq "NSINFO field order" \
    "name entries public worm locked password data_size_bytes data_size_mb data_limits_bytes index_size_bytes index_size_kb next_internal_id mode" \
    "$(zt_zdb_cmd s1 NSINFO s1 | sed -n '2,14s/:.*//p' | tr '\n' ' ' | sed 's/ $//')"
zt_check "NSINFO reports the data disk's free space" \
    test "$(nsinfo_field s1 s1 data_disk_freespace_bytes)" -gt 0

# ---- maxsize, lock, SELECT rules ----
zt_check "zt_zdb_full" zt_zdb_full s1
zt_check_eq "NSINFO data_limits_bytes" 1 "$(nsinfo_field s1 s1 data_limits_bytes)"
zt_check_eq "NSINFO space_available wraps below zero as in 0-db" \
    18446744073709551599 "$(nsinfo_field s1 s1 space_available)"
zt_check_eq "a full namespace refuses data" \
    "(error) No space left on this namespace" \
    "$(zt_zdb_nscmd s1 SET "" more)"
zt_check "zt_zdb_unfull" zt_zdb_unfull s1
zt_check "zt_zdb_readonly" zt_zdb_readonly u1
zt_check_eq "a locked namespace refuses writes" \
    "(error) Namespace is temporarily locked (read-only)" \
    "$(zt_zdb_nscmd u1 SET k v)"
zt_check_eq "a locked namespace still reads" v1 "$(zt_zdb_nscmd u1 GET scan1)"
zt_check "zt_zdb_readwrite" zt_zdb_readwrite u1

zt_zdb_cmd u1 NSSET u1 password secret >/dev/null
zt_check_eq "public + password, no password given: read-only" \
    "(error) Namespace is in read-only mode" "$(zt_zdb_nscmd u1 SET k v)"
zt_check_eq "SELECT with a wrong password" "(error) Access denied" \
    "$(zt_zdb_nscmd u1 --password wrong PING)"
zt_check_eq "SELECT with the password: writable" k \
    "$(zt_zdb_nscmd u1 --password secret SET k v)"
zt_zdb_cmd u1 NSSET u1 public 0 >/dev/null
zt_check_eq "private namespace without password" \
    "(error) Namespace protected and private" "$(zt_zdb_nscmd u1 PING)"
zt_check_eq "SELECT of a missing namespace" "(error) Namespace not found" \
    "$(zt_zdb_cmd u1 --select nope PING)"

# ---- wire limits ----
zt_check_eq "a value over 8 MiB: Payload too big, then the connection closes" \
    "-Payload too big EOF" \
    "$(raw_exchange u1 '*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$8388609\r\n' | tr '\n' ' ' | sed 's/ $//')"
zt_check_eq "an inline command is refused and the connection closed" \
    "-Malformed request, array expected EOF" \
    "$(raw_exchange u1 'PING\r\n' | tr '\n' ' ' | sed 's/ $//')"
head -c 8388608 /dev/urandom >"$ZT_DIR/8m"
zt_check_eq "exactly 8 MiB is accepted" 8388608 \
    "$(zt_zdb_cmd u1 SET big8 "@$ZT_DIR/8m" >/dev/null; zt_zdb_cmd u1 LENGTH big8)"
zt_check "an 8 MiB value comes back intact" \
    cmp -s <(zt_zdb_cmd u1 GET big8 | head -c 8388608) "$ZT_DIR/8m"

# ---- hang by signal: works for both ----
zt_zdb_hang u1
zt_check_fail "a stopped backend does not answer" zt_zdb_cmd_timeout 1 u1 PING
zt_zdb_unhang u1
zt_check_eq "a continued backend answers again" PONG "$(zt_zdb_cmd u1 PING)"

# ---- XFAULT: the double only ----
zt_zdb_cmd u1 SET fk hello >/dev/null
zt_zdb_fault u1 corrupt; rc=$?
if skip_or $rc "XFAULT corrupt"; then
	zt_check_eq "XFAULT corrupt flips the first bit" iello \
	    "$(zt_zdb_cmd u1 GET fk)"
fi
zt_zdb_fault u1 full; rc=$?
if skip_or $rc "XFAULT full"; then
	zt_check_eq "XFAULT full refuses SET" \
	    "(error) No space left on this namespace" "$(zt_zdb_cmd u1 SET x y)"
fi
zt_zdb_fault u1 readonly; rc=$?
if skip_or $rc "XFAULT readonly"; then
	zt_check_eq "XFAULT readonly refuses SET" \
	    "(error) Namespace is in read-only mode" "$(zt_zdb_cmd u1 SET x y)"
	zt_check_eq "XFAULT readonly refuses DEL" \
	    "(error) Namespace is in read-only mode" "$(zt_zdb_cmd u1 DEL fk)"
	zt_check_eq "XFAULT readonly still reads" hello "$(zt_zdb_cmd u1 GET fk)"
fi
zt_zdb_fault u1 slow 400; rc=$?
if skip_or $rc "XFAULT slow"; then
	start=$(date +%s%N)
	zt_zdb_cmd u1 PING >/dev/null
	zt_check "XFAULT slow 400 delays a reply by 400 ms" \
	    test $((($(date +%s%N) - start) / 1000000)) -ge 400
fi
zt_zdb_fault u1 hang; rc=$?
if skip_or $rc "XFAULT hang"; then
	zt_check_fail "XFAULT hang: no reply" zt_zdb_cmd_timeout 1 u1 PING
	zt_zdb_cmd u1 GET fk >"$ZT_DIR/parked" &
	parked=$!
	sleep 0.3
	zt_check "XFAULT none lifts the hang" zt_zdb_fault u1 none
	wait "$parked"
	zt_check_eq "a request parked by the hang is answered afterwards" hello \
	    "$(cat "$ZT_DIR/parked")"
fi
zt_zdb_fault u1 none; rc=$?
if skip_or $rc "XFAULT none"; then
	zt_check_eq "XFAULT none: back to normal" hello "$(zt_zdb_cmd u1 GET fk)"
fi

# ---- stop, restart, down ----
zt_check "start backend d1 (mixed mode)" zt_zdb_start d1
zt_zdb_stop d1
zt_zdb_cmd d1 PING >/dev/null 2>&1; rc=$?
zt_check_eq "a stopped backend refuses connections (client exit 2)" 2 "$rc"
zt_check "zt_zdb_restart brings it back" zt_zdb_restart d1
zt_check_eq "after a restart it answers on the same port" PONG \
    "$(zt_zdb_cmd d1 PING)"
zt_check_eq "after a restart its namespace exists" d1 "$(nsinfo_field d1 d1 name)"
zt_zdb_fault d1 down; rc=$?
if skip_or $rc "XFAULT down"; then
	zt_zdb_cmd d1 PING >/dev/null 2>&1; rc=$?
	zt_check_eq "XFAULT down: the server is gone (client exit 2)" 2 "$rc"
fi

# ---- kill -9 and restart keep what 0-db keeps ----
# Every write answered before the kill is there after a restart, with the
# namespace settings (password, public, worm, maxsize, mode); lock and freeze
# are not kept. The same checks run against a real 0-db.
pq() { zt_zdb_cmd p1 --select pq "$@"; }
scan_all() {	# NAMESPACE: every SCAN batch, cursors, keys, sizes and times
	local out
	local -a from=()

	while out=$(zt_zdb_cmd p1 --select "$1" --raw-hex SCAN "${from[@]}"); do
		echo "$out"
		from=("hex:$(head -n 1 <<<"$out")")
	done
}
kept() {	# what a restart must not change
	local ns

	zt_zdb_cmd p1 NSLIST | sort	# 0-db reloads them in directory order
	for ns in p1 pq; do
		# next_internal_id: 0-db's reload counts it another way
		zt_zdb_cmd p1 NSINFO "$ns" | grep -Ev \
		    '^(locked|[a-z_]*freespace[a-z_]*|next_internal_id):'
		scan_all "$ns"
	done
	zt_zdb_nscmd p1 GET k3
	zt_zdb_nscmd p1 GET last
	zt_zdb_nscmd p1 GET big8 | cksum
}
zt_check "start backend p1 (mixed mode)" zt_zdb_start p1
zt_zdb_cmd p1 NSNEW pq >/dev/null
zt_zdb_cmd p1 NSSET pq mode seq >/dev/null
zt_zdb_cmd p1 NSNEW pgone >/dev/null
zt_zdb_cmd p1 --select pgone SET k v >/dev/null
zt_zdb_cmd p1 NSDEL pgone >/dev/null
for i in $(seq 1 40); do zt_zdb_nscmd p1 SET "k$i" "value $i" >/dev/null; done
zt_zdb_nscmd p1 SET k3 rewritten >/dev/null	# to the end of the SCAN order
zt_zdb_nscmd p1 DEL k7 >/dev/null
zt_zdb_nscmd p1 SET big8 "@$ZT_DIR/8m" >/dev/null
for i in 1 2 3; do pq SET "" "s$i" >/dev/null; done
pq DEL hex:0100000000000000 >/dev/null
zt_zdb_cmd p1 NSSET p1 maxsize 100000000 >/dev/null
zt_zdb_cmd p1 NSSET p1 password secret >/dev/null
zt_zdb_cmd p1 NSSET pq worm 1 >/dev/null
zt_zdb_nscmd p1 --password secret SET last "answered just before the kill" \
    >/dev/null
before=$(kept)
zt_zdb_cmd p1 NSSET p1 lock 1 >/dev/null
zt_zdb_cmd p1 NSSET pq freeze 1 >/dev/null
zt_zdb_stop p1
zt_check "kill -9, then a restart on the same port and data" zt_zdb_restart p1
zt_check_eq "namespaces, settings, sizes, keys, values and SCAN cursors are kept" \
    "$before" "$(kept)"
zt_check_eq "a userkey next_internal_id counts every SET after a reload, as 0-db" \
    0x2b00000000000000 "$(nsinfo_field p1 p1 next_internal_id)"
zt_check_eq "the last write answered before the kill is there" \
    "answered just before the kill" "$(zt_zdb_nscmd p1 GET last)"
zt_check_eq "a deleted key stays deleted" "(nil)" "$(zt_zdb_nscmd p1 GET k7)"
zt_check_eq "a deleted namespace stays deleted" "(error) Namespace not found" \
    "$(zt_zdb_cmd p1 --select pgone PING)"
zt_check_eq "the password is kept" "(error) Namespace is in read-only mode" \
    "$(zt_zdb_nscmd p1 SET k1 v)"
zt_check_eq "the lock is not kept" k1 \
    "$(zt_zdb_nscmd p1 --password secret SET k1 v)"
zt_check_eq "the freeze is not kept" s1 "$(pq GET hex:0000000000000000)"
zt_check_eq "worm is kept" "(error) Namespace is protected by worm mode" \
    "$(pq SET hex:0000000000000000 x)"
zt_check_eq "seq ids go on where they were" 0300000000000000 \
    "$(pq --raw-hex SET "" s4)"
zt_check_eq "the mode is kept" "(error) Invalid key, only update authorized" \
    "$(pq SET mykey v)"

# 0-db's one lock state: lock and freeze replace each other, and lifting
# either one lifts both.
zt_zdb_cmd p1 NSSET pq lock 1 >/dev/null
zt_zdb_cmd p1 NSSET pq freeze 1 >/dev/null
zt_check_eq "freeze after lock: frozen" \
    "(error) Namespace is temporarily frozen (read-write disabled)" \
    "$(pq GET hex:0000000000000000)"
zt_zdb_cmd p1 NSSET pq lock 0 >/dev/null
zt_check_eq "lock 0 lifts a freeze" 0400000000000000 "$(pq --raw-hex SET "" s5)"
zt_zdb_cmd p1 NSSET pq lock 1 >/dev/null
zt_zdb_cmd p1 NSSET pq freeze 0 >/dev/null
zt_check_eq "freeze 0 lifts a lock" 0500000000000000 "$(pq --raw-hex SET "" s6)"

# SIGSTOP is just a stopped process: the kernel takes the connection and the
# request, the answer comes once it continues; SIGKILL still kills it.
zt_zdb_hang p1
zt_zdb_nscmd p1 GET k1 >"$ZT_DIR/parked-stop" &
parked=$!
zt_check "a stopped backend takes a request (it waits in the kernel)" \
    zt_wait_for 10 zt__rx_pending "$(zt_zdb_port p1)"
zt_zdb_unhang p1
wait "$parked"
zt_check_eq "... and answers it once continued" v "$(cat "$ZT_DIR/parked-stop")"
zt_zdb_nscmd p1 --password secret SET stopped "written, then stopped" >/dev/null
zt_zdb_hang p1
zt_zdb_stop p1
zt_check "kill -9 of a stopped backend, then a restart" zt_zdb_restart p1
zt_check_eq "... keeps what it answered" "written, then stopped" \
    "$(zt_zdb_nscmd p1 GET stopped)"

# The double only: a record cut short by a crash, a second server on the
# same data directory, XFAULT down.
if zt_zdb_is_real p1; then
	zt_skip "a record cut short is dropped (the double's journal)"
	zt_skip "a second server on the same data is refused (the double)"
else
	journal=$ZT_DIR/p1/data/zdbd-double.journal
	zt_zdb_stop p1
	size=$(stat -c %s "$journal")
	printf 'JREC\004\000\000\000partial' >>"$journal"
	zt_check "restart after a record cut short" zt_zdb_restart p1
	zt_check_eq "... the record is dropped" "$size" "$(stat -c %s "$journal")"
	zt_check "... saying so" grep -q "dropping 15 bytes at offset $size" \
	    "$ZT_DIR/p1/log"
	zt_check_eq "... and the rest is kept" "written, then stopped" \
	    "$(zt_zdb_nscmd p1 GET stopped)"
	"$ZT_DOUBLE" --port "$(zt__free_port)" --data "$ZT_DIR/p1/data" \
	    --index "$ZT_DIR/p1/index" >"$ZT_DIR/second.log" 2>&1
	zt_check_eq "a second double on the same data directory exits 1" 1 $?
	zt_check "... saying which instance holds it" \
	    grep -q "already using: $journal" "$ZT_DIR/second.log"
	zt_zdb_nscmd p1 --password secret SET down "before XFAULT down" >/dev/null
	zt_zdb_fault p1 down
	zt_check "restart after XFAULT down" zt_zdb_restart p1
	zt_check_eq "... keeps what it answered" "before XFAULT down" \
	    "$(zt_zdb_nscmd p1 GET down)"
fi

# ---- the double against a real 0-db, byte for byte ----
if [[ -n ${ZDB_BIN:-} ]]; then
	zt_check "start a real 0-db r1" zt_zdb_start r1 seq
	ZT_FORCE_DOUBLE=1 zt_check "start a double r2" zt_zdb_start r2 seq
	same=0 total=0
	while IFS='|' read -r -a cmd; do
		total=$((total + 1))
		a=$(zt_zdb_nscmd r1 --raw "${cmd[@]}" | od -An -c)
		b=$(zt_zdb_nscmd r2 --raw "${cmd[@]}" | od -An -c)
		if [[ $a == "$b" ]]; then
			same=$((same + 1))
		else
			echo "# differs: ${cmd[*]}"
			echo "# real:   $a" | head -n 3
			echo "# double: $b" | head -n 3
		fi
	done <<-'EOF'
	PING
	SET||first
	SET||first
	SET|hex:0000000000000000|first
	SET|hex:0000000000000000|changed
	GET|hex:0000000000000000
	GET|hex:00
	SET|abc|x
	SET|
	DEL|hex:0100000000000000
	EXISTS|hex:0000000000000000
	DBSIZE
	NSSET|default|mode|user
	NSNEW|default
	SELECT|nope
	NSINFO
	FOO
	EOF
	zt_check_eq "the double replies like 0-db v2.0.7, byte for byte" \
	    "$total of $total" "$same of $total"
	mask() { sed -E 's/(freespace_[a-z]+|_path|_active): .*/\1: X/'; }
	zt_check_eq "NSINFO is the same but for paths and free space" \
	    "$(zt_zdb_cmd r1 NSINFO r1 | mask)" "$(zt_zdb_cmd r2 NSINFO r2 | mask |
	    sed 's/^name: r2$/name: r1/')"
else
	zt_skip "byte-for-byte comparison with a real 0-db (set ZDB_BIN)"
fi

zt_done
