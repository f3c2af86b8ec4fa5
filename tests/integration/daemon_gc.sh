# Garbage collection (zstor-master, SIGUSR2): pieces on data backends that no
# metadata references are found and, once older than --gc-grace, deleted:
# orphans written by hand, and the pieces of a store whose master was killed
# (kill -9) mid-upload. Nothing referenced is deleted: every object
# retrieves bit-exact afterwards, and an object whose key holds two records
# (what a failed update leaves in doubt: here made by hand on dir: metadata
# backends, values of version 1 on two of them, of version 2 on the others)
# keeps the pieces of both, so that each retrieves with the other's
# backends stopped. A value that decodes to nothing, two valid values that
# open no record and a key under another prefix stop any deletion: the pass
# only counts. A repairer killed during the mark phase costs no piece.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
mkdir -p "$D/files" "$D/out"
for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
mkdir -p "$D/m0" "$D/m1" "$D/m2" "$D/m3"
zd_dirs_for_workers "$D" "$D"/m?
zd_config "$D/cfg.toml" 2 4 "dir:$D/m0#meta dir:$D/m1#meta dir:$D/m2#meta dir:$D/m3#meta" \
    "$(zd_be d0 d1 d2 d3 d4 d5)"
Z() { zd_client "$D/cfg.toml" "$D/client.log" "$@"; }
L=$D/daemon.log
start() {
	ZD_MASTER_ARGS="--check-interval 0.3 --sweep-interval 3600 $*" \
	    zd_start "$D/cfg.toml" "$L"
}
pieces() {
	local i n=0
	for i in 0 1 2 3 4 5; do
		n=$((n + $(zt_zdb_nscmd "d$i" DBSIZE)))
	done
	echo "$n"
}
gc_pass() {	# runs a pass, prints its summary line
	local mark
	mark=$(wc -l <"$L")
	kill -USR2 "$ZD_PID"
	zt_wait_for 120 eval "tail -n +$((mark + 1)) '$L' | grep -q 'gc: \(done\|stopped\)'" &&
	    tail -n +$((mark + 1)) "$L" | grep 'gc: \(done\|stopped\)' | head -n 1
}
start --gc-grace 3600
zt_check "the daemon serves" kill -0 "$ZD_PID"
N=8
for ((i = 0; i < N; i++)); do head -c $((20000 + i * 1000)) /dev/urandom \
    >"$D/files/f$i"; done
for ((i = 0; i < N; i++)); do Z store -f "$D/files/f$i"; done
all_retrieve() {
	local i
	for ((i = 0; i < N; i++)); do
		Z retrieve -f "$D/files/f$i" >/dev/null 2>&1 || return 1
		cmp -s "$D/files/f$i" "$D/out/f$i.want" || return 1
	done
}
for ((i = 0; i < N; i++)); do cp "$D/files/f$i" "$D/out/f$i.want"; done

# ---- a key holding two records ----
F=$D/files/doubt
head -c 50000 /dev/urandom >"$F"
cp "$F" "$D/out/doubt.v1"
ls "$D/m1/meta" >"$D/keys.before"
zt_check "version 1 of the two-record object stored" Z store -f "$F"
kf=$(ls "$D/m1/meta" | grep -vxFf "$D/keys.before" | grep -v '^tmp$' | head -n 1)
zt_check "... its metadata value is a file" test -n "$kf"
cp "$D/m1/meta/$kf" "$D/v1.m1"
cp "$D/m3/meta/$kf" "$D/v1.m3"
head -c 40000 /dev/urandom >"$F"
cp "$F" "$D/out/doubt.v2"
zt_check "version 2 stored" Z store -f "$F"
cp "$D/v1.m1" "$D/m1/meta/$kf"
cp "$D/v1.m3" "$D/m3/meta/$kf"
chown --reference="$D/m1/meta" "$D/m1/meta/$kf" "$D/m3/meta/$kf" 2>/dev/null
# which version a reader gets with two metadata backends out of reach
retrieve_without() {
	local a=$1 b=$2 rc
	chmod 000 "$D/$a" "$D/$b"
	rm -f "$F"
	Z retrieve -f "$F" >/dev/null 2>&1
	rc=$?
	chmod 755 "$D/$a" "$D/$b"
	return $rc
}

