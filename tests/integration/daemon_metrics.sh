# The metrics endpoint of zstor-master (GET /metrics on prometheus_port):
# the text format and every upstream family, 404 and 405, the command
# counters and byte counters against what the clients did (a scrape while 3
# stores run), promtool, reloads (a refused one, a new port), a worker's
# restart, malformed requests, a port taken at start, and 200 slow clients
# at once while a store runs (the store is not slowed much, the master stays
# small, and the endpoint answers again afterwards).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
mkdir -p "$D/files"

for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
META=$(zd_be m0 m1 m2 m3)
DATA=$(zd_be d0 d1 d2 d3 d4 d5)

# dm_config PORT: the daemon's config with prometheus_port PORT.
dm_config() {
	ZD_EXTRA="prometheus_port = $1" zd_config "$D/cfg.toml" 4 6 "$META" \
	    "$DATA"
}

M() { curl -s -m 10 "$@"; }
URL() { echo "http://127.0.0.1:$PORT$1"; }
# dm_scrape FILE: the metrics into FILE.
dm_scrape() { M -o "$1" "$(URL /metrics)"; }
# dm_value FILE SERIES: the value of one series ("name" or 'name{l="v"}').
dm_value() {
	awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' "$1"
}
dm_serving() { zd__metrics_serving "$D/daemon.log"; }
dm_listen_failed() { zt_log_has "$D/daemon.log" "metrics: cannot listen on .*:$PORT:"; }

Z() { zd_client "$D/cfg.toml" "$D/client.log" "$@"; }

# ---- start; a port taken meanwhile is swapped for another by a reload ----
PORT=$(zt__free_port)
dm_write() { dm_config "$PORT"; }
dm_write
zt_log_mark "$D/daemon.log"
zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "the daemon serves" kill -0 "$ZD_PID"
zt_check "it logs the port it serves the metrics on" \
    zd_metrics_serve "$D/daemon.log" dm_write

# ---- the text format, every upstream family ----
zt_check "GET /metrics answers 200" M -f -o "$D/scrape0" "$(URL /metrics)"
ctype=$(M -o /dev/null -w '%{content_type}' "$(URL /metrics)")
zt_check_eq "... as text format 0.0.4" "text/plain; version=0.0.4; charset=utf-8" "$ctype"
missing=""
for f in "zstore_store_commands_finished counter" \
    "zstore_retrieve_commands_finished counter" \
    "zstore_rebuild_commands_finished counter" \
    "zstore_check_commands_finished counter" \
    "fs_fuse_reqs counter" "fs_cache_hits counter" "fs_cache_miss counter" \
    "fs_cache_full gauge" "fs_cache_linear_flush gauge" \
    "fs_cache_random_flush gauge" "fs_cache_branches gauge" \
    "fs_cache_branches_allocated gauge" "fs_cache_entries gauge" \
    "fs_cache_blocks gauge" "fs_cache_blocksize gauge" \
    "fs_syscalls counter" "fs_bytes_read counter" \
    "fs_bytes_written counter" "fs_fuse_errors counter" \
    "zstor_build_info gauge" "zstor_command_duration_seconds histogram" \
    "zstor_queue_depth gauge" "zstor_worker_restarts_total counter" \
    "zstor_config_reloads_total counter" "zstor_stored_bytes_total counter" \
    "zstor_retrieved_bytes_total counter" \
    "zstor_sweep_objects_scanned_total counter" \
    "zstor_scrub_bytes_total counter" "zstor_evictions_total counter"; do
	grep -qx "# TYPE $f" "$D/scrape0" || missing="$missing ${f%% *}"
done
zt_check_eq "every family is there with its type" "" "$missing"
zt_check_eq "both success values of a command counter, from 0" "0 0" \
    "$(dm_value "$D/scrape0" 'zstore_store_commands_finished{success="true"}') $(dm_value "$D/scrape0" 'zstore_store_commands_finished{success="false"}')"
zt_check_eq "0-db-fs metrics without a mountpoint are 0" 0 \
    "$(dm_value "$D/scrape0" 'fs_syscalls{syscall="statsfs"}')"
zt_check "zstor_build_info names the version and the commit" \
    grep -q '^zstor_build_info{version="[0-9][^"]*",commit="[^"]*"} 1$' "$D/scrape0"

