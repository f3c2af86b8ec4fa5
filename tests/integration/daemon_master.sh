# zstor-master itself, on local directory backends: start-up checks, the pid
# file and socket, sd_notify, reload (bad, good, new dir: backends), a store in
# flight at SIGTERM, --save-failure records resumed after a restart, and
# --delete done with the client's rights.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
zt_init
D=$ZT_DIR
M=$ZT_BUILD/zstor-master
MP=

stop_master() {
	[[ -n $MP ]] && kill -KILL "$MP" 2>/dev/null
	[[ -n ${NP:-} ]] && kill "$NP" 2>/dev/null
}
trap 'stop_master; zt__cleanup' EXIT

mkdir -p "$D/files" "$D/orig"
for i in 0 1 2 3 4 5; do mkdir -p "$D/b$i"; done
for i in 0 1 2 3; do mkdir -p "$D/m$i"; done
# As root the workers run as nobody, who must reach and write the backends.
if ((EUID == 0)); then
	chmod 711 "$D"
	chown nobody "$D"/b* "$D"/m*
fi
meta="dir:$D/m0#meta dir:$D/m1#meta dir:$D/m2#meta dir:$D/m3#meta"
g() { local i s=""; for i in "$@"; do s="$s dir:$D/b$i#data"; done; echo "$s"; }
ZT_CONFIG_EXTRA="socket = \"$D/s.sock\"
pid_file = \"$D/m.pid\"" zt_write_config "$D/cfg.toml" 2 3 0 0 "$meta" "$(g 0 1 2 3)"
cp "$D/cfg.toml" "$D/cfg.orig"
Z() { timeout 120 "$ZT_ZSTOR" -c "$D/cfg.toml" --log_file "$D/client.log" "$@"; }
b2() { b2sum -l 128 "$1" | cut -d' ' -f1; }
# wait_for SECONDS cmd...
wait_for() {
	local n=$(($1 * 10))
	shift
	while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done
	return 1
}
serves() { [[ -S $D/s.sock ]] && Z check -f /probe >/dev/null 2>&1; }
start_master() {
	NOTIFY_SOCKET=${NOTIFY:-} "$M" -c "$D/cfg.toml" --log_file "$D/m.log" &
	MP=$!
	wait_for 20 serves
}

# ---- start-up refusals ----
grep -v '^socket' "$D/cfg.toml" >"$D/nosock.toml"
"$M" -c "$D/nosock.toml" --log_file "$D/x.log" 2>"$D/err"
zt_check_eq "no socket in the config: exit 1" 1 $?
grep -q 'Missing "socket" argument in config' "$D/err"
zt_check "... with upstream's message" test $? -eq 0
sed 's/^minimal_shards = 2/minimal_shards = 9/' "$D/cfg.toml" >"$D/bad.toml"
"$M" -c "$D/bad.toml" --log_file "$D/x.log" 2>"$D/err"
zt_check_eq "an invalid config: exit 1" 1 $?
grep -q "bad.toml:1" "$D/err"; zt_check "... saying where" test $? -eq 0

# ---- start, sd_notify ----
NP=
if command -v python3 >/dev/null; then
	python3 - "@zt-notify-$$" "$D/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1][1:])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
EOF
	NP=$!
	NOTIFY=@zt-notify-$$
	# Bound once its log file exists: it opens the file after bind.
	wait_for 10 test -e "$D/notify.log"
fi
zt_check "the master starts and serves" start_master
zt_check_eq "the pid file holds its pid and a newline" "$MP"$'\n'x "$(cat "$D/m.pid"; echo x)"
zt_check_eq "the socket is mode 0660" 660 "$(stat -c %a "$D/s.sock")"
if [[ -n $NP ]]; then
	zt_check "READY=1 sent to NOTIFY_SOCKET" wait_for 5 grep -qx "READY=1" "$D/notify.log"
else
	zt_skip "READY=1 (no python3 for the listener)"
fi
"$M" -c "$D/cfg.toml" --log_file "$D/second.log" 2>/dev/null
zt_check_eq "a second instance exits 1" 1 $?
grep -q "another daemon instance is running (pid $MP" "$D/second.log"
zt_check "... naming the running one" test $? -eq 0

# ---- the workers ----
bad=""
for p in $(pgrep -P "$MP"); do
	grep -q $'^Seccomp:\t2$' "/proc/$p/status" &&
	    grep -q $'^NoNewPrivs:\t1$' "/proc/$p/status" || bad="$bad $p"
done
zt_check_eq "every worker: Seccomp 2, NoNewPrivs 1" "" "$bad"

# ---- store, check, retrieve ----
head -c 3000000 /dev/urandom >"$D/files/r3m"
cp "$D/files/r3m" "$D/orig/"
zt_check "store" Z store -f "$D/files/r3m"
zt_check_eq "check" "$(b2 "$D/orig/r3m")" "$(Z check -f "$D/files/r3m")"
rm "$D/files/r3m"
zt_check "retrieve" Z retrieve -f "$D/files/r3m"
zt_check "... bit-exact" cmp -s "$D/orig/r3m" "$D/files/r3m"

