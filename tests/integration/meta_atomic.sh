# Metadata updates are all-or-nothing to readers, standalone and through the
# daemon: a store whose metadata cannot be written everywhere leaves the version
# stored before it retrievable and deletes only its own new pieces; one whose
# roll-back fails too says the outcome is in doubt and deletes nothing; an
# unchanged file is skipped only when its stored object reads back, so --delete
# never removes the only copy.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
export ZSTOR_TIMEOUT_MS=3000
D=$ZT_DIR
mkdir -p "$D/f"

for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
meta=$(zd_be m0 m1 m2 m3)
data=$(zd_be d0 d1 d2 d3 d4 d5)
zt_write_config "$D/cfg.toml" 3 5 0 0 "$meta" "$data"
zd_config "$D/dcfg.toml" 3 5 "$meta" "$data"
Z() { timeout 120 "$ZT_ZSTOR" -c "$D/cfg.toml" --log_file "$D/zstor.log" "$@"; }
ZD() { zd_client "$D/dcfg.toml" "$D/client.log" "$@"; }
b2() { b2sum -l 128 "$1" | cut -d' ' -f1; }
# Pieces held by the data backends.
pieces() {
	local i n=0

	for i in 0 1 2 3 4 5; do
		n=$((n + $(zt_zdb_nscmd "d$i" DBSIZE)))
	done
	echo "$n"
}
pieces_are() { [[ $(pieces) == "$1" ]]; }
# fault NAME MODE: a double-only fault; the caller skips on a real 0-db.
fault() { zt_zdb_fault "$@"; }

# scenario CLIENT NAME: the sequence that once lost version 1, then the in-doubt
# case, with CLIENT (Z or ZD) doing every command.
scenario() {
	local c=$1 n=$2 f=$D/f/$2 before v1 seen

	head -c 300000 /dev/urandom >"$f"
	cp "$f" "$D/$n.v1"
	zt_check "$n: version 1 stored" "$c" store -f "$f"
	v1=$(b2 "$f")
	head -c 200000 /dev/urandom >"$f"
	cp "$f" "$D/$n.v2"

	# A read-only metadata namespace: the new record lands on 3 of 4.
	zt_zdb_readonly m2
	before=$(pieces)
	"$c" store -f "$f" 2>"$D/err"
	zt_check_eq "$n: version 2 with a read-only metadata namespace fails" 1 $?
	zt_check "$n: ... saying the previous value was kept" \
	    grep -q "previous value was kept" "$D/err"
	zt_check_eq "$n: ... check still gives version 1" "$v1" "$("$c" check -f "$f")"
	# The daemon deletes them in a job of their own, after the reply.
	zt_check "$n: ... its new pieces are deleted" zt_wait_for 10 pieces_are "$before"
	"$c" store -d -f "$f" 2>/dev/null
	zt_check_eq "$n: store -d again fails" 1 $?
	zt_check "$n: ... and keeps the file" cmp -s "$D/$n.v2" "$f"
	rm -f "$f"
	zt_check "$n: version 1 retrieves" "$c" retrieve -f "$f"
	zt_check "$n: ... bit-exact" cmp -s "$D/$n.v1" "$f"
	zt_zdb_readwrite m2

	# Replies lost on two metadata backends: the writes and the roll-back
	# may both have landed there, so the outcome is in doubt.
	cp "$D/$n.v2" "$f"
	if fault m1 lostreply && fault m3 lostreply; then
		before=$(pieces)
		"$c" store -f "$f" 2>"$D/err"
		zt_check_eq "$n: replies lost on 2 metadata backends: exit 1" 1 $?
		zt_check "$n: ... the outcome is in doubt" \
		    grep -q "readers may see the new or the previous version" "$D/err"
		zt_check "$n: ... no piece is deleted" test "$(pieces)" -gt "$before"
		fault m1 none
		fault m3 none
		rm -f "$f"
		zt_check "$n: ... a complete version retrieves" "$c" retrieve -f "$f"
		zt_check "$n: ... bit-exact" eval "cmp -s $D/$n.v1 $f || cmp -s $D/$n.v2 $f"
		seen=$(b2 "$f")
		# One lost reply: the roll-back is in doubt on that backend only, and a
		# single value cannot be read: version 1 stays and the pieces go.
		cp "$D/$n.v2" "$f"
		fault m0 lostreply
		"$c" store -f "$f" 2>/dev/null
		zt_check_eq "$n: a reply lost on 1 metadata backend: exit 1" 1 $?
		fault m0 none
		zt_check_eq "$n: ... readers still see the version they saw" "$seen" \
		    "$("$c" check -f "$f")"
	else
		zt_skip "$n: lost replies need the test double"
	fi
	cp "$D/$n.v2" "$f"
	zt_check "$n: version 2 stored once the backends are fine" "$c" store -f "$f"
	rm -f "$f"
	zt_check "$n: ... and retrieves bit-exact" eval "$c retrieve -f $f && cmp -s $D/$n.v2 $f"
}

