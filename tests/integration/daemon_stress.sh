# The daemon under load and faults: an encoder killed in the middle of a large
# store (the client gets an error, the worker comes back, the next store
# works), a client that vanishes in the middle of a retrieve, the master killed
# while a client waits for it, and three clients sending 100 mixed commands
# each at once (all succeed, nothing is lost, nobody waits forever), and four
# clients that keep sending requests over the socket.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
zd_small_cluster

# ---- (c) kill -9 of the encoder running a store ----
BIG=$D/files/big
head -c $((200 * 1024 * 1024)) /dev/urandom >"$BIG"
encoders_before=$(zd_workers encoder | sort)
Z store -f "$BIG" >"$D/big.out" 2>&1 &
client=$!
# The encoder that holds the client's file is the one doing the store.
victim=
holds_big() {
	local p fd

	for p in $(zd_workers encoder); do
		for fd in /proc/"$p"/fd/*; do
			if [[ $(readlink "$fd" 2>/dev/null) == "$BIG" ]]; then
				victim=$p
				return 0
			fi
		done
	done
	return 1
}
zt_check "an encoder takes the 200 MiB store" zd_wait_for 30 holds_big
zt_log_mark "$D/daemon.log"
[[ -n $victim ]] && kill -KILL "$victim"
wait "$client"
zt_check_eq "the storing client fails" 1 $?
grep -q "^Zstor error: ." "$D/big.out"
zt_check "... with an error message" test $? -eq 0
respawned() {
	local now

	now=$(zd_workers encoder | sort)
	[[ $(wc -w <<<"$now") == $(wc -w <<<"$encoders_before") ]] &&
	    ! grep -qx "$victim" <<<"$now"
}
zt_check "the killed encoder is replaced by a new process" zd_wait_for 20 respawned
zt_check "the daemon logged the worker's death" \
	zt_log_has "$D/daemon.log" -i "encoder.*\(died\|killed\|signal\|exited\)"
zt_check "the next store works (the same 200 MiB)" Z store -f "$BIG"
zt_check_eq "... and check agrees" "$(zd_b2 "$BIG")" "$(Z check -f "$BIG")"
mv "$BIG" "$D/big.orig"

# A client that disappears in the middle of a retrieve.
"$ZT_ZSTOR" -c "$D/cfg.toml" --log_file "$D/client.log" retrieve -f "$BIG" >/dev/null 2>&1 &
client=$!
sleep 0.3
kill -KILL "$client"; wait "$client" 2>/dev/null
zt_check "the daemon survives a client killed mid-retrieve" kill -0 "$ZD_PID"
rm -f "$D/files/".big.zstor-*
zt_check "retrieve of the 200 MiB file" Z retrieve -f "$BIG"
zt_check "... bit-exact" cmp -s "$D/big.orig" "$BIG"

# The master killed while a client waits: the client is told, not left hanging.
# Its workers die with it, so nothing more reaches the backends.
data_bytes() {	# payload bytes on the 6 data backends
	local i

	for i in 0 1 2 3 4 5; do
		zt_zdb_cmd "d$i" NSINFO "d$i" | sed -n 's/^data_size_bytes: //p'
	done | awk '{ s += $1 } END { print s + 0 }'
}
all_gone() {	# pids...: none runs (a zombie has exited)
	local p

	for p in "$@"; do
		kill -0 "$p" 2>/dev/null || continue
		[[ $(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) == Z ]] ||
		    return 1
	done
}
uploading() { (($(data_bytes) > 16 << 20)); }
last_bytes=-1 same_bytes=0
writes_settled() {	# the same total at 10 calls in a row, 0.05 s apart
	local now

	now=$(data_bytes)
	if [[ $now == "$last_bytes" ]]; then
		same_bytes=$((same_bytes + 1))
	else
		same_bytes=0
	fi
	last_bytes=$now
	((same_bytes >= 9))
}
mkdir -p "$D/other"
Z store -f "$BIG" -k "$D/other" >"$D/big.out" 2>&1 &
client=$!
zt_check "an encoder takes another 200 MiB store" zd_wait_for 30 holds_big
zt_check "... and uploads its shards" zd_wait_for 60 uploading
workers=$(zd_children "$ZD_PID")
at_kill=$(data_bytes)
kill -KILL "$ZD_PID"; wait "$ZD_PID" 2>/dev/null
wait "$client"
zt_check_eq "after SIGKILL of the master the waiting client exits 1" 1 $?
grep -q "closed the connection without an answer" "$D/big.out"
zt_check "... saying the daemon went away" test $? -eq 0
zt_check "every worker dies with the master" zd_wait_for 5 all_gone $workers
zt_check "the data backends stop receiving writes" zd_wait_for 10 writes_settled
after=$(data_bytes)
echo "# data written after the master died: $((after - at_kill)) bytes"
# What was in flight in the socket buffers (a few MiB), not the ~300 MB the
# encoder uploaded when it outlived the master.
zt_check "... after less than 32 MiB more" test $((after - at_kill)) -lt $((32 << 20))
zt_check "the daemon starts again" zd_start "$D/cfg.toml" "$D/daemon.log"
rm -f "$BIG" "$D/big.orig"

# ---- (g) 3 clients x 100 mixed commands at once ----
# Each client stores, checks and retrieves its own small files; every failure
# or timeout (exit 124 from zd_client's timeout) is written down.
run_client() {
	local c=$1 j f sum dir=$D/c$1

	for ((j = 1; j <= 34; j++)); do
		f=$dir/f$j
		sum=$(zd_b2 "$dir.orig/f$j")
		Z store -f "$f" || echo "store $f: $?" >>"$dir.fail"
		[[ $(Z check -f "$f") == "$sum" ]] || echo "check $f" >>"$dir.fail"
		rm -f "$f"
		Z retrieve -f "$f" || echo "retrieve $f: $?" >>"$dir.fail"
	done 2>>"$dir.err"
}
for c in 1 2 3; do
	mkdir -p "$D/c$c" "$D/c$c.orig"
	for ((j = 1; j <= 34; j++)); do
		head -c $((RANDOM * 3 + j)) /dev/urandom >"$D/c$c.orig/f$j"
	done
	cp "$D/c$c.orig/"* "$D/c$c/"
done
start=$SECONDS
clients=()
for c in 1 2 3; do
	run_client "$c" &
	clients+=($!)
done
wait "${clients[@]}"	# not a bare wait: the daemon and the backends run too
echo "# 3 clients x 102 commands took $((SECONDS - start)) s"
zt_check_eq "every concurrent command succeeded" "" "$(cat "$D"/c?.fail 2>/dev/null | head -n 5)"
lost=0
for c in 1 2 3; do
	for ((j = 1; j <= 34; j++)); do
		cmp -s "$D/c$c.orig/f$j" "$D/c$c/f$j" || lost=$((lost + 1))
	done
done
zt_check_eq "no file lost or changed (102 files bit-exact)" 0 "$lost"
zt_check "the daemon still runs" kill -0 "$ZD_PID"

# ---- (h) 4 clients that stay on the socket (what make bench measures) ----
mkdir -p "$D/sock" "$D/sock.out"
for ((j = 0; j < 40; j++)); do head -c $((j * 517 + 1)) /dev/urandom >"$D/sock/s$j"; done
for op in store retrieve check; do
	zt_check "4 socket clients: every $op of 40 files is answered with ok" \
	    "$ZT_BUILD/tools/bench-client" "$ZD_SOCK" "$op" 4 "$D/sock" "$D/sock.out"
done
zt_check "... the 40 files come back bit-exact" diff -r "$D/sock" "$D/sock.out"
zt_check_eq "... under the keys of their key path" "$(zd_b2 "$D/sock/s7")" \
    "$(Z check -f "$D/sock.out/s7")"

zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?

zt_done
