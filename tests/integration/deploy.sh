# Configs as deployers write them, served by the daemon: every optional key
# present and empty or zero (root = "", as the QSFS deployer writes it), tables in
# another order than upstream's, empty namespaces and passwords.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
K=4b1d0f2a9c3e5d7f60718293a4b5c6d7e8f90112233445566778899aabbccdde

mkdir -p "$D/files"
for i in 0 1 2; do mkdir -p "$D/b$i"; done
for i in 0 1 2 3; do mkdir -p "$D/m$i"; done
zd_dirs_for_workers "$D" "$D"/b* "$D"/m*

# The deployer's order: [compression] and [meta] first, the metadata backends
# before [meta.config.encryption], the groups, then [encryption].
{
	cat <<EOF
minimal_shards = 2
expected_shards = 3
redundant_groups = 0
redundant_nodes = 0
root = ""
socket = "$ZD_SOCK"
pid_file = "$ZD_PIDFILE"
zdb_data_dir_path = ""
max_zdb_data_dir_size = 0
zdbfs_mountpoint = ""
prometheus_port = 0

[compression]
algorithm = "snappy"

[meta]
type = "zdb"

[meta.config]
prefix = "qsfs"
EOF
	for i in 0 1 2 3; do
		printf '\n[[meta.config.backends]]\naddress = "dir:%s"\n' "$D/m$i"
		printf 'namespace = ""\npassword = ""\n'
	done
	printf '\n[meta.config.encryption]\nalgorithm = "AES"\nkey = "%s"\n' "$K"
	printf '\n[[groups]]\n'
	for i in 0 1 2; do
		printf '\n[[groups.backends]]\naddress = "dir:%s"\n' "$D/b$i"
		printf 'namespace = ""\npassword = ""\n'
	done
	printf '\n[encryption]\nalgorithm = "AES"\nkey = "%s"\n' "$K"
} >"$D/qsfs.toml"
sed 's/^socket = .*/socket = ""/; s/^pid_file = .*/pid_file = ""/' "$D/qsfs.toml" \
    >"$D/standalone.toml"

Z() { timeout 120 "$ZT_ZSTOR" -c "$1" --log_file "$D/client.log" "${@:2}"; }
b2() { b2sum -l 128 "$1" | cut -d' ' -f1; }

# ---- standalone: socket = "" runs the commands in the client ----
head -c 300000 /dev/urandom >"$D/files/a.bin"
cp "$D/files/a.bin" "$D/a.orig"
zt_check "the deployer's config loads and stores (socket = \"\": no daemon)" \
    Z "$D/standalone.toml" store -f "$D/files/a.bin"
zt_check_eq "root = \"\" is no root: check of the absolute path" \
    "$(b2 "$D/a.orig")" "$(Z "$D/standalone.toml" check -f "$D/files/a.bin")"
zt_check "namespace = \"\" is the default namespace" test -d "$D/b0/default"

# ---- with root set, check and retrieve take a relative path as store does ----
sed "s|^root = \"\"|root = \"$D/files\"|" "$D/standalone.toml" >"$D/root.toml"
mkdir -p "$D/files/sub"
head -c 5000 /dev/urandom >"$D/files/sub/rel.bin"
cp "$D/files/sub/rel.bin" "$D/rel.orig"
zt_check "root set: store of a relative path" \
    bash -c "cd '$D/files' && '$ZT_ZSTOR' -c '$D/root.toml' --log_file '$D/client.log' \
	store -f sub/rel.bin"
zt_check_eq "... check of the same relative path" "$(b2 "$D/rel.orig")" \
    "$(cd "$D/files/sub" && Z "$D/root.toml" check -f ./rel.bin)"
zt_check_eq "... check of the absolute path agrees" "$(b2 "$D/rel.orig")" \
    "$(Z "$D/root.toml" check -f "$D/files/sub/rel.bin")"
rm -f "$D/files/sub/rel.bin"
zt_check "... retrieve of a relative path" \
    bash -c "cd '$D/files' && '$ZT_ZSTOR' -c '$D/root.toml' --log_file '$D/client.log' \
	retrieve -f sub/rel.bin"