# ---- reload ----
printf 'minimal_shards = = 3\n' >"$D/cfg.toml"
zt_log_mark "$D/m.log"
kill -USR1 "$MP"
zt_check "a broken config is refused" wait_for 5 zt_log_has "$D/m.log" "reload refused.*cfg.toml:1"
cp "$D/cfg.orig" "$D/cfg.toml"
zt_check "... and the old one serves" Z check -f "$D/files/r3m"
# A group on new dir: backends: encoders restart to widen their sandbox.
ZT_CONFIG_EXTRA="socket = \"$D/s.sock\"
pid_file = \"$D/m.pid\"" zt_write_config "$D/cfg.toml" 2 3 0 0 "$meta" "$(g 0 1 2 3)" "$(g 4 5)"
zt_log_mark "$D/m.log"
[[ -n $NP ]] && zt_log_mark "$D/notify.log"
kill -USR1 "$MP"
zt_check "a good config is applied" wait_for 10 \
	zt_log_has "$D/m.log" "every running worker took the new config"
if [[ -n $NP ]]; then
	zt_check "RELOADING=1 then READY=1" wait_for 5 zt_log_has "$D/notify.log" "RELOADING=1"
fi
# Lose one backend holding a shard (a value file is named by 16 hex digits).
for i in 0 1 2 3; do
	ls "$D/b$i/data" 2>/dev/null | grep -q '^[0-9a-f]\{16\}$' && break
done
rm -rf "$D/b$i/data"
zt_log_mark "$D/m.log"
zt_check "rebuild onto the new backends" Z rebuild -f "$D/files/r3m"
zt_check "... moving the lost shard" zt_log_has "$D/m.log" "Rebuild file from .*b$i"
rm "$D/files/r3m"
zt_check "retrieve after the rebuild" Z retrieve -f "$D/files/r3m"
zt_check "... bit-exact" cmp -s "$D/orig/r3m" "$D/files/r3m"

# ---- --delete with the client's rights ----
if ((EUID == 0)) && command -v setpriv >/dev/null; then
	chmod 666 "$D/s.sock"
	echo "not yours" >"$D/files/rootfile"
	chmod 644 "$D/files/rootfile"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$ZT_ZSTOR" \
	    -c "$D/cfg.toml" --log_file /dev/null store -d -f "$D/files/rootfile" 2>/dev/null
	zt_check_eq "nobody's store --delete of root's file: stored" \
	    "$(b2 "$D/files/rootfile")" "$(Z check -f "$D/files/rootfile")"
	zt_check "... and not deleted" test -e "$D/files/rootfile"
	chmod 660 "$D/s.sock"
else
	zt_skip "--delete with the client's rights (needs root and setpriv)"
fi

# ---- --save-failure: recorded, resumed after a restart ----
mv "$D/m3" "$D/m3.off"
echo "later" >"$D/files/sf"
cp "$D/files/sf" "$D/orig/"
Z store -s -d -f "$D/files/sf" 2>"$D/err"
zt_check_eq "a store with the metadata store down fails" 1 $?
grep -q "recorded with --save-failure" "$D/err"
zt_check "... and says it is recorded" test $? -eq 0
zt_check_eq "one failure record" 1 "$(ls "$D/m.pid.failures" | wc -l)"
kill -TERM "$MP"; wait "$MP"
zt_check_eq "SIGTERM: exit 0" 0 $?
zt_check "... socket removed" test ! -e "$D/s.sock"
zt_check "... pid file removed" test ! -e "$D/m.pid"
mv "$D/m3.off" "$D/m3"
zt_check "restart" start_master
zt_check "the recorded store is done after the restart" \
    wait_for 10 test ! -e "$D/files/sf"
zt_check_eq "... and stored" "$(b2 "$D/orig/sf")" "$(Z check -f "$D/files/sf")"
zt_check_eq "... and its record removed" 0 "$(ls "$D/m.pid.failures" | wc -l)"

# ---- a recorded path that is now a FIFO: the master does not wait on it ----
mv "$D/m3" "$D/m3.off"
echo "later still" >"$D/files/sf2"
Z store -s -f "$D/files/sf2" 2>/dev/null
zt_check_eq "a second store with the metadata store down is recorded" \
    1 "$(ls "$D/m.pid.failures" | wc -l)"
kill -TERM "$MP"; wait "$MP"
rm -f "$D/files/sf2"
mkfifo "$D/files/sf2"
mv "$D/m3.off" "$D/m3"
zt_check "restart with a FIFO where the recorded file was" start_master
zt_check "... serves" eval "Z check -f '$D/files/sf' | grep -q ."
zt_check "... says why it cannot resume the store" \
    wait_for 10 grep -q "sf2: only regular files can be stored" "$D/m.log"
zt_check_eq "... and its record removed" 0 "$(ls "$D/m.pid.failures" | wc -l)"
rm -f "$D/files/sf2"

# ---- a store in flight at SIGTERM finishes; then restart after SIGKILL ----
head -c 100000000 /dev/urandom >"$D/files/big"
zt_log_mark "$D/m.log"
Z store -f "$D/files/big" >"$D/big.out" 2>&1 &
CP=$!
wait_for 10 zt_log_has "$D/m.log" "store $D/files/big"
kill -TERM "$MP"
wait "$CP"
zt_check_eq "a blocking store in flight at SIGTERM completes" 0 $?
wait "$MP"
zt_check_eq "... and the master exits 0" 0 $?
zt_check "restart" start_master
kill -KILL "$MP"; wait "$MP" 2>/dev/null
zt_check "restart after SIGKILL (stale socket and pid file)" start_master
zt_check_eq "... serves" "$(b2 "$D/files/big")" "$(Z check -f "$D/files/big")"
kill -TERM "$MP"; wait "$MP"
MP=
zt_done