zt_check_eq "GET / is 404" 404 "$(M -o /dev/null -w '%{http_code}' "$(URL /)")"
zt_check_eq "GET /metrics/ is 404" 404 "$(M -o /dev/null -w '%{http_code}' "$(URL /metrics/)")"
zt_check_eq "GET /metrics?x=1 is the metrics (the query is ignored)" 200 \
    "$(M -o /dev/null -w '%{http_code}' "$(URL '/metrics?x=1')")"
zt_check_eq "POST /metrics is 405" 405 "$(M -o /dev/null -w '%{http_code}' -d x "$(URL /metrics)")"
zt_check "... saying what it allows" bash -c "curl -s -m 10 -i -d x '$(URL /metrics)' | grep -qi '^Allow: GET, HEAD'"
M -I -o "$D/head" "$(URL /metrics)"
zt_check "HEAD /metrics: 200 with a length and no body" \
    bash -c "grep -q '^HTTP/1.1 200' '$D/head' && grep -qi '^Content-Length: [1-9][0-9]*' '$D/head'"
if [[ -e /proc/net/if_inet6 ]] && grep -q ' lo$' /proc/net/if_inet6; then
	zt_check "[::1] is served too ([::]:port)" M -f -o /dev/null "http://[::1]:$PORT/metrics"
else
	zt_skip "no IPv6 loopback here: [::]:port not tried over IPv6"
fi

# ---- a scrape while 3 stores run; counts against what the clients did ----
sizes=(3000000 1000001 2500000)
total=0
for i in 0 1 2; do
	head -c "${sizes[$i]}" /dev/urandom >"$D/files/s$i"
	total=$((total + sizes[i]))
done
# a slow metadata backend keeps the stores running while we scrape (the
# double; a real 0-db is fast, and the stores may be done first)
zt_zdb_fault m0 slow 300
slowed=$?
pids=()
for i in 0 1 2; do
	Z store -f "$D/files/s$i" >"$D/store$i.out" 2>&1 &
	pids+=($!)
done
t0=$(date +%s%N)
dm_scrape "$D/scrape1"
t1=$(date +%s%N)
zt_check "a scrape while 3 stores run answers at once ($(((t1 - t0) / 1000000)) ms)" \
    test $(((t1 - t0) / 1000000)) -lt 2000
running=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
if ((running > 0 || slowed != 2)); then
	zt_check "... and it did come while they ran ($running running)" test "$running" -gt 0
else
	zt_skip "the stores were done before the scrape (a real 0-db cannot be slowed)"
fi
ok=0
for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
((slowed == 0)) && zt_zdb_fault m0 none
zt_check_eq "the 3 stores succeed" 3 "$ok"
Z check -f "$D/files/s0" >/dev/null
Z retrieve -f "$D/files/nothing-here" 2>/dev/null
cp "$D/files/s1" "$D/s1.orig"
rm -f "$D/files/s1"
Z retrieve -f "$D/files/s1"
zt_check "the retrieve writes the file back" cmp "$D/s1.orig" "$D/files/s1"
dm_scrape "$D/scrape2"
zt_check_eq "stores counted: 3 succeeded, none failed" "3 0" \
    "$(dm_value "$D/scrape2" 'zstore_store_commands_finished{success="true"}') $(dm_value "$D/scrape2" 'zstore_store_commands_finished{success="false"}')"
# the daemon's own readiness probe (zd_wait_ready) is a check too
probes=$(dm_value "$D/scrape0" 'zstore_check_commands_finished{success="true"}')
zt_check_eq "checks counted: the one after the stores" $((probes + 1)) \
    "$(dm_value "$D/scrape2" 'zstore_check_commands_finished{success="true"}')"
zt_check_eq "retrieves counted: one succeeded, one failed (never stored)" "1 1" \
    "$(dm_value "$D/scrape2" 'zstore_retrieve_commands_finished{success="true"}') $(dm_value "$D/scrape2" 'zstore_retrieve_commands_finished{success="false"}')"
zt_check_eq "zstor_stored_bytes_total is the bytes of the 3 files" "$total" \
    "$(dm_value "$D/scrape2" zstor_stored_bytes_total)"
zt_check_eq "zstor_retrieved_bytes_total is the file retrieved" "${sizes[1]}" \
    "$(dm_value "$D/scrape2" zstor_retrieved_bytes_total)"
