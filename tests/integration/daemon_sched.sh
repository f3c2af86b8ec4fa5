# The daemon's scheduler, seen from outside: a job waiting for the metadata
# worker (there is one) is taken by priority, so an interactive request queued
# after a background store still goes first; and a background store that keeps
# failing is retried after 1, 2, 4, 8 s, each delay twice the last, by the
# daemon's log and its timestamps.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
ZD_DEBUG=1 zd_small_cluster
L=$D/daemon.log

for f in a b c; do head -c 20000 /dev/urandom >"$D/files/$f"; done

# ---- interactive before background ----
# With m0 stopped, the metadata worker hangs in check A's lookup; meanwhile a
# background store B and then a check C queue behind it. Once m0 runs again,
# the worker must take C before B.
zt_log_mark "$L"
zt_zdb_hang m0
Z check -f "$D/files/a" >"$D/a.out" 2>&1 &
pa=$!
zt_check "check A holds the metadata worker" \
	zt_wait_for 20 zt_log_has "$L" "check $D/files/a: meta_get on"
zt_check "background store B is answered once queued" Z store -n -f "$D/files/b"
Z check -f "$D/files/c" >"$D/c.out" 2>&1 &
pc=$!
zt_check "check C is queued after B" zt_wait_for 20 zt_log_has "$L" "check $D/files/c$"
zt_check "... while A still waits" kill -0 "$pa"
zt_zdb_unhang m0
wait "$pa"; zt_check_eq "check A answers" 0 $?
wait "$pc"; zt_check_eq "check C answers" 0 $?
stored_b() { zt_log_has "$L" "stored $D/files/b as"; }
zt_check "store B is done" zt_wait_for 30 stored_b
steps=$(zt_log_since "$L" | grep -o -e "check $D/files/c: meta_get" \
	-e "store $D/files/b: meta_get" | sed "s|$D/files/||")
zt_check_eq "the metadata worker took C (interactive) before B (background)" \
	"check c: meta_get
store b: meta_get" "$steps"

# ---- retry delays double ----
# With a metadata backend down every store fails; a background one is retried
# after 1 s, then 2, 4 and 8 s.
zt_zdb_stop m3
zt_log_mark "$L"
zt_check "a background store with a metadata backend down is queued" \
	Z store -n -f "$D/files/a"
retries() { zt_log_since "$L" | grep "store $D/files/a: failed, queueing a retry in"; }
four() { [[ $(retries | wc -l) -ge 4 ]]; }
zt_check "four failures, each queueing a retry" zt_wait_for 40 four
delays=$(retries | head -n 4 | sed 's/.*queueing a retry in \([0-9]*\) s.*/\1/' | tr '\n' ' ')
zt_check_eq "... in 1, 2, 4 and 8 s" "1 2 4 8 " "$delays"
# Seconds between successive failures (the log stamps whole seconds, so a
# delay of d s shows as d or more).
times=$(retries | head -n 4 | cut -c1-25 | while read -r t; do date -d "$t" +%s; done)
gaps=$(awk 'NR > 1 { printf "%d ", $1 - prev } { prev = $1 }' <<<"$times")
read -r g1 g2 g3 <<<"$gaps"
gaps=${gaps% }
zt_check "... and the retries came that late (gaps $gaps s)" \
	test "${g1:-0}" -ge 1 -a "${g2:-0}" -ge 2 -a "${g3:-0}" -ge 4

zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?
zt_done
