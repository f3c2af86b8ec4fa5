# The Debian package: built offline with dpkg-deb, installed with dpkg -i (the
# user created, an existing config left alone), zstor-master started from the
# installed files with the example config adapted to dir: backends (no
# systemctl), the unit checked by systemd-analyze, then dpkg -r and --purge.
# Root only; it leaves the machine as it found it. While it runs, the zstor user
# exists and workers of other suites would drop to it:
# zt: exclusive
# The package is made of the plain build; a sanitizer build's would only test
# the same scripts again:
# zt: plain build only
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR

if ((EUID != 0)); then
	zt_skip "the Debian package: dpkg -i needs root (run make check as root)"
	zt_done
fi
if dpkg-query -W -f='${Status}' zstor 2>/dev/null | grep -q installed; then
	zt_skip "the Debian package: a zstor package is installed here already; not touching it"
	zt_done
fi
had_user=0; id -u zstor >/dev/null 2>&1 && had_user=1
had_conf=0; [[ -e /etc/zstor/zstor.toml ]] && had_conf=1
cleanup_pkg() {
	dpkg --purge zstor >/dev/null 2>&1
	((had_user)) || userdel zstor >/dev/null 2>&1
	((had_conf)) || { rm -f /etc/zstor/zstor.toml; rmdir /etc/zstor 2>/dev/null; }
}
trap 'cleanup_pkg; zd__cleanup; zt__cleanup' EXIT

deb=$(bash "$ZT_ROOT/scripts/mkdeb" "$ZT_BUILD" "$D/out")
zt_check "make deb's script builds a .deb" test -f "$deb"
zt_check "... with both programs, the man pages, the unit and the example config" \
    bash -c "dpkg-deb -c '$deb' | grep -q ' ./usr/bin/zstor\$' &&
	dpkg-deb -c '$deb' | grep -q ' ./usr/bin/zstor-master\$' &&
	dpkg-deb -c '$deb' | grep -q 'man8/zstor-master.8.gz' &&
	dpkg-deb -c '$deb' | grep -q 'man1/zstor.1.gz' &&
	dpkg-deb -c '$deb' | grep -q 'man5/zstor.conf.5.gz' &&
	dpkg-deb -c '$deb' | grep -q 'lib/systemd/system/zstor-master.service' &&
	dpkg-deb -c '$deb' | grep -q 'etc/zstor/zstor.toml.example'"
zt_check "... naming the source packages zstor links statically (Static-Built-Using)" \
    bash -c "ldd '$ZT_BUILD/zstor' | grep -q libsodium ||
	dpkg-deb -f '$deb' Static-Built-Using | grep -q 'libsodium (= '"

# An operator's config, there before the package: it must stay as it is.
if ((!had_conf)); then
	mkdir -p /etc/zstor
	echo "# the operator's" >/etc/zstor/zstor.toml
fi
before=$(b2sum /etc/zstor/zstor.toml)
zt_check "dpkg -i installs it" dpkg -i "$deb"
zt_check "... creating the zstor system user" id -u zstor
zt_check "... with no login shell" bash -c "getent passwd zstor | grep -q nologin"
zt_check_eq "... leaving the existing config alone" "$before" "$(b2sum /etc/zstor/zstor.toml)"
zt_check "... installing the example config" test -f /etc/zstor/zstor.toml.example
zt_check "dpkg -i again (an upgrade) works" dpkg -i "$deb"
zt_check_eq "... and still leaves the config alone" "$before" "$(b2sum /etc/zstor/zstor.toml)"
zt_check "the installed zstor runs" /usr/bin/zstor --version

# The unit: systemd's own checks (its ExecStart is the installed program).
unit=/lib/systemd/system/zstor-master.service
zt_check "systemd-analyze verify accepts the unit" \
    systemd-analyze verify --man=no "$unit"
exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
    sed -n 's/.*Overall exposure level for zstor-master.service: \([0-9.]*\).*/\1/p')
zt_check "systemd-analyze security rates it (exposure $exposure)" test -n "$exposure"
zt_check "... at most 5.0, \"OK\"" awk -v x="$exposure" 'BEGIN { exit !(x <= 5.0) }'
zt_check "the unit keeps /tmp shared (QSFS: socket and --delete in /tmp)" \
    bash -c "! grep -q '^PrivateTmp=yes' '$unit' && grep -q '^ReadWritePaths=.* /tmp' '$unit'"

# The example config, adapted to dir: backends, served by the installed daemon
# with its workers as the zstor user.
for i in 0 1 2 3; do mkdir -p "$D/m$i"; done
for i in 0 1 2; do mkdir -p "$D/b$i"; done
chmod 711 "$D"
chown -R zstor: "$D"/m* "$D"/b*
awk -v d="$D" '
	/^address = / { n++; if (n <= 4) print "address = \"dir:" d "/m" n - 1 "\"";
	    else print "address = \"dir:" d "/b" n - 5 "\""; next }
	/^socket = / { print "socket = \"" d "/zstor.sock\""; next }
	/^pid_file = / { print "pid_file = \"" d "/zstor.pid\""; next }
	{ print }' /etc/zstor/zstor.toml.example >"$D/zstor.toml"
ZD_SOCK=$D/zstor.sock
zt_check "the adapted example names dir: backends only" \
    bash -c "! grep -q '2001:db8' '$D/zstor.toml'"
ZSTOR_USER= /usr/bin/zstor-master -c "$D/zstor.toml" --log_file "$D/m.log" &
ZD_PID=$!
ZT_ZSTOR=/usr/bin/zstor
zt_check "the installed zstor-master starts with it and serves" zd_wait_ready "$D/zstor.toml"
first_worker_is() {	# UID: the first worker runs as UID (it drops at start-up)
	local w
	w=$(pgrep -P "$ZD_PID" | head -n 1)
	[[ -n $w && $(awk '/^Uid:/ { print $2 }' "/proc/$w/status" 2>/dev/null) == "$1" ]]
}
zt_check "... its workers run as zstor" zd_wait_for 20 first_worker_is "$(id -u zstor)"
head -c 500000 /dev/urandom >"$D/f.bin"
cp "$D/f.bin" "$D/f.orig"
zt_check "store through it" /usr/bin/zstor -c "$D/zstor.toml" --log_file "$D/c.log" \
    store -f "$D/f.bin"
rm -f "$D/f.bin"
zt_check "retrieve through it" /usr/bin/zstor -c "$D/zstor.toml" --log_file "$D/c.log" \
    retrieve -f "$D/f.bin"
zt_check "... bit-exact" cmp -s "$D/f.bin" "$D/f.orig"
zd_stop TERM
zt_check_eq "it stops on SIGTERM" 0 $?

zt_check "dpkg -r removes it" dpkg -r zstor
zt_check "... the programs are gone" bash -c "! test -e /usr/bin/zstor && ! test -e /usr/bin/zstor-master"
zt_check_eq "... the operator's config is still there" "$before" "$(b2sum /etc/zstor/zstor.toml)"
zt_check "dpkg --purge" dpkg --purge zstor
zt_check "... removes the example config" test ! -e /etc/zstor/zstor.toml.example
zt_check_eq "... and not the operator's" "$before" "$(b2sum /etc/zstor/zstor.toml)"
zt_done