zt_check "... bit-exact" cmp -s "$D/files/sub/rel.bin" "$D/rel.orig"

# ---- a directory store notes what it skips; test says ok ----
mkdir -p "$D/dirstore/inner"
echo one >"$D/dirstore/one"
ln -s one "$D/dirstore/link"
Z "$D/standalone.toml" store -f "$D/dirstore" 2>"$D/skip.err"
zt_check_eq "a directory store with a subdirectory and a symlink succeeds" 0 $?
zt_check "... noting the subdirectory" grep -q "skipped inner: a directory" "$D/skip.err"
zt_check "... and the symlink" grep -q "skipped link: a symbolic link" "$D/skip.err"
Z "$D/standalone.toml" test >"$D/test.out" 2>&1
zt_check_eq "zstor test prints one line on success" 1 "$(grep -c . "$D/test.out")"
zt_check "... saying what was checked" grep -q "^ok: 3 data backends in 1 groups" "$D/test.out"

# ---- -V and --help agree; one date on the man pages ----
v=$("$ZT_ZSTOR" -V | head -n 1)
h=$("$ZT_ZSTOR" --help | head -n 1)
zt_check "-V: version and commit" grep -Eq '^zstor [0-9.]+ \(commit [^)]+\)$' <<<"$v"
zt_check "-V and --help name the same version" test "${v%% (*}" = "${h%%:*}"
zt_check "-V lists the libraries" bash -c "'$ZT_ZSTOR' -V | grep -q 'libsodium .*hiredis\|hiredis .*libsodium'"
zt_check "zstor-master -V: the same version" \
    bash -c "'$ZT_MASTER' -V | head -n 1 | grep -q '^zstor-master ${v#zstor }\$'"
zt_check_eq "the three man pages carry one date" 1 \
    "$(awk 'FNR == 1 { print $4 }' "$ZT_ROOT"/man/*.[158] | sort -u | wc -l)"

# ---- progress on a terminal only (script(1) gives the command a pty) ----
head -c $((80 << 20)) /dev/urandom >"$D/files/big.bin"
script -qfec "'$ZT_ZSTOR' -c '$D/standalone.toml' --log_file '$D/client.log' \
    store -f '$D/files/big.bin'" /dev/null >"$D/pty.out" 2>&1
zt_check_eq "store of 80 MiB on a terminal succeeds" 0 $?
zt_check "... showing the bytes, the rate and the time left" \
    grep -aq "MiB of 80.0 MiB ([0-9]*%), [0-9.]* MiB/s, ETA" "$D/pty.out"
cp "$D/files/big.bin" "$D/big.orig"
# big_retrieves CONFIG HOW: big.bin retrieved on a terminal shows the bytes, the
# share of the pieces, the rate and the time left; not on one, nothing.
big_retrieves() {
	rm -f "$D/files/big.bin"
	script -qfec "'$ZT_ZSTOR' -c '$1' --log_file '$D/client.log' \
	    retrieve -f '$D/files/big.bin'" /dev/null >"$D/pty.out" 2>&1
	zt_check_eq "retrieve of 80 MiB$2 on a terminal succeeds" 0 $?
	zt_check "... showing the bytes, the share of the pieces, the rate and the time left" \
	    grep -aq "retrieve $D/files/big.bin: [0-9.]* MiB ([0-9]*%), [0-9.]* MiB/s, ETA [0-9]*:[0-9][0-9]" \
	    "$D/pty.out"
	zt_check "... bit-exact" cmp -s "$D/files/big.bin" "$D/big.orig"
	rm -f "$D/files/big.bin"
	Z "$1" retrieve -f "$D/files/big.bin" 2>"$D/noprog.err"
	zt_check_eq "retrieve of 80 MiB$2 with stderr not a terminal: nothing on stderr" "" \
	    "$(cat "$D/noprog.err")"
	zt_check "... bit-exact" cmp -s "$D/files/big.bin" "$D/big.orig"
}
big_retrieves "$D/standalone.toml" ""
head -c $((80 << 20)) /dev/zero >"$D/files/big2.bin"
Z "$D/standalone.toml" store -f "$D/files/big2.bin" 2>"$D/noprog.err"
zt_check_eq "store of 80 MiB, not a terminal: nothing on stderr" "" "$(cat "$D/noprog.err")"
head -c 1000000 /dev/urandom >"$D/files/small.bin"
script -qfec "'$ZT_ZSTOR' -c '$D/standalone.toml' --log_file '$D/client.log' \
    store -f '$D/files/small.bin'" /dev/null >"$D/pty.out" 2>&1
