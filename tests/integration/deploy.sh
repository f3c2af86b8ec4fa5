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

# ---- the daemon serves with it ----
zd_dirs_for_workers "$D" "$D"/b* "$D"/m*
zt_check "zstor-master starts with the deployer's config" zd_start "$D/qsfs.toml" "$D/m.log"
rm -f "$D/files/a.bin"
zt_check "retrieve through the daemon" Z "$D/qsfs.toml" retrieve -f "$D/files/a.bin"
zt_check "... bit-exact" cmp -s "$D/files/a.bin" "$D/a.orig"
head -c 1000 /dev/urandom >"$D/files/b.bin"
zt_check "store through the daemon" Z "$D/qsfs.toml" store -f "$D/files/b.bin"
zt_check_eq "check through the daemon" "$(b2 "$D/files/b.bin")" \
    "$(Z "$D/qsfs.toml" check -f "$D/files/b.bin")"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?

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
