# A QSFS-like set-up: a local 0-db whose --hook stores each data file it
# closes with `zstor store -s` and fetches a missing one back with `zstor
# retrieve` (as QSFS's hook script does), its data directory the daemon's
# zdb_data_dir_path with a small max_zdb_data_dir_size. Values written
# through the local 0-db fill several data files; the evictor keeps the
# directory under its limit, and every value reads back bit-exact, the
# evicted files fetched back by 0-db's missing-data hook.
#
# Needs a real 0-db (ZDB_BIN) for the local one: the test double has no
# hooks. The backends behind zstor are the double or real 0-dbs, as usual.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
. "$(dirname "$0")/lib-qsfs.sh"
zt_init
zd_init
D=$ZT_DIR

if [[ -z ${ZDB_BIN:-} ]]; then
	zt_skip "the QSFS set-up needs a real 0-db for its local cache (set ZDB_BIN): the test double has no --hook"
	zt_done
fi

for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done

NS=zdbfs-data
CACHE=$D/local/data/$NS
mkdir -p "$D/local"
LIMIT_MIB=3
ZD_EXTRA="zdb_data_dir_path = \"$CACHE\"
max_zdb_data_dir_size = $LIMIT_MIB" zd_config "$D/cfg.toml" 4 6 \
    "$(zd_be m0 m1 m2 m3)" "$(zd_be d0 d1 d2 d3 d4 d5)"
Z() { zd_client "$D/cfg.toml" "$D/client.log" "$@"; }

zq_hook "$D/cfg.toml"
ZD_MASTER_ARGS="--evict-interval 1" zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "the daemon serves" kill -0 "$ZD_PID"

# The local 0-db, in user-key mode, 1 MiB data files.
trap 'zq_local_stop; zd__cleanup; zt__cleanup' EXIT
zt_check "the local 0-db runs with the hook" zq_local_start --datasize 1M --mode user
zt_check "... its namespace" L NSNEW "$NS"

# 60 values of about 90 KiB: some 5 MiB, five data files and more.
bad=0
for i in $(seq 1 60); do
	{ printf '%s:' "$i"; head -c 67000 /dev/urandom | base64 -w0; } >"$D/v$i"
	L --select "$NS" SET "k$i" "@$D/v$i" >/dev/null || bad=$((bad + 1))
done
zt_check_eq "60 values written through the local 0-db" 0 "$bad"
files=$(find "$CACHE" -maxdepth 1 -name 'd*' | wc -l)
stored() { (($(grep -c '^jump-data' "$D/hook.log" 2>/dev/null) >= 4)); }
zt_check "its closed data files went to zstor (the jump-data hook)" zd_wait_for 60 stored

# The cache under its limit, within a few passes.
cache_bytes() {
	find "$CACHE" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
under() { (($(cache_bytes) < LIMIT_MIB * 1024 * 1024)); }
zt_check "the evictor brings the cache under $LIMIT_MIB MiB (from $files data files)" \
    zd_wait_for 60 under
zt_check "... by deleting data files zstor holds" zt_log_has "$D/daemon.log" "evictor: deleted $CACHE/d"

# Every value reads back: 0-db fetches the evicted files with missing-data.
bad=0
for i in $(seq 1 60); do
	got=$(L --select "$NS" GET "k$i" 2>&1)
	[[ $got == "$(cat "$D/v$i")" ]] || bad=$((bad + 1))
done
zt_check_eq "every value reads back bit-exact" 0 "$bad"
zt_check "... the evicted files came back through the missing-data hook" \
    grep -q '^missing-data' "$D/hook.log"
zt_check "... and the cache goes back under its limit" zd_wait_for 60 under

zt_done
