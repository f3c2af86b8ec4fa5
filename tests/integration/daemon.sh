# zstor through the daemon (zstor-master) against 0-db servers: the project's
# test double by default, a real 0-db when ZDB_BIN names one. Every command of
# the standalone suite through the socket, the workers' sandbox, reload, a
# second instance, SIGTERM and a restart after SIGKILL, and a client without a
# daemon.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
mkdir -p "$D/files" "$D/orig" "$D/keydir"

for i in $(seq 0 19); do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
meta=$(zd_be m0 m1 m2 m3)
# A cache directory far below its limit: the evictor runs and deletes nothing.
mkdir -p "$D/cache"
# Run as root, the daemon's workers drop to an unprivileged user, who must
# reach the cache directory.
if ((EUID == 0)); then
	chmod 711 "$D"
	chown nobody "$D/cache" 2>/dev/null
fi
ZD_EXTRA="zdb_data_dir_path = \"$D/cache\"
max_zdb_data_dir_size = 1024"
zd_config "$D/cfg.toml" 10 15 "$meta" "$(zd_be d0 d1 d2 d3 d4)" \
	"$(zd_be d5 d6 d7 d8 d9)" "$(zd_be d10 d11 d12 d13 d14)"
# The same plus a spare group, for reload and rebuild.
zd_config "$D/cfg-spare.toml" 10 15 "$meta" "$(zd_be d0 d1 d2 d3 d4)" \
	"$(zd_be d5 d6 d7 d8 d9)" "$(zd_be d10 d11 d12 d13 d14)" \
	"$(zd_be d15 d16 d17 d18 d19)"
cp "$D/cfg.toml" "$D/daemon.toml"	# the daemon's own file, rewritten for reloads
Z() { zd_client "$D/daemon.toml" "$D/client.log" "$@"; }

# ---- (i) socket set, no daemon: a clear error, nothing run here ----
Z check -f "$D/files/none" 2>"$D/err"
zt_check_eq "client without a daemon exits 1" 1 $?
grep -q "could not connect to the zstor daemon at $ZD_SOCK" "$D/err" &&
	grep -q "monitor" "$D/err" && grep -q "remove \`socket\`" "$D/err"
zt_check "... and says how to start one" test $? -eq 0
zt_check_eq "... in one line" 1 "$(wc -l <"$D/err")"
printf data >"$D/files/lonely"
Z store -f "$D/files/lonely" 2>"$D/err"
zt_check_eq "store without a daemon exits 1" 1 $?

# ---- start ----
zd_start "$D/daemon.toml" "$D/daemon.log"
zt_check "zstor monitor starts the daemon and it serves" kill -0 "$ZD_PID"
zt_check_eq "pid file holds the master's pid" "$ZD_PID" "$(tr -d '\n' <"$ZD_PIDFILE" 2>/dev/null)"
zt_check "the socket exists" test -S "$ZD_SOCK"

# ---- (b) every worker: seccomp filter mode, no_new_privs ----
# Serving needs one encoder and the metawriter; the others may still be in
# their start-up under load: wait until the master says all are ready.
all_ready() { grep -q "every worker is ready" "$D/daemon.log"; }
zt_check "every worker comes up" zd_wait_for 30 all_ready
workers=$(zd_children "$ZD_PID")
zt_check "the master has workers" test -n "$workers"
bad="" ntasks=0
for pid in $workers; do
	for task in /proc/$pid/task/*; do
		ntasks=$((ntasks + 1))
		st=$(cat "$task/status" 2>/dev/null)
		grep -q $'^Seccomp:\t2$' <<<"$st" && grep -q $'^NoNewPrivs:\t1$' <<<"$st" ||
			bad="$bad $pid/${task##*/}($(tr '\0' ' ' <"/proc/$pid/cmdline"))"
	done
done
zt_check_eq "every thread of every worker shows Seccomp: 2 and NoNewPrivs: 1 ($(echo $workers | wc -w) workers, $ntasks threads)" "" "$bad"
for role in encoder metawriter repairer evictor; do
	zt_check "$role running" test -n "$(zd_workers "$role")"
done