# ---- orphans ----
for i in 0 1 2; do zt_zdb_nscmd "d$i" SET "" "orphan piece $i" >/dev/null; done
before=$(pieces)
out=$(gc_pass)
zt_check "a pass completes" grep -q "gc: done" <<<"$out"
# every key is read on each of the 4 metadata backends
zt_check "... marking both records of the two-record key" \
	grep -q "$((4 * (N + 1))) keys (read on each metadata backend), $((4 * (N + 2))) records marked" <<<"$out"
zt_check_eq "... and deletes nothing younger than --gc-grace" "$before" "$(pieces)"

# ---- kill -9 of the master mid-store ----
head -c 40000000 /dev/urandom >"$D/files/big"
p0=$(pieces)
# Three slow backends (the double only; every placement of 4 shards over the
# 6 takes one) hold every stripe 1 s: the kill lands after the second stripe
# and seconds before the store could end, however loaded the machine is.
# Real 0-db cannot be slowed: there the store may end before the kill, and
# only what holds either way is checked.
slow=1
for i in 0 1 2; do zt_zdb_fault "d$i" slow 1000 || slow=0; done
Z store -f "$D/files/big" >/dev/null 2>&1 &
cp_pid=$!
grown() { (($(pieces) > p0 + 4)); }
zt_check "the big store is uploading" zt_wait_for 60 grown
kill -KILL "$ZD_PID"
wait "$ZD_PID" 2>/dev/null
wait "$cp_pid" 2>/dev/null
ZD_PID=
for i in 0 1 2; do zt_zdb_fault "d$i" none; done
settled() { local a; a=$(pieces); sleep 0.5; [[ $a == "$(pieces)" ]]; }
zt_check "no upload goes on once the master is gone" zt_wait_for 20 settled
sleep 1.1	# every piece is now older than a grace of 0 s
start --gc-grace 0
if ((slow)); then
	zt_check_fail "... and the big file was never stored" \
	    eval "Z check -f '$D/files/big' | grep -q ."
else
	zt_skip "the big file was never stored (needs slow backends)"
fi
referenced=$(( $(pieces) ))
out=$(gc_pass)
zt_check "with --gc-grace 0 the pass deletes the orphans" \
	grep -q "gc: done.* [1-9][0-9]* deleted, 0 failed" <<<"$out"
left=$(pieces)
if ((slow)); then
	zt_check "... the hand-made and the killed store's pieces are gone" \
		test "$left" -lt $((referenced - 3))
else
	zt_check "... the hand-made pieces are gone" \
		test "$left" -le $((referenced - 3))
fi
zt_check "every object still retrieves bit-exact" all_retrieve
out=$(gc_pass)
zt_check "a second pass finds no orphan" grep -q " 0 orphans" <<<"$out"
zt_check_eq "... and deletes nothing" "$left" "$(pieces)"
zt_check "the record of version 1 still retrieves (on m1, m3)" \
	eval "retrieve_without m0 m2 && cmp -s '$F' '$D/out/doubt.v1'"
zt_check "the record of version 2 still retrieves (on m0, m2)" \
	eval "retrieve_without m1 m3 && cmp -s '$F' '$D/out/doubt.v2'"

# ---- a lone value (an update that landed on one backend only) ----
hexkey() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
cp "$D/v1.m1" "$D/m2/meta/$(hexkey /zt/meta/00000000000000000000000000000001)"
chown --reference="$D/m2/meta" "$D/m2/meta/"* 2>/dev/null
zt_zdb_nscmd d3 SET "" "an orphan beside a lone value" >/dev/null
sleep 1.1
before=$(pieces)
out=$(gc_pass)
zt_check "a lone metadata value does not stop the deletion of orphans" \
	grep -q "gc: done.* 1 deleted, 0 failed" <<<"$out"
