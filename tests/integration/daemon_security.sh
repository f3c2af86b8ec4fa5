# Local attacks on zstor-master, each replayed as an unprivileged user this
# suite creates (useradd; removed at the end): state directories planted or
# left writable, records not the daemon's own, a pid file that is a link, log
# lines forged through a request. Each is refused with a clear error, and the
# daemon keeps serving others.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
if ((EUID != 0)) || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	zt_skip "attacks as another user (need root, useradd and setpriv)"
	zt_done
fi
zd_user atk || { zt__fail "create the attacker's user" "useradd failed"; zt_done; }
ATK=$ZD_USER
chmod 711 "$D"
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

echo hello >"$D/files/ok"
zt_check "the daemon serves others after all this" Z store -f "$D/files/ok"
zt_check_eq "... check" "$(zd_b2 "$D/files/ok")" "$(Z check -f "$D/files/ok")"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?
zt_done