# ---- (a) the standalone suite through the daemon ----
: >"$D/orig/empty"
printf x >"$D/orig/one"
head -c 65535 /dev/urandom >"$D/orig/k64m1"
head -c 65536 /dev/urandom >"$D/orig/k64"
head -c 65537 /dev/urandom >"$D/orig/k64p1"
head -c $((10 * 1024 * 1024 + 3)) /dev/urandom >"$D/orig/random10m"
yes "erasure-coded shards on 0-db" | head -c $((10 * 1024 * 1024)) >"$D/orig/text10m"
files="empty one k64m1 k64 k64p1 random10m text10m"
cp "$D/orig/"* "$D/files/"
for f in $files; do
	zt_check "store $f" Z store --file "$D/files/$f"
	zt_check_eq "check $f" "$(zd_b2 "$D/orig/$f")" "$(Z check --file "$D/files/$f")"
done
rm -f "$D/files/"*
for f in $files; do
	zt_check "retrieve $f" Z retrieve --file "$D/files/$f"
	zt_check "$f is bit-exact" cmp -s "$D/orig/$f" "$D/files/$f"
done
# Through the daemon a command does no cryptography of its own: its process
# never loads libcrypto (the dynamic loader names every library it opens).
loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c "file=libcrypto"; }
mkdir -p "$D/nocrypto"
zt_check_eq "a store, a retrieve and a check through the daemon load no libcrypto" \
	"0 0 0" "$(loaded Z store -f "$D/orig/one" -k "$D/nocrypto") \
$(loaded Z retrieve -f "$D/nocrypto/one") $(loaded Z check -f "$D/nocrypto/one")"
zt_check "... and the file came back" cmp -s "$D/orig/one" "$D/nocrypto/one"
zt_check "... while --version, which names its version, does load it" \
	test "$(loaded "$ZT_ZSTOR" --version)" -gt 0
zt_check_eq "retrieved files get the umask's mode" "$(stat -c %a "$D/orig/one")" \
	"$(stat -c %a "$D/files/one")"
zt_check_eq "no temporary file is left behind" "" "$(ls -A "$D/files" | grep zstor-)"
zt_check_eq "check of a file never stored prints nothing" "" "$(Z check --file "$D/files/never")"
Z check --file "$D/files/never" >/dev/null; zt_check_eq "... and exits 0" 0 $?
Z retrieve --file "$D/files/never" 2>"$D/err"
zt_check_eq "retrieve of a file never stored exits 1" 1 $?
grep -q "^Zstor error: " "$D/err"; zt_check "... with upstream's \"Zstor error:\" wording" test $? -eq 0
zt_check_eq "... and leaves no file" "" "$(ls -A "$D/files" | grep never)"

# Usage errors stay local (exit 2, no daemon involved).
Z rebuild 2>/dev/null; zt_check_eq "rebuild without --file or --key exits 2" 2 $?
Z store 2>/dev/null; zt_check_eq "store without --file exits 2" 2 $?

# --key-path: the key is computed as if the file lived in that directory.
printf 'key path' >"$D/files/kp"
zt_check "store --key-path" Z store -f "$D/files/kp" -k "$D/keydir"
zt_check_eq "... check under the key path" "$(zd_b2 "$D/files/kp")" "$(Z check -f "$D/keydir/kp")"
zt_check_eq "... not under the file's own path" "" "$(Z check -f "$D/files/kp")"
Z store -f "$D/files/kp" -k "$D/no-such-dir" 2>"$D/err"
zt_check_eq "store --key-path to a missing directory exits 1" 1 $?

# --delete: the daemon unlinks the file once it is stored.
printf 'delete me' >"$D/files/del"
zt_check "store --delete" Z store -f "$D/files/del" -d
zt_check "... the file is gone" test ! -e "$D/files/del"
zt_check_eq "... and stored" "$(printf 'delete me' | b2sum -l 128 | cut -d' ' -f1)" \
	"$(Z check -f "$D/files/del")"

# ... but only while the path is the file that was stored (device and inode).
if zt_zdb_fault m0 slow 300; then
	zt_check_delete_replaced "$D/daemon.log" "$D/files/del2" Z
	zt_zdb_fault m0 none
else
	zt_skip "--delete of a file replaced during the store (needs a slow backend)"
fi

# --notblocking: the daemon answers at once and stores in the background.
head -c 300000 /dev/urandom >"$D/files/bg"
zt_check "store --notblocking returns" Z store -f "$D/files/bg" -n
bgcheck() { [[ $(Z check -f "$D/files/bg") == "$(zd_b2 "$D/files/bg")" ]]; }
zt_check "... and the file is stored soon after" zd_wait_for 20 bgcheck