zt_check_eq "the store duration histogram counts the 3 stores" 3 \
    "$(dm_value "$D/scrape2" 'zstor_command_duration_seconds_count{command="store"}')"
zt_check_eq "... every one within +Inf" 3 \
    "$(dm_value "$D/scrape2" 'zstor_command_duration_seconds_bucket{command="store",le="+Inf"}')"
Z store -f "$D/files/s0" >/dev/null
dm_scrape "$D/scrape3"
zt_check_eq "a file stored again unchanged counts as a store, not as bytes" \
    "4 $total" "$(dm_value "$D/scrape3" 'zstore_store_commands_finished{success="true"}') $(dm_value "$D/scrape3" zstor_stored_bytes_total)"
zt_check_eq "nothing is queued once the stores are done" "0 0 0" \
    "$(dm_value "$D/scrape3" 'zstor_queue_depth{priority="interactive"}') $(dm_value "$D/scrape3" 'zstor_queue_depth{priority="background"}') $(dm_value "$D/scrape3" 'zstor_queue_depth{priority="repair"}')"
# Per-backend metrics from the health table (checked every 3 s) against
# NSINFO: entries and data_size_bytes of every data backend.
dm_nsinfo() {	# NAME FIELD
	zt_zdb_nscmd "$1" NSINFO "$1" | sed -n "s/^$2: //p"
}
dm_backend() {	# FILE FAMILY NAME TYPE
	dm_value "$1" "$2{address=\"$(zt_zdb_addr "$3")\",backend_type=\"$4\",namespace=\"$3\"}"
}
dm_backends_match() {
	local n
	dm_scrape "$D/scrape4"
	for n in d0 d1 d2 d3 d4 d5; do
		[[ $(dm_backend "$D/scrape4" entries "$n" data) == \
		    "$(dm_nsinfo "$n" entries)" ]] || return 1
		[[ $(dm_backend "$D/scrape4" data_size_bytes "$n" data) == \
		    "$(dm_nsinfo "$n" data_size_bytes)" ]] || return 1
	done
}
zt_check "per-backend entries and data_size_bytes match NSINFO" \
    zt_wait_for 20 dm_backends_match
zt_check_eq "connection_status is 1 for a healthy metadata backend" 1 \
    "$(dm_backend "$D/scrape4" connection_status m0 meta)"

# ---- promtool: nothing to say about our metrics ----
if command -v promtool >/dev/null; then
	promtool check metrics <"$D/scrape3" >"$D/promtool.out" 2>&1
	zt_check_eq "promtool check metrics: nothing about the zstor_ metrics" "" \
	    "$(grep zstor_ "$D/promtool.out")"
	zt_check_eq "... and of upstream's only their missing _total (kept for dashboards)" "" \
	    "$(grep -v 'counter metrics should have "_total" suffix' "$D/promtool.out")"
else
	zt_skip "promtool is not installed (Debian's prometheus package)"
fi

# ---- a worker that dies is counted ----
rep=$(zd_workers repairer)
kill -KILL $rep
restarted() {
	dm_scrape "$D/scrape4" &&
	    [[ $(dm_value "$D/scrape4" 'zstor_worker_restarts_total{role="repairer"}') == 1 ]]
}
zt_check "a killed repairer: zstor_worker_restarts_total{role=\"repairer\"} 1" \
    zd_wait_for 20 restarted

# ---- malformed and oversized requests ----
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "X: $(head -c 20000 /dev/zero | tr '\0' a)" "$(URL /metrics)")
zt_check "20 KB of headers are refused ($code)" test "$code" != 200
code=$(head -c 2000000 /dev/zero | curl -s -m 10 -o /dev/null -w '%{http_code}' --data-binary @- "$(URL /metrics)")
zt_check "a 2 MB body is refused ($code)" test "$code" != 200
head -c 5000 /dev/urandom >"$D/junk"
curl -s -m 5 -o /dev/null --data-binary @"$D/junk" -X "$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$(URL /metrics)"
exec 7<>"/dev/tcp/127.0.0.1/$PORT" && { head -c 3000 /dev/urandom >&7; exec 7>&-; }
zt_check "after them the metrics are served" M -f -o /dev/null "$(URL /metrics)"
zt_check "... and the daemon stores" Z store -f "$D/files/s2"

