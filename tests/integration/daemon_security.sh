# Local attacks on zstor-master, each replayed as an unprivileged user this
# suite creates (useradd; removed at the end): state directories planted or
# left writable, records not the daemon's own, a pid file that is a link, log
# lines forged through a request, requests for paths the user could not
# touch itself. Each is refused with a clear error, and the
# daemon keeps serving others.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
zd_attacker atk attacks
mkdir -p "$D/files" "$D/tmp"
chmod 1777 "$D/tmp"		# a /tmp of the suite's own

# start_refused DESC PATTERN CFG: zstor-master exits 1 at once, and its
# stderr says PATTERN.
start_refused() {
	local desc=$1 pattern=$2 cfg=$3 rc
	timeout 30 "$ZT_MASTER" -c "$cfg" --log_file "$D/refused.log" \
	    >"$D/refused.out" 2>&1
	rc=$?
	if ((rc == 1)) && grep -q -- "$pattern" "$D/refused.out"; then
		zt__pass "$desc"
	else
		zt__fail "$desc" "exit status $rc, expected 1 saying: $pattern" \
		    "$(cat "$D/refused.out")"
	fi
}
# cfg_with PIDFILE SOCKET: a config naming them (no backend is reached).
cfg_with() {
	ZT_CONFIG_EXTRA="socket = \"$2\"
pid_file = \"$1\"" zt_write_config "$D/refused.toml" 2 3 0 0 \
	    "dir:$D/m0#m dir:$D/m1#m dir:$D/m2#m dir:$D/m3#m" \
	    "dir:$D/b0#d dir:$D/b1#d dir:$D/b2#d"
}

# ---- planted failure records (pid_file in a /tmp) ----
echo "root's secret" >"$D/victim"
chmod 600 "$D/victim"
zd_as "$ATK" mkdir "$D/tmp/z.pid.failures"
zd_as "$ATK" sh -c "printf '%s' '{\"path\":\"$D/victim\",\"key_path\":\"$D/victim\",\"delete\":true,\"uid\":0,\"gid\":0}' >'$D/tmp/z.pid.failures/00112233445566778899aabbccddeeff.json'"
cfg_with "$D/tmp/z.pid" "$D/tmp/z.sock"
start_refused "a failures directory planted by another user: refused" \
    "z.pid.failures is owned by uid $(id -u "$ATK"), not by zstor-master's user" \
    "$D/refused.toml"
zt_check "... the victim is untouched" test -e "$D/victim"
zt_check "... no socket was bound" test ! -e "$D/tmp/z.sock"
rm -rf "$D/tmp/z.pid.failures"
mkdir -m 0777 "$D/tmp/z.pid.failures"
start_refused "a failures directory anyone can write: refused" \
    "writable by its group or by others (mode 0777)" "$D/refused.toml"
rm -rf "$D/tmp/z.pid.failures"
ln -s "$D/files" "$D/tmp/z.pid.failures"
start_refused "a failures directory that is a link: refused" \
    "must be a directory, not a link" "$D/refused.toml"
rm -f "$D/tmp/z.pid.failures"

# ---- the pid file and the socket's directory ----
zd_as "$ATK" ln -s "$D/victim" "$D/tmp/z.pid"
start_refused "a pid file that is another user's link: refused" \
    "cannot write the pid file" "$D/refused.toml"
zt_check_eq "... the link's target is untouched" "root's secret" "$(cat "$D/victim")"
rm -f "$D/tmp/z.pid"
zd_as "$ATK" touch "$D/tmp/z.pid"
start_refused "a pid file of another user: refused" \
    "z.pid is owned by uid $(id -u "$ATK")" "$D/refused.toml"
rm -f "$D/tmp/z.pid"
mkdir -m 0775 "$D/gw"
chgrp "$ATK" "$D/gw"
cfg_with "$D/tmp/z.pid" "$D/gw/z.sock"
start_refused "a socket directory its group can write: refused" \
    "the directory of $D/gw/z.sock cannot be trusted" "$D/refused.toml"
zt_check "... and the pid file is not left behind" test ! -e "$D/tmp/z.pid"

# ---- a record that is not the daemon's own (0644) is not honoured ----
mkdir -m 0700 "$ZD_PIDFILE.failures"
printf '%s' "{\"path\":\"$D/victim\",\"key_path\":\"$D/victim\",\"delete\":true,\"uid\":0,\"gid\":0}" \
    >"$ZD_PIDFILE.failures/00112233445566778899aabbccddeeff.json"