# A directory: one request per regular file, all stored.
mkdir -p "$D/dir"
for i in 1 2 3; do head -c $((i * 1000)) /dev/urandom >"$D/dir/f$i"; done
ln -s "$D/dir/f1" "$D/dir/link"
zt_check "store a directory" Z store -f "$D/dir"
ok=1
for i in 1 2 3; do [[ $(Z check -f "$D/dir/f$i") == "$(zd_b2 "$D/dir/f$i")" ]] || ok=0; done
zt_check_eq "... every file is stored" 1 $ok
zt_check_eq "... the symlink is skipped" "" "$(Z check -f "$D/dir/link")"

# ---- (f) a second instance is refused; the first keeps serving ----
"$ZT_ZSTOR" -c "$D/daemon.toml" --log_file "$D/second.log" monitor >"$D/second.out" 2>&1 &
second=$!
for ((i = 0; i < 100; i++)); do kill -0 $second 2>/dev/null || break; sleep 0.1; done
kill -0 $second 2>/dev/null && { kill -KILL $second; sleep 0.1; }
wait $second
zt_check_eq "a second daemon exits 1" 1 $?
grep -qi "another.*running\|already running" "$D/second.out" "$D/second.log"
zt_check "... saying another instance runs" test $? -eq 0
zt_check_eq "... the first still serves" "$(zd_b2 "$D/orig/one")" "$(Z check -f "$D/files/one")"
zt_check_eq "... its pid file is intact" "$ZD_PID" "$(tr -d '\n' <"$ZD_PIDFILE")"

# ---- erasures: 5 data backends dead ----
for n in d10 d11 d12 d13 d14; do zt_zdb_stop "$n"; done
rm -f "$D/files/random10m"
zt_check "retrieve with 5 of 15 backends dead" Z retrieve --file "$D/files/random10m"
zt_check "... bit-exact" cmp -s "$D/orig/random10m" "$D/files/random10m"
# ---- (e) reload ----
# A config with a syntax error is refused; the old one stays.
cp "$D/daemon.toml" "$D/daemon.good"
printf 'minimal_shards = = 3\n' >"$D/daemon.toml"
zt_log_mark "$D/daemon.log"
newlog() { zt_log_since "$D/daemon.log"; }
badlog() { newlog | grep -i "reload" | grep -qi "refus\|fail\|keep\|stays"; }
kill -USR1 "$ZD_PID"
zt_check "reload of a broken config is refused, and logged" zd_wait_for 10 badlog
newlog | grep -i "reload" | grep -q "daemon.toml:1"
zt_check "... with the file and line of the error" test $? -eq 0
zt_check "... and the daemon still runs" kill -0 "$ZD_PID"
cp "$D/daemon.good" "$D/daemon.toml"
zt_check_eq "... and serves with the old config" "$(zd_b2 "$D/orig/one")" "$(Z check -f "$D/files/one")"

