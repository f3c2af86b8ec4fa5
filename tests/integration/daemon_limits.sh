# zstor-master's bounded resources, attacked by an unprivileged user this suite
# creates: 500 slow writers and 10 000 idle connections leave the master under
# 64 MiB and serving another client within 1 s; refusals say why, are logged
# once per interval, and the slow ones are cut at the request deadline. Out of
# descriptors, the master neither spins nor floods its log, and serves again
# once they are back.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
zd_attacker flood floods
FLOOD=$ZD_TOOLS/conn-flood
ZD_MASTER_ARGS="--max-clients 2048 --max-clients-per-user 600 --request-timeout 30"
zd_small_cluster
chmod 666 "$ZD_SOCK"
echo "served" >"$D/files/f"
zt_check "store a file" Z store -f "$D/files/f"
sum=$(zd_b2 "$D/files/f")
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$ZD_PID/status"; }
# ms CMD...: how long CMD takes, in milliseconds (its output is dropped).
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# ---- 500 slow writers, then 10 000 idle connections ----
fds0=$(ls "/proc/$ZD_PID/fd" | wc -l)
zd_as "$ATK" "$FLOOD" --slow 500 --slow-len 60000 --idle 10000 --hold 120 \
    "$ZD_SOCK" >"$D/flood.out" 2>"$D/flood.err" &
fp=$!
zt_check "the flood is connected" zd_wait_for 120 grep -q '^ready' "$D/flood.out"
cat "$D/flood.out"
held=$(($(ls "/proc/$ZD_PID/fd" | wc -l) - fds0))
zt_check "... the master holds no more than the user's 600 connections ($held)" \
    test "$held" -le 602
rss=$(rss_kib)
# The sanitizer build's allocator and shadow memory cost more than the flood.
limit=65536 what="64 MiB"
if ldd "$ZT_MASTER" | grep -q libasan; then limit=262144 what="256 MiB, sanitizer build"; fi
zt_check "the master stays under $what (${rss} KiB)" test "${rss:-999999}" -lt "$limit"
t=$(ms Z check -f "$D/files/f")
zt_check "another client is served within 1 s (${t} ms)" test "$t" -lt 1000
zt_check_eq "... with the right answer" "$sum" "$(Z check -f "$D/files/f")"
zd_as "$ATK" timeout 30 "$ZT_ZSTOR" -c "$D/cfg.toml" --log_file /dev/null \
    check -f "$D/files/f" >"$D/atk.out" 2>&1
zt_check_eq "the flooding user's next request: exit 1" 1 $?
zt_check "... saying it is at its limit" grep -q "already has 600 connections to zstor-master, its limit" "$D/atk.out"
zt_check "slow writers past the byte pool are told so" \
    grep -q "holds [0-9]* bytes of unfinished requests, its limit" "$D/daemon.log"
n=$(grep -c "refused" "$D/daemon.log")
zt_check "refusals are logged once per interval, not each ($n lines)" test "$n" -lt 20
fds_back() { (($(ls "/proc/$ZD_PID/fd" | wc -l) <= fds0 + 2)); }
zt_check "the request deadline closes every held connection" zd_wait_for 90 fds_back
pkill -TERM -u "$ATK" -x conn-flood	# zd_as ran it in a subshell: not $fp
wait "$fp"
zd_wait_for 10 grep -q '^done' "$D/flood.out"
zt_check_eq "... the flood sees them all closed" "done: 0 still open" \
    "$(tail -n 1 "$D/flood.out")"
zt_check_eq "... and the daemon serves" "$sum" "$(Z check -f "$D/files/f")"
zt_check "a frame above 64 KiB is refused" sh -c "'$ZT_SEND' --len 70000 '$ZD_SOCK' '{}' | grep -q 'larger than the 65536 bytes'"

# ---- out of descriptors ----
nfd=$(ls "/proc/$ZD_PID/fd" | wc -l)
hard=$(prlimit --pid "$ZD_PID" --nofile --noheadings --output HARD --raw)
soft=$(prlimit --pid "$ZD_PID" --nofile --noheadings --output SOFT --raw)
prlimit --pid "$ZD_PID" --nofile=$((nfd + 8)):"$hard"
cpu0=$(awk '{ print $14 + $15 }' "/proc/$ZD_PID/stat")
lines0=$(wc -l <"$D/daemon.log")
zd_as "$ATK" "$FLOOD" --idle 300 --hold 3 "$ZD_SOCK" >"$D/flood2.out" 2>&1
cpu1=$(awk '{ print $14 + $15 }' "/proc/$ZD_PID/stat")
ticks=$(getconf CLK_TCK)
zt_check "out of descriptors, the master does not spin ($((cpu1 - cpu0)) ticks in 3 s)" \
    test $((cpu1 - cpu0)) -lt "$ticks"
n=$(tail -n +"$((lines0 + 1))" "$D/daemon.log" | grep -c "Too many open files")
zt_check "... and logs it once per interval ($n lines)" test "$n" -ge 1 -a "$n" -lt 5
prlimit --pid "$ZD_PID" --nofile="$soft":"$hard"
zt_check_eq "descriptors back: the daemon serves" "$sum" "$(Z check -f "$D/files/f")"
rm "$D/files/f"
zt_check "... a retrieve too" Z retrieve -f "$D/files/f"
zt_check_eq "... bit-exact" served "$(cat "$D/files/f")"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?
zt_done