zt_check_eq "a small store on a terminal shows no progress" "" "$(tr -d '\r\n' <"$D/pty.out")"
rm -f "$D/files/small.bin"
script -qfec "'$ZT_ZSTOR' -c '$D/standalone.toml' --log_file '$D/client.log' \
    retrieve -f '$D/files/small.bin'" /dev/null >"$D/pty.out" 2>&1
zt_check_eq "a small retrieve on a terminal shows no progress" "" "$(tr -d '\r\n' <"$D/pty.out")"

# ---- the daemon serves with it ----
zd_dirs_for_workers "$D" "$D"/b* "$D"/m*
zt_check "zstor-master starts with the deployer's config" zd_start "$D/qsfs.toml" "$D/m.log"
rm -f "$D/files/a.bin"
zt_check "retrieve through the daemon" Z "$D/qsfs.toml" retrieve -f "$D/files/a.bin"
zt_check "... bit-exact" cmp -s "$D/files/a.bin" "$D/a.orig"
big_retrieves "$D/qsfs.toml" " through the daemon"
head -c 1000 /dev/urandom >"$D/files/b.bin"
zt_check "store through the daemon" Z "$D/qsfs.toml" store -f "$D/files/b.bin"
zt_check_eq "check through the daemon" "$(b2 "$D/files/b.bin")" \
    "$(Z "$D/qsfs.toml" check -f "$D/files/b.bin")"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?

# zstor monitor in a terminal: the log goes to the terminal as well. script(1)
# runs the command through $SHELL -c; exec makes the master its child whatever
# that shell is (dash forks), so that SIGTERM below reaches the master.
script -qfec "exec '$ZT_ZSTOR' -c '$D/qsfs.toml' --log_file '$D/mon.log' monitor" \
    "$D/mon.tty" >/dev/null 2>&1 &
SP=$!
monitor_up() { grep -aq "every worker is ready" "$D/mon.tty" 2>/dev/null; }
zt_check "zstor monitor in a terminal logs there too" zd_wait_for 30 monitor_up
zt_check "... and to its --log_file" grep -q "every worker is ready" "$D/mon.log"
mp=$(pgrep -P "$SP" | head -n 1)
[[ -n $mp ]] && kill -TERM "$mp"
wait "$SP"
zt_check_eq "... and stops on SIGTERM" 0 $?
zt_check "... the master itself" eval '[[ -n $mp ]] && ! kill -0 "$mp" 2>/dev/null'