# A good config (a spare group added) is applied: rebuild moves the shards of
# the dead backends onto the new group.
cp "$D/cfg-spare.toml" "$D/daemon.toml"
zt_log_mark "$D/daemon.log"
goodlog() { newlog | grep -i "reload" | grep -vqi "refus\|fail"; }
kill -USR1 "$ZD_PID"
zt_check "reload of a good config is logged" zd_wait_for 10 goodlog
zt_check "rebuild --file after the reload" Z rebuild --file "$D/files/text10m"
# The key of a path without `root`: /prefix/meta/ + BLAKE2b-128 of the path.
key=/zt/meta/$(printf %s "$(realpath "$D/files/k64p1")" | b2sum -l 128 | cut -d' ' -f1)
zt_check "rebuild --key after the reload" Z rebuild --key "$key"
# Those rebuilds fetched the objects into a scratch file: the master keeps
# one per encoder across jobs, and empties it once the encoder answers.
scratch_sizes() {
	local fd
	for fd in /proc/"$ZD_PID"/fd/*; do
		case $(readlink "$fd") in
		*'/#'*' (deleted)') stat -L -c %s "$fd" ;;
		esac
	done
}
zt_check "the scratch file of the rebuilds is kept" test -n "$(scratch_sizes)"
zt_check_eq "... and emptied" "" "$(scratch_sizes | grep -vx 0)"
zt_check "... one per encoder at most" \
    test "$(scratch_sizes | wc -l)" -le "$(zd_workers encoder | wc -w)"
Z rebuild --file "$D/files/never" 2>"$D/err"
zt_check_eq "rebuild of a file never stored exits 1" 1 $?

# ---- 6 of the original 15 backends dead ----
zt_zdb_stop d0
rm -f "$D/files/text10m" "$D/files/k64p1"
zt_check "retrieve of a rebuilt file with 6 original backends dead" \
	Z retrieve --file "$D/files/text10m"
zt_check "... bit-exact" cmp -s "$D/orig/text10m" "$D/files/text10m"
zt_check "retrieve of the file rebuilt by key" Z retrieve --file "$D/files/k64p1"
zt_check "... bit-exact" cmp -s "$D/orig/k64p1" "$D/files/k64p1"
echo "keep me" >"$D/files/random10m"
Z retrieve --file "$D/files/random10m" 2>"$D/err"
zt_check_eq "retrieve of a file not rebuilt, 6 of 15 dead, exits 1" 1 $?
grep -q "^Zstor error: .*shard" "$D/err"; zt_check "... and says why" test $? -eq 0
zt_check_eq "... the file in place is untouched" "keep me" "$(cat "$D/files/random10m")"
zt_check_eq "... no temporary file is left behind" "" "$(ls -A "$D/files" | grep zstor-)"
# 14 usable backends for 15 shards: a directory store fails file by file.
mkdir -p "$D/dir2"
printf a >"$D/dir2/a"; printf b >"$D/dir2/b"
Z store -f "$D/dir2" 2>"$D/err"
zt_check_eq "a directory store that fails exits 1" 1 $?
grep -q "^Zstor error: .*dir2/a" "$D/err" && grep -q "^Zstor error: .*dir2/b" "$D/err"
zt_check "... reports each failed file by name" test $? -eq 0
grep -q "2 of 2 files failed" "$D/err"; zt_check "... and counts them" test $? -eq 0
# Back up (the test double comes back empty), for the stores below.
for n in d0 d10 d11 d12 d13 d14; do zt_zdb_restart "$n"; done

# ---- (h) SIGTERM: exit 0, socket and pid file removed ----
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?
zt_check "... the socket is removed" test ! -e "$ZD_SOCK"
zt_check "... the pid file is removed" test ! -e "$ZD_PIDFILE"
Z check -f "$D/files/one" 2>"$D/err"
zt_check_eq "... and clients are told there is no daemon" 1 $?
# A directory store with no daemon: every file fails, and that there is no
# daemon is said once, not once a file.
mkdir -p "$D/dir3"
for f in a b c d e f g h; do printf %s "$f" >"$D/dir3/$f"; done
Z store -f "$D/dir3" 2>"$D/err"
zt_check_eq "a directory store with no daemon exits 1" 1 $?
zt_check_eq "... says there is none once" 1 "$(grep -c "$ZD_SOCK" "$D/err")"
grep -q "8 of 8 files failed" "$D/err"; zt_check "... and counts every file" test $? -eq 0

# Restart after SIGKILL: the stale socket and pid file do not stop it.
zd_start "$D/daemon.toml" "$D/daemon.log"
zt_check "restart after SIGTERM" kill -0 "$ZD_PID"
old_workers=$(zd_children "$ZD_PID")
kill -KILL "$ZD_PID"; wait "$ZD_PID" 2>/dev/null
zd_gone() { local p; for p in $old_workers; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
zt_check "after SIGKILL of the master its workers exit" zd_wait_for 10 zd_gone
for p in $old_workers; do kill -KILL "$p" 2>/dev/null; done
zt_check "... the socket and pid file stay behind" test -S "$ZD_SOCK" -a -e "$ZD_PIDFILE"
zd_start "$D/daemon.toml" "$D/daemon.log"
zt_check "restart after SIGKILL" kill -0 "$ZD_PID"
printf 'after restart' >"$D/files/restart"
zt_check "... store works" Z store -f "$D/files/restart"
rm -f "$D/files/restart" "$D/files/text10m"
zt_check "... retrieve works" Z retrieve -f "$D/files/restart"
zt_check_eq "... bit-exact" "after restart" "$(cat "$D/files/restart")"
zt_check "... retrieve of a file stored before the restarts" Z retrieve -f "$D/files/text10m"
zt_check "... bit-exact" cmp -s "$D/orig/text10m" "$D/files/text10m"
zd_stop TERM
zt_check_eq "final SIGTERM exits 0" 0 $?

zt_done