# killed CLIENT NAME: a metadata 0-db killed (-9) during a 100 MB store leaves
# the version before it or the new one retrievable, never neither.
killed() {
	local c=$1 n=$2 f=$D/f/$2 pid i rc

	head -c 1000000 /dev/urandom >"$f"
	cp "$f" "$D/$n.v1"
	zt_check "$n: version 1 stored" "$c" store -f "$f"
	head -c $((100 * 1024 * 1024)) /dev/urandom >"$f"
	cp "$f" "$D/$n.v2"
	for i in 0 1 2 3 4 5; do fault "d$i" slow 20; done
	before=$(pieces)
	"$c" store -f "$f" 2>"$D/err" &
	pid=$!
	zt_wait_for 60 eval '(($(pieces) > before))'
	zt_zdb_stop m2
	for i in 0 1 2 3 4 5; do fault "d$i" none; done
	wait "$pid"
	rc=$?
	rm -f "$f"
	"$c" retrieve -f "$f" 2>>"$D/err"
	if ((rc == 0)); then
		zt_check "$n: stored before the kill mattered: version 2 retrieves" \
		    cmp -s "$D/$n.v2" "$f"
	else
		zt_check "$n: the store failed: version 1 retrieves" cmp -s "$D/$n.v1" "$f"
	fi
	zt_zdb_restart m2
	cp "$D/$n.v2" "$f"
	zt_check "$n: with the 0-db back, version 2 is stored" "$c" store -f "$f"
	rm -f "$f"
	zt_check "$n: ... and retrieves bit-exact" eval "$c retrieve -f $f && cmp -s $D/$n.v2 $f"
}

# unchanged CLIENT NAME: a record whose pieces are gone does not make the
# upload look done, and --delete then keeps the file until it really is stored.
unchanged() {
	local c=$1 n=$2 f=$D/f/$2 i

	head -c 100000 /dev/urandom >"$f"
	cp "$f" "$D/$n.orig"
	zt_check "$n: stored" "$c" store -f "$f"
	for i in 0 1 2 3 4 5; do
		zt_zdb_cmd "d$i" NSDEL "d$i" >/dev/null && zt_zdb_cmd "d$i" NSNEW "d$i" >/dev/null
	done
	zt_check_eq "$n: every piece is gone" 0 "$(pieces)"
	: >"$D/zstor.log"
	zt_check "$n: store -d of the unchanged file" "$c" store -d -f "$f"
	zt_check "$n: ... uploaded again, not skipped" test "$(pieces)" -gt 0
	zt_check "$n: ... and deleted only then" test ! -e "$f"
	zt_check "$n: retrieve" "$c" retrieve -f "$f"
	zt_check "$n: ... bit-exact" cmp -s "$D/$n.orig" "$f"
	: >"$D/zstor.log"
	zt_check "$n: store of the file once more" "$c" store -f "$f"
	zt_check "$n: ... is skipped now" grep -q "Skipping $f: already uploaded" \
	    "$D/zstor.log" "$D/master.log"
}

scenario Z standalone
unchanged Z standalone-unchanged
killed Z standalone-killed

# 3 of 4 metadata backends unreachable: a stored object is not "corrupted";
# the error names the backends that did not answer.
for i in 1 2 3; do zt_zdb_hang "m$i"; done
Z check -f "$D/f/standalone" >/dev/null 2>"$D/err"
zt_check_eq "3 of 4 metadata backends hung: check exits 1" 1 $?
zt_check "... naming the unreachable ones" grep -q \
    "unreachable: .*$(zt_zdb_addr m1).*$(zt_zdb_addr m2).*$(zt_zdb_addr m3)" "$D/err"
zt_check "... not calling the data corrupted" eval "! grep -q corrupted $D/err"
for i in 1 2 3; do zt_zdb_unhang "m$i"; done

zd_start "$D/dcfg.toml" "$D/master.log"
scenario ZD daemon
: >"$D/master.log"
unchanged ZD daemon-unchanged
killed ZD daemon-killed
zt_done