chmod 644 "$ZD_PIDFILE.failures/00112233445566778899aabbccddeeff.json"
zd_small_cluster
grep -q "00112233445566778899aabbccddeeff.json is not honoured: a record must be a file of zstor-master's user (uid 0), mode 0600; this one is uid 0, mode 0644" "$D/daemon.log"
zt_check "a record of mode 0644 is not honoured, and the log says why" test $? -eq 0
zt_check "... the victim is not deleted" test -e "$D/victim"
zt_check_eq "... nor stored" "" "$(Z check -f "$D/victim")"

# ---- log lines forged through a request ----
forged='{"v":1,"type":"check","id":1,"path":"/x\n2030-01-01 00:00:00 +0000: INFO master: uid 0 pid 1: forged"}'
zd_as "$ATK" true
chmod 666 "$ZD_SOCK"
zd_as "$ATK" "$ZT_SEND" --timeout 10000 "$ZD_SOCK" "$forged" >"$D/forged.out" 2>&1
zt_check "a request with a newline in its path is answered" grep -q '"ok":true' "$D/forged.out"
zt_check_fail "... and forges no log line" grep -q '^2030-01-01' "$D/daemon.log"
grep -q 'check /x\\n2030-01-01 00:00:00 +0000: INFO master: uid 0 pid 1: forged' "$D/daemon.log"
zt_check "... the newline is logged as \\n" test $? -eq 0
chmod 660 "$ZD_SOCK"

# ---- the client's rights: only what it could do itself ----
chmod 666 "$ZD_SOCK"		# the attacker is on the socket
mkdir -m 0700 "$D/rootdir"
echo "root's secret" >"$D/rootdir/secret.txt"
chmod 600 "$D/rootdir/secret.txt"
zt_check "root stores its secret" Z store -f "$D/rootdir/secret.txt"
sum=$(zd_b2 "$D/rootdir/secret.txt")
mkdir -m 0755 "$D/atk"
chown "$ATK:$ATK" "$D/atk"
zd_as "$ATK" sh -c "echo attacker >'$D/atk/mine'; : >'$D/atk/out'"
ZA() { zd_as "$ATK" timeout 60 "$ZT_ZSTOR" -c "$D/cfg.toml" --log_file "$D/atk/client.log" "$@"; }
SA() { zd_as "$ATK" timeout 30 "$ZT_SEND" --timeout 10000 "$@"; }
# refused SEND-FRAME-ARGS...: ok:false with "not allowed", then closed
refused() {
	local desc=$1 out
	shift
	out=$(SA "$@" 2>&1)
	if [[ $out == *'"ok":false'*'not allowed'* ]]; then
		zt__pass "$desc"
	else
		zt__fail "$desc" "send-frame $*" "$out"
	fi
	LAST_REPLY=$out
}
refused "another user's retrieve of root's 0600 file into their own file: refused" \
    --fd "$D/atk/out" "$ZD_SOCK" "{\"v\":1,\"type\":\"retrieve\",\"id\":1,\"path\":\"$D/rootdir/secret.txt\"}"
[[ $LAST_REPLY == *"uid $(id -u "$ATK") may not retrieve into $D/rootdir/secret.txt"* ]]
zt_check "... the error says who may not do what" test $? -eq 0
zt_check_eq "... and nothing was written" 0 "$(stat -c %s "$D/atk/out")"
STORE_AS='{"v":1,"type":"store","id":1,"path":"PATH","key_path":"PATH","delete":false,"blocking":true,"save_failure":false}'
refused "another user's store of their file under root's path: refused" \
    --fd "$D/atk/mine" "$ZD_SOCK" "${STORE_AS//PATH/$D/rootdir/secret.txt}"
zt_check_eq "... root's object is unchanged" "$sum" "$(Z check -f "$D/rootdir/secret.txt")"
refused "... and under /etc/shadow: refused" \
    --fd "$D/atk/mine" "$ZD_SOCK" "${STORE_AS//PATH//etc/shadow}"