zt_check_eq "... of exactly the new one" $((before - 1)) "$(pieces)"
zt_check "every object still retrieves bit-exact" all_retrieve

# nothing_deleted WHAT: with WHAT in the metadata, a pass deletes nothing,
# not even the orphans, all of them older than the grace of 0 s
nothing_deleted() {
	local before out

	sleep 1.1
	before=$(pieces)
	out=$(gc_pass)
	zt_check "$1: nothing deleted" grep -q "nothing deleted" <<<"$out"
	zt_check_eq "... not even the orphans" "$before" "$(pieces)"
}

# ---- two valid values that open no record together: delete nothing ----
# (as values sealed with another key look): they may be a record a reader
# needs, so they count as unsafe, unlike one lone value
kt=$(hexkey /zt/meta/0000000000000000000000000000beef)
cp "$D/v1.m1" "$D/m0/meta/$kt"
cp "$D/m0/meta/$kf" "$D/m1/meta/$kt"
chown --reference="$D/m1/meta" "$D/m0/meta/$kt" "$D/m1/meta/$kt" 2>/dev/null
zt_zdb_nscmd d5 SET "" "an orphan beside two stray values" >/dev/null
nothing_deleted "two valid values that open no record together"
rm -f "$D/m0/meta/$kt" "$D/m1/meta/$kt"

# ---- a metadata key under another prefix: delete nothing ----
# (another instance sharing the backends, or the prefix changed): its pieces
# cannot be told from garbage
ko=$(hexkey /other/meta/0000000000000000000000000000beef)
cp "$D/v1.m1" "$D/m2/meta/$ko"
chown --reference="$D/m2/meta" "$D/m2/meta/$ko" 2>/dev/null
nothing_deleted "a key under another prefix"
zt_check "... and the log names the key" \
	zt_log_has "$L" "/other/meta/0000000000000000000000000000beef is a metadata key under another prefix"
rm -f "$D/m2/meta/$ko"

# ---- the repairer killed mid-mark: nothing referenced is deleted ----
# The record of y is on m0 and m1 only, so only the scans of those two mark its
# pieces. Records of pieces that do not exist (put-meta, with ids far above
# those used) make each scan long enough to stop the metawriter during the
# scan of m2, and the repairer is killed while the pass waits there. The next
# mark then goes to a new repairer, which must refuse it (it holds none of the
# pass's marks) instead of marking afresh: that would let the collect delete
# the pieces of y, and every orphan, though the pass never marked it again.
repairer() { pgrep -P "$ZD_PID" -f "zstor-master: repairer"; }
metawriter() { pgrep -P "$ZD_PID" -f "zstor-master: metawriter"; }
for i in 0 1 2 3; do ls "$D/m$i/meta" >"$D/keys$i.before"; done
head -c 30000 /dev/urandom >"$D/files/y"
cp "$D/files/y" "$D/out/y.want"
zt_check "y stored" Z store -f "$D/files/y"
ky=$(ls "$D/m0/meta" | grep -vxFf "$D/keys0.before" | grep -v '^tmp$' | head -n 1)
rm -f "$D/m2/meta/$ky" "$D/m3/meta/$ky"
zt_check "records of pieces that do not exist written" \
    "$ZT_BUILD/tools/put-meta" "$D/cfg.toml" 600 1000000
