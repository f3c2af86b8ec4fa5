# The evictor (zdb_data_dir_path, max_zdb_data_dir_size): with the directory
# laid out as 0-db makes it in QSFS (root's, mode 0700) and the workers
# unprivileged, a pass deletes stored, unchanged files, least recently used
# first, until the directory is under its limit; it keeps a file never
# stored and one changed after it was stored (even with its times put back);
# it goes on past a file it cannot read and one whose key cannot be made;
# a deleted file comes back with retrieve; the metrics count it all.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
C=$D/cache
mkdir -p "$D/stage" "$C"
chmod 0700 "$C"
if ((EUID == 0)); then
	chown root:root "$C"
	chmod 711 "$D"	# the workers (nobody) reach the backends' dirs
fi

for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done

# de_config MiB: the config with that limit.
de_config() {
	ZD_EXTRA="zdb_data_dir_path = \"$C\"
max_zdb_data_dir_size = $1" zd_config "$D/cfg.toml" 4 6 \
	    "$(zd_be m0 m1 m2 m3)" "$(zd_be d0 d1 d2 d3 d4 d5)"
}
Z() { zd_client "$D/cfg.toml" "$D/client.log" "$@"; }
# The bytes of the regular files directly in the cache.
dir_bytes() {
	find "$C" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
M() { curl -s -m 10 "http://127.0.0.1:$PORT/metrics"; }
metric() { M | awk -v s="$1" '$1 == s { print $2 }'; }

PORT=$(zt__free_port)
KiB=1024
de_config 100
ZD_MASTER_ARGS="--evict-interval 1" zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "the daemon serves" kill -0 "$ZD_PID"
ev=$(zd_workers evictor)
zt_check "the evictor runs" test -n "$ev"
if ((EUID == 0)); then
	zt_check "... as an unprivileged user" bash -c "! grep -q '^Uid:[[:space:]]0' /proc/$ev/status"
	zt_check "... and the cache is root's, 0700" test "$(stat -c '%U %a' "$C")" = "root 700"
fi
zt_check_eq "... in its sandbox (Seccomp 2)" 2 "$(awk '/^Seccomp:/ { print $2 }' "/proc/$ev/status")"
zt_check_eq "... outside the cache (cwd /)" / "$(readlink "/proc/$ev/cwd")"

# Five files of 256 KiB, 1.25 MiB: f1 f2 f3 f5 stored from a staging copy
# with --key-path (the key is the cache's, as 0-db's index hook stores),
# f4 never stored; f3 changed after, its times put back. Least recently
# used first: f3 f4 f1 f2 f5.
for i in 1 2 3 4 5; do head -c $((256 * KiB)) /dev/urandom >"$D/stage/f$i"; done
for i in 1 2 3 5; do zt_check "store f$i" Z store -f "$D/stage/f$i" -k "$C"; done
cp -p "$D/stage/f"* "$C/"
head -c $((256 * KiB)) /dev/urandom >"$D/f3.new"
cp "$D/f3.new" "$C/f3"
touch -d '2020-01-01 00:00:00' "$C/f3"
touch -a -d '2020-01-01 00:00:01' "$C/f4"
touch -a -d '2020-01-01 00:00:02' "$C/f1"
touch -a -d '2020-01-01 00:00:03' "$C/f2"
touch -a -d '2020-01-01 00:00:04' "$C/f5"
mkfifo "$C/fifo"	# not a regular file: never opened
ln -s f5 "$C/link"	# nor a link
zt_check_eq "the cache holds 1.25 MiB" $((1280 * KiB)) "$(dir_bytes)"

# ---- the limit drops to 1 MiB: one pass ----
# (no metrics port yet: wait on the log)
zt_log_mark "$D/daemon.log"
de_config 1
kill -USR1 "$ZD_PID"
reduced() { zt_log_has "$D/daemon.log" "evictor: $C reduced to"; }
zt_check "a pass brings the cache under its limit" zd_wait_for 30 reduced
# (before this suite reads the files itself)
zt_check "hashing f3 did not touch its access time (O_NOATIME): still 2020" \
    test "$(stat -c %X "$C/f3")" = "$(date -d '2020-01-01 00:00:00' +%s)"
zt_check "the cache is under 1 MiB ($(dir_bytes) bytes)" test "$(dir_bytes)" -lt $((1024 * KiB))
zt_check_eq "the two least recently used stored files are gone" "no no" \
    "$([[ -e $C/f1 ]] && echo yes || echo no) $([[ -e $C/f2 ]] && echo yes || echo no)"
zt_check "f5, stored but used since, stays" cmp "$D/stage/f5" "$C/f5"
zt_check "f4, never stored, stays" cmp "$D/stage/f4" "$C/f4"
zt_check "f3, changed after it was stored, stays as it is" cmp "$D/f3.new" "$C/f3"
zt_check "... and the log says why" zt_log_has "$D/daemon.log" "f3: kept: .*changed since it was stored"
zt_check "the fifo and the link are left alone" test -p "$C/fifo" -a -L "$C/link"
zt_check "the log names each file deleted" zt_log_has "$D/daemon.log" "evictor: deleted $C/f1 ($((256 * KiB)) bytes)"

zt_check "a deleted file comes back with retrieve (0-db's missing-data hook)" \
    Z retrieve -f "$C/f1"
zt_check "... bit-exact" cmp "$D/stage/f1" "$C/f1"
rm -f "$C/f1"

# ---- the metrics ----
de_write() {
	ZD_EXTRA="prometheus_port = $PORT
zdb_data_dir_path = \"$C\"
max_zdb_data_dir_size = 1" zd_config "$D/cfg.toml" 4 6 \
	    "$(zd_be m0 m1 m2 m3)" "$(zd_be d0 d1 d2 d3 d4 d5)"
}
zt_log_mark "$D/daemon.log"
de_write
kill -USR1 "$ZD_PID"
if zd_metrics_serve "$D/daemon.log" de_write; then
	zt_check_eq "zstor_evictions_total 2, zstor_evicted_bytes_total 512 KiB" \
	    "2 $((512 * KiB))" "$(metric zstor_evictions_total) $(metric zstor_evicted_bytes_total)"
	zt_check_eq "skipped: one changed, one not stored" "1 1" \
	    "$(metric 'zstor_eviction_skipped_total{reason="changed"}') $(metric 'zstor_eviction_skipped_total{reason="not_stored"}')"
	zt_check_eq "zstor_cache_dir_limit_bytes is 1 MiB" $((1024 * KiB)) "$(metric zstor_cache_dir_limit_bytes)"
	zt_check_eq "the evictor's lookups are not counted as check commands" \
	    "$(grep -c 'check /zd-ready-probe: done' "$D/daemon.log")" \
	    "$(metric 'zstore_check_commands_finished{success="true"}')"
else
	zt__fail "the metrics are served on port $PORT"
fi

# ---- the master cannot read a file (no CAP_DAC_OVERRIDE; mode 000) ----
zd_stop TERM
if ((EUID == 0)) && command -v setpriv >/dev/null; then
	rm -f "$C"/f* "$C/fifo" "$C/link"
	for i in 6 7; do head -c $((700 * KiB)) /dev/urandom >"$D/stage/g$i"; done
	de_config 1
	ZD_MASTER_ARGS="--evict-interval 1" zd_start "$D/cfg.toml" "$D/daemon.log"
	for i in 6 7; do zt_check "store g$i" Z store -f "$D/stage/g$i" -k "$C"; done
	zd_stop TERM
	cp -p "$D/stage/g6" "$D/stage/g7" "$C/"
	chmod 000 "$C/g6"
	touch -a -d '2020-01-01' "$C/g6"
	# a name that is not UTF-8 has no key (upstream's rule): also kept
	head -c 1000 /dev/urandom >"$C/$(printf 'bad\377name')"
	touch -a -d '2020-01-02' "$C/$(printf 'bad\377name')"
	zt_log_mark "$D/daemon.log"
	ZD_WRAP="setpriv --bounding-set=-dac_override,-dac_read_search --" \
	    ZD_MASTER_ARGS="--evict-interval 1" zd_start "$D/cfg.toml" "$D/daemon.log"
	zt_check "a master without CAP_DAC_OVERRIDE serves" kill -0 "$ZD_PID"
	gone7() { [[ ! -e $C/g7 ]]; }
	zt_check "the pass goes on past a file it cannot read, and one without a key" \
	    zd_wait_for 30 gone7
	zt_check "... the unreadable one is kept" test -e "$C/g6"
	zt_check "... and the log says why" zt_log_has "$D/daemon.log" "g6: kept: cannot open it: Permission denied"
	zt_check "... the nameless one too" zt_log_has "$D/daemon.log" "kept: .*utf-8"
	zd_stop TERM
else
	zt_skip "a file the master cannot read (needs root and setpriv)"
fi

zt_done