zt_check_eq "... nothing is stored under /etc/shadow" "" "$(Z check -f /etc/shadow)"
ZA check -f "$D/rootdir/secret.txt" >"$D/atk.out" 2>&1
zt_check_eq "another user's check of a path in a directory they cannot search: exit 1" 1 $?
zt_check "... saying it is not allowed" grep -q "not allowed: uid $(id -u "$ATK") may not look up" "$D/atk.out"
zt_check_fail "... and no checksum" grep -q "$sum" "$D/atk.out"
ZA rebuild -k /zt/meta/00112233445566778899aabbccddeeff >"$D/atk.out" 2>&1
zt_check_eq "another user's rebuild by key: exit 1" 1 $?
zt_check "... only root or the admin group may" grep -q "may not rebuild by key; only root" "$D/atk.out"
# what the user may do
zt_check "the user stores their own file" ZA store -f "$D/atk/mine"
zt_check_eq "... checks it" "$(zd_b2 "$D/atk/mine")" "$(ZA check -f "$D/atk/mine")"
zd_as "$ATK" rm "$D/atk/mine"
zt_check "... retrieves it" ZA retrieve -f "$D/atk/mine"
zt_check_eq "... bit-exact" attacker "$(cat "$D/atk/mine")"
zt_check "... stores it with a key path they can write" ZA store -k "$D/tmp" -f "$D/atk/mine"
ZA store -k "$D/rootdir" -f "$D/atk/mine" >"$D/atk.out" 2>&1
zt_check_eq "... but not with root's directory as key path" 1 $?
zt_check "... saying it is not allowed" grep -q "not allowed" "$D/atk.out"
zt_check_eq "... root's object is unchanged" "$sum" "$(Z check -f "$D/rootdir/secret.txt")"
chmod 660 "$ZD_SOCK"

# ---- retrieve keeps the file's identity ----
echo "shadow-like" >"$D/files/shadow"
chown "root:$ATK" "$D/files/shadow"
chmod 640 "$D/files/shadow"
zt_check "store a root:group 0640 file" Z store -f "$D/files/shadow"
echo "changed" >"$D/files/shadow"
chmod 600 "$D/files/shadow"
chmod 640 "$D/files/shadow"
zt_check "retrieve over it" Z retrieve -f "$D/files/shadow"
zt_check_eq "... mode, owner and group kept" "640 root $ATK" "$(stat -c '%a %U %G' "$D/files/shadow")"
zt_check_eq "... content retrieved" "shadow-like" "$(cat "$D/files/shadow")"
rm "$D/files/shadow"
(umask 027; Z retrieve -f "$D/files/shadow")
zt_check_eq "a new file gets 0666 & ~umask (027)" "640" "$(stat -c '%a' "$D/files/shadow")"

echo hello >"$D/files/ok"
zt_check "the daemon serves others after all this" Z store -f "$D/files/ok"
zt_check_eq "... check" "$(zd_b2 "$D/files/ok")" "$(Z check -f "$D/files/ok")"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?

# ---- workers with a unix: backend may use unix sockets (only they) ----
mkdir -p "$D/u0"
"$ZT_DOUBLE" --socket "$D/u0.sock" --data "$D/u0/data" --index "$D/u0/index" \
    --datasize 1M --mode user >>"$D/u0/log" 2>&1 &
UP=$!
zd_wait_for 10 test -S "$D/u0.sock"
chmod 666 "$D/u0.sock"		# the workers' user dials it
zd_config "$D/cfg-unix.toml" 4 6 "unix:$D/u0.sock $(zd_be m1 m2 m3)" \
    "$(zd_be d0 d1 d2 d3 d4 d5)"
ZD_MASTER_ARGS="--admin-group $ATK" zd_start "$D/cfg-unix.toml" "$D/daemon-unix.log"
Z() { zd_client "$D/cfg-unix.toml" "$D/client.log" "$@"; }
echo "over a unix socket" >"$D/files/unix"
zt_check "a store with a metadata backend on a unix socket" Z store -f "$D/files/unix"
zt_check_eq "... check" "$(zd_b2 "$D/files/unix")" "$(Z check -f "$D/files/unix")"
chmod 666 "$ZD_SOCK"
zd_as "$ATK" timeout 60 "$ZT_ZSTOR" -c "$D/cfg-unix.toml" --log_file /dev/null \
    rebuild -k /zt/meta/00112233445566778899aabbccddeeff >"$D/atk.out" 2>&1
zt_check_fail "a member of --admin-group may rebuild by key" grep -q "not allowed" "$D/atk.out"
zt_check "... (and is told the key has no metadata)" grep -qi "no metadata" "$D/atk.out"
# a file name with a newline, stored by the user: one log line
mkdir -m 0777 "$D/names"
zd_as "$ATK" sh -c "echo x >'$D/names/a
2030-01-01 00:00:00 +0000: INFO master: forged'"
zd_as "$ATK" timeout 60 "$ZT_ZSTOR" -c "$D/cfg-unix.toml" --log_file /dev/null \
    store -f "$D/names" >/dev/null 2>&1
zt_check "a file name with a newline is stored" grep -q 'store .*names/a\\n2030-01-01' "$D/daemon-unix.log"
zt_check_fail "... and forges no log line" grep -q '^2030-01-01' "$D/daemon-unix.log"
chmod 660 "$ZD_SOCK"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?
kill "$UP"
zt_done