# ---- the workers' user (as root) ----
worker_uid() {	# the real uid of the master's first worker
	local pid
	for pid in $(zd_children "$ZD_PID"); do
		awk '/^Uid:/ { print $2; exit }' "/proc/$pid/status" 2>/dev/null && return
	done
}
has_workers() { [[ -n $(worker_uid) ]]; }
runs_as() { [[ $(worker_uid) == "$1" ]]; }	# once dropped: start-up takes a while
master_as() {	# USER LOG: zstor-master --user USER in the background, with workers
	"$ZT_MASTER" -c "$D/qsfs.toml" --log_file "$2" --user "$1" 2>"$2.err" &
	ZD_PID=$!
	zd_wait_for 20 has_workers
}
if ((EUID == 0)); then
	missing=zstor-missing-$$
	zt_check "a missing --user: the master still starts" master_as "$missing" "$D/u1.log"
	zt_check "... saying how to create the user" grep -q "useradd --system.* $missing" \
	    "$D/u1.log"
	zt_check "... and that the workers run as nobody" grep -q "run as nobody" "$D/u1.log.err"
	zt_check "... which they do" zd_wait_for 20 runs_as "$(id -u nobody)"
	zt_check "... and serve" zd_wait_ready "$D/qsfs.toml"
	zd_stop TERM
	zt_check "--user names another user" master_as daemon "$D/u2.log"
	zt_check "... whom the workers run as" zd_wait_for 20 runs_as "$(id -u daemon)"
	zd_stop TERM
	if ! id -u zstor >/dev/null 2>&1; then
		ZSTOR_USER= "$ZT_MASTER" -c "$D/qsfs.toml" --log_file "$D/u3.log" \
		    2>/dev/null &
		ZD_PID=$!
		zd_wait_for 20 has_workers
		zt_check "no --user: the zstor user, missing here, is named" \
		    grep -q "user zstor does not exist" "$D/u3.log"
		zd_stop TERM
	fi
	# A dir: backend the workers' user cannot write: said so, with the fix.
	mkdir -p "$D/locked"
	chmod 700 "$D/locked"
	sed "s|dir:$D/m0\"|dir:$D/locked\"|" "$D/qsfs.toml" >"$D/locked.toml"
	zt_check "a config with a backend nobody cannot write" \
	    grep -q "dir:$D/locked" "$D/locked.toml"
	"$ZT_ZSTOR" -c "$D/locked.toml" --log_file "$D/l.log" monitor >/dev/null 2>&1 &
	ZD_PID=$!
	zd_wait_for 20 test -S "$ZD_SOCK"
	Z "$D/locked.toml" store -f "$D/files/b.bin" 2>"$D/locked.err"
	zt_check "store: the backend nobody cannot write is named as such" \
	    grep -q "user nobody cannot write the backend directory $D/locked" "$D/locked.err"
	zt_check "... with the fix" grep -q "chown -R nobody $D/locked" "$D/locked.err"
	zt_check "... not as unreachable" eval '! grep -q unreachable "$D/locked.err"'
	zd_stop TERM
else
	zt_skip "the workers' user: needs root"
fi

# ---- password = "" on 0-db backends: sent as upstream sends it ----
zt_zdb_start dm0 user && zt_zdb_start dm1 user && zt_zdb_start dm2 user &&
    zt_zdb_start dm3 user && zt_zdb_start dd0 seq && zt_zdb_start dd1 seq &&
    zt_zdb_start dd2 seq
meta=""
for n in dm0 dm1 dm2 dm3; do meta="$meta $(zt_zdb_addr $n)#$n#"; done
data=""
for n in dd0 dd1 dd2; do data="$data $(zt_zdb_addr $n)#$n#"; done
zt_write_config "$D/zdb.toml" 2 3 0 0 "$meta" "$data"
zt_check "password = \"\" is in the config" grep -q 'password = ""' "$D/zdb.toml"
zt_check "store on 0-db namespaces without a password, password = \"\"" \
    Z "$D/zdb.toml" store -f "$D/files/b.bin"
cp "$D/files/b.bin" "$D/b.orig"
rm -f "$D/files/b.bin"
zt_check "... and retrieve" Z "$D/zdb.toml" retrieve -f "$D/files/b.bin"
zt_check "... bit-exact" cmp -s "$D/files/b.bin" "$D/b.orig"

# ---- status and errors name the cause ----
zt_zdb_start dd3 seq
zt_zdb_start dd4 seq
zt_write_config "$D/status.toml" 2 3 0 0 "$meta" \
    "$(zt_zdb_addr dd0)#dd0# $(zt_zdb_addr dd1)#dd1 $(zt_zdb_addr dd2)#dd2" \
    "$(zt_zdb_addr dd3)#dd3 $(zt_zdb_addr dm0)#dm0 $(zt_zdb_addr dd4)#dd4"