chown -R --reference="$D/m0/meta" "$D"/m?/meta 2>/dev/null
zd_stop TERM
ZD_DEBUG=1 start --gc-grace 0
since() { tail -n +$((mark + 1)) "$L"; }
last_step_is_scan() {
	[[ $(since | grep -o 'garbage collection: [a-z_]* on' | tail -n 1) == \
	    *meta_scan* ]]
}
# one try: 0 when the kill came while the pass waited in the scan of m2
killed_mid_mark() {
	local rp mw n=6000

	mark=$(wc -l <"$L") rp=$(repairer) mw=$(metawriter)
	kill -USR2 "$ZD_PID"
	until since | grep -q "gc: metadata backend 1 scanned"; do
		((n-- > 0)) || return 1
		sleep 0.01
	done
	kill -STOP "$mw"
	zt_wait_for 20 last_step_is_scan
	if since | grep -q "gc: metadata backend 2 scanned"; then
		kill -CONT "$mw"
		return 1
	fi
	kill -KILL "$rp"
	zt_wait_for 30 eval '[[ -n $(repairer) && $(repairer) != "$rp" ]]'
	kill -CONT "$mw"
}
sleep 1.1	# every orphan is older than the grace of 0 s
before=$(pieces)
for try in 1 2 3; do
	killed_mid_mark
	ok=$?
	zt_wait_for 120 eval "since | grep -q 'gc: \(done\|stopped\)'"
	out=$(since | grep 'gc: \(done\|stopped\)' | head -n 1)
	((ok == 0)) && break
	grep -q "gc: done" <<<"$out" && break	# what the checks below fail on
done
zt_check "a pass whose repairer was killed mid-mark stops: the new one refuses the marks" \
	grep -q "stopped.*holds no marks of pass" <<<"$out"
zt_check_eq "... and deletes nothing, not even the orphans" "$before" "$(pieces)"
zt_check "... y retrieves bit-exact" eval \
	"Z retrieve -f '$D/files/y' && cmp -s '$D/files/y' '$D/out/y.want'"
zt_check "... and every other object" all_retrieve
zt_check "... the doubtful one in both versions" eval \
	"retrieve_without m0 m2 && cmp -s '$F' '$D/out/doubt.v1' &&
	retrieve_without m1 m3 && cmp -s '$F' '$D/out/doubt.v2'"
zt_check "the repairer is back" zt_wait_for 30 eval '[[ -n $(repairer) ]]'
for i in 0 1 2 3; do
	ls "$D/m$i/meta" | grep -vxFf "$D/keys$i.before" | grep -vx "$ky" |
	    grep -v '^tmp$' | sed "s|^|$D/m$i/meta/|" | xargs -r rm -f
done

# ---- a record naming a backend the config does not: delete nothing ----
# (it may be one of the config's under another address: a unix socket and a
# TCP port of one 0-db), even on backends other records name
zd_config "$D/other.toml" 2 4 \
    "dir:$D/m0#meta dir:$D/m1#meta dir:$D/m2#meta dir:$D/m3#meta" \
    "dir:$D/none0#data dir:$D/none1#data dir:$D/none2#data dir:$D/none3#data"
for i in 0 1 2 3; do ls "$D/m$i/meta" >"$D/keys$i.before"; done
zt_check "a record of pieces on backends the config does not name written" \
    "$ZT_BUILD/tools/put-meta" "$D/other.toml" 1
chown -R --reference="$D/m0/meta" "$D"/m?/meta 2>/dev/null
zt_zdb_nscmd d1 SET "" "an orphan beside a record of another backend" >/dev/null
nothing_deleted "a record naming a backend the config does not"
zt_check "... and the log names it" zt_log_has "$L" \
    "metadata references dir:$D/none[0-3]/data, which is not a data backend"
for i in 0 1 2 3; do
	ls "$D/m$i/meta" | grep -vxFf "$D/keys$i.before" | grep -v '^tmp$' |
	    sed "s|^|$D/m$i/meta/|" | xargs -r rm -f
done

# ---- undecodable metadata: count, delete nothing ----
printf 'not a metadata value' >"$D/m0/meta/$(hexkey /zt/meta/0000000000000000000000000000dead)"
zt_zdb_nscmd d4 SET "" "another orphan" >/dev/null
nothing_deleted "an undecodable metadata value"
zt_check "... and says why" zt_log_has "$L" "could not be read or decoded"
zt_check "the daemon still serves" kill -0 "$ZD_PID"
zt_done