# ---- reloads: a refused one, then a new port ----
cp "$D/cfg.toml" "$D/cfg.good"
echo "minimal_shards = " >"$D/cfg.toml"
zt_log_mark "$D/daemon.log"
kill -USR1 "$ZD_PID"
zd_wait_for 10 zt_log_has "$D/daemon.log" "reload refused"
dm_scrape "$D/scrape5"
zt_check_eq "a refused reload: counted, and last_reload_successful 0" "1 0" \
    "$(dm_value "$D/scrape5" 'zstor_config_reloads_total{result="refused"}') $(dm_value "$D/scrape5" zstor_config_last_reload_successful)"
OLD=$PORT
PORT=$(zt__free_port)
dm_write
zt_log_mark "$D/daemon.log"
kill -USR1 "$ZD_PID"
zd_metrics_serve "$D/daemon.log" dm_write
zt_check "a reload with another prometheus_port serves there" M -f -o "$D/scrape6" "$(URL /metrics)"
zt_check_eq "... counted as a reload that took, last_reload_successful 1" "1 1" \
    "$(dm_value "$D/scrape6" 'zstor_config_reloads_total{result="ok"}') $(dm_value "$D/scrape6" zstor_config_last_reload_successful)"
zt_check_fail "... and no longer on the old port" curl -s -m 5 -o /dev/null "http://127.0.0.1:$OLD/metrics"

# ---- 200 slow clients at once while a store runs ----
head -c $((24 * 1024 * 1024)) /dev/urandom >"$D/files/big"
t0=$(date +%s%N)
Z store -f "$D/files/big"
t1=$(date +%s%N)
alone=$(((t1 - t0) / 1000000))
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$ZD_PID/status")
"$ZT_BUILD/tools/http-flood" 127.0.0.1 "$PORT" 200 15 >"$D/flood.out" &
flood=$!
# TCP connections established to PORT, from the kernel's tables.
established() {
	local hex

	printf -v hex ':%04X' "$PORT"
	awk -v p="$hex" '$4 == "01" && substr($2, length($2) - 4) == p' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null | wc -l
}
flooding() { (($(established) >= 150)); }
zt_check "the slow clients are connected" zd_wait_for 10 flooding
cp "$D/files/big" "$D/files/big2"
t0=$(date +%s%N)
Z store -f "$D/files/big2"
rc=$?
t1=$(date +%s%N)
busy=$(((t1 - t0) / 1000000))
zt_check_eq "a store during 200 slow metrics clients succeeds" 0 "$rc"
zt_check "... promptly: $busy ms (alone: $alone ms)" test "$busy" -lt $((alone * 3 + 5000))
peak=$rss0
while kill -0 "$flood" 2>/dev/null; do
	r=$(awk '/^VmRSS/ { print $2 }' "/proc/$ZD_PID/status")
	((r > peak)) && peak=$r
	sleep 0.5
done
wait "$flood"
zt_check "the flood ran ($(cat "$D/flood.out"))" grep -q '^opened 200 ' "$D/flood.out"
zt_check "the master's RSS stays bounded: $rss0 KiB before, at most $peak KiB during" \
    test $((peak - rss0)) -lt 40960
served() { M -f -o "$D/scrape7" "$(URL /metrics)"; }
zt_check "the endpoint answers once the slow clients are gone" zd_wait_for 20 served
# the scrape's own connection is the one left
closed() {
	served && (($(dm_value "$D/scrape7" zstor_metrics_http_connections) <= 1))
}
zt_check "... and their connections are let go" zd_wait_for 20 closed

# ---- a port another program holds at start: served once it is free ----
zd_stop TERM
ZT_FORCE_DOUBLE=1 zt_zdb_start squatter seq
PORT=$(zt_zdb_port squatter)
dm_config "$PORT"
zt_log_mark "$D/daemon.log"
zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "a taken prometheus_port is logged" zd_wait_for 10 dm_listen_failed
zt_check "... and files are served meanwhile" Z check -f "$D/files/s0"
zt_zdb_stop squatter
zt_check "once the port is free, the metrics are served there (retried every 10 s)" \
    zd_wait_for 25 dm_serving
zt_check "... and answer" M -f -o /dev/null "$(URL /metrics)"

zt_done