zt_zdb_cmd dd0 NSSET dd0 password secret >/dev/null
zt_zdb_stop dd1
zt_zdb_full dd2
Z "$D/status.toml" store -f "$D/files/b.bin" >/dev/null 2>&1	# fills dd2 past its limit
zt_zdb_hang dd3
ZSTOR_TIMEOUT_MS=1500 Z "$D/status.toml" status >"$D/status" 2>"$D/status.err"
zt_check_eq "status exits 0 with broken backends" 0 $?
row() { grep -F "$(zt_zdb_addr "$1") - $1 " "$D/status" | tail -n 1 | awk -F'|' '{ print $3 }' | xargs; }
zt_check_eq "status: a wrong password" "No (wrong password)" "$(row dd0)"
zt_check_eq "status: a refused connection" "No (refused)" "$(row dd1)"
zt_check_eq "status: a timeout" "No (timeout)" "$(row dd3)"
zt_check_eq "status: a namespace in the wrong mode" "No (wrong mode)" "$(row dm0)"
zt_check_eq "status: a full namespace" "Yes (full)" "$(row dd2)"
zt_check_eq "status: a healthy one" "Yes" "$(row dd4)"
zt_check "status: the full reasons on stderr" grep -q "Access denied" "$D/status.err"
zt_zdb_unhang dd3
# A metadata namespace in the wrong mode, or with a wrong password: said so.
zt_write_config "$D/meta-mode.toml" 2 3 0 0 \
    "$(zt_zdb_addr dd4)#dd4 $(zt_zdb_addr dm1)#dm1 $(zt_zdb_addr dm2)#dm2 $(zt_zdb_addr dm3)#dm3" \
    "$(zt_zdb_addr dd4)#dd4 $(zt_zdb_addr dd3)#dd3 $(zt_zdb_addr dd2)#dd2"
Z "$D/meta-mode.toml" store -f "$D/files/b.bin" 2>"$D/err"
zt_check "a metadata namespace in sequential mode is named as such" \
    grep -q "expected 0-db namespace to be in user-key mode" "$D/err"
zt_check "... not as unreachable" eval '! grep -q unreachable "$D/err"'
zt_zdb_cmd dm1 NSSET dm1 password secret >/dev/null
zt_write_config "$D/meta-pw.toml" 2 3 0 0 \
    "$(zt_zdb_addr dm0)#dm0 $(zt_zdb_addr dm1)#dm1#wrong $(zt_zdb_addr dm2)#dm2 $(zt_zdb_addr dm3)#dm3" \
    "$(zt_zdb_addr dd4)#dd4 $(zt_zdb_addr dd3)#dd3 $(zt_zdb_addr dd2)#dd2"
Z "$D/meta-pw.toml" store -f "$D/files/b.bin" 2>"$D/err"
zt_check "a metadata namespace with a wrong password is named as such" \
    grep -q "wrong namespace password" "$D/err"
zt_check "... not as unreachable" eval '! grep -q unreachable "$D/err"'

# ---- upstream's README policy: placed as upstream places it, with a warning ----
for i in $(seq 0 29); do mkdir -p "$D/p$i"; done
for i in 0 1 2 3; do mkdir -p "$D/pm$i"; done
pg() { local i s=""; for ((i = $1; i <= $2; i++)); do s="$s dir:$D/p$i"; done; echo "$s"; }
zt_write_config "$D/readme.toml" 10 15 1 1 \
    "dir:$D/pm0 dir:$D/pm1 dir:$D/pm2 dir:$D/pm3" "$(pg 0 14)" "$(pg 15 29)"
Z "$D/readme.toml" test >"$D/out" 2>"$D/err"
zt_check_eq "zstor test with the README policy over 2 groups of 15 succeeds" 0 $?
zt_check "... warning with the losses really survived" \
    grep -q "survives the loss of any 5 backends, but of only 0 whole group" "$D/err"
head -c 200000 /dev/urandom >"$D/files/r.bin"
cp "$D/files/r.bin" "$D/r.orig"
zt_check "store with the README policy succeeds, as upstream's does" \
    Z "$D/readme.toml" store -f "$D/files/r.bin"
zt_check "... and the log carries the warning" grep -q "placed as upstream places" \
    "$D/client.log"
rm -f "$D/files/r.bin"
zt_check "retrieve with the README policy" Z "$D/readme.toml" retrieve -f "$D/files/r.bin"
zt_check "... bit-exact" cmp -s "$D/files/r.bin" "$D/r.orig"

zt_done
