# zstor without a daemon against 0-db servers: the project's test double by default,
# a real 0-db when ZDB_BIN names one. Store and retrieve at the format's edges,
# erasures, corrupt shards, full, hung and read-only backends, rebuild, metadata
# outages, objects written in upstream's layout, status and test.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
zt_init
export ZSTOR_TIMEOUT_MS=2000
D=$ZT_DIR
mkdir -p "$D/files" "$D/orig" "$D/objects"

for i in $(seq 0 17); do zt_zdb_start "d$i" seq; done
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
be() { local n s=""; for n in "$@"; do s="$s $(zt_zdb_addr "$n")#$n"; done; echo "$s"; }
meta=$(be m0 m1 m2 m3)
zt_write_config "$D/cfg.toml" 10 15 1 0 "$meta" "$(be d0 d1 d2 d3 d4)" \
	"$(be d5 d6 d7 d8 d9)" "$(be d10 d11 d12 d13 d14)"
zt_write_config "$D/cfg-spare.toml" 10 15 1 0 "$meta" "$(be d0 d1 d2 d3 d4)" \
	"$(be d5 d6 d7 d8 d9)" "$(be d10 d11 d12 d13 d14)" "$(be d15 d16 d17)"
ZT_PREFIX=objects zt_write_config "$D/cfg-obj.toml" 4 6 0 0 "$meta" "$(be d10 d11 d12 d13 d14 d15)"
Z() { "$ZT_ZSTOR" -c "$D/cfg.toml" --log_file "$D/zstor.log" "$@"; }
ZS() { "$ZT_ZSTOR" -c "$D/cfg-spare.toml" --log_file "$D/zstor.log" "$@"; }

zt_check "test: every backend reachable, placement possible" Z test
Z status >"$D/status"; zt_check_eq "status lists 4 + 15 reachable backends" 19 "$(grep -c '| Yes' "$D/status")"

: >"$D/orig/empty"
printf x >"$D/orig/one"
head -c 65536 /dev/urandom >"$D/orig/k64"
head -c 65537 /dev/urandom >"$D/orig/k64p1"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$D/orig/random10m"
yes "erasure-coded shards on 0-db" | head -c $((5 * 1024 * 1024)) >"$D/orig/text5m"
files="empty one k64 k64p1 random10m text5m"
cp "$D/orig/"* "$D/files/"
for f in $files; do
	zt_check "store $f" Z store --file "$D/files/$f"
	zt_check_eq "check $f" "$(b2sum -l 128 "$D/orig/$f" | cut -d' ' -f1)" \
		"$(Z check --file "$D/files/$f")"
done
rm -f "$D/files/"*
for f in $files; do
	zt_check "retrieve $f" Z retrieve --file "$D/files/$f"
	zt_check "$f is bit-exact" cmp -s "$D/orig/$f" "$D/files/$f"
done

# Objects written in upstream's layout come back bit-exact.
"$ZT_BUILD/tools/put-objects" "$D/cfg-obj.toml" tests/vectors/objects.json "$D/objects" \
	>"$D/objects.list"
zt_check_eq "upstream-layout objects written" 0 $?
for o in $(cat "$D/objects.list"); do
	zt_check "retrieve upstream object $o" "$ZT_ZSTOR" -c "$D/cfg-obj.toml" \
		--log_file "$D/zstor.log" retrieve --file "$D/objects/$o"
	zt_check "upstream object $o is bit-exact" cmp -s "$D/objects/$o.expected" "$D/objects/$o"
done

# --delete deletes the path only while it is the file that was stored: device
# and inode. A slow metadata backend keeps the store busy while it is replaced.
if zt_zdb_fault m0 slow 300; then
	zt_check_delete_replaced "$D/zstor.log" "$D/del" Z
	zt_zdb_fault m0 none
else
	zt_skip "--delete of a file replaced during the store (needs a slow backend)"
fi

# A backend that returns corrupt data is detected by the shard checksum.
if zt_zdb_fault d0 corrupt; then
	rm -f "$D/files/text5m"
	zt_log_mark "$D/zstor.log"
	zt_check "retrieve with one backend returning corrupt data" Z retrieve --file "$D/files/text5m"
	zt_check "... bit-exact" cmp -s "$D/orig/text5m" "$D/files/text5m"
	zt_check "... the corrupt shard was noticed" \
		zt_log_has "$D/zstor.log" "checksum verification failed"
	zt_zdb_fault d0 none
else
	zt_skip "corrupt values need the test double"
fi

# Five backends unreachable (stopped, so they keep their data for later): every
# object still comes back bit-exact; a sixth makes it fail cleanly.
for n in d10 d11 d12 d13 d14; do zt_zdb_hang "$n"; done
rm -f "$D/files/text5m"
zt_check "retrieve with 5 of 15 backends unreachable" Z retrieve --file "$D/files/text5m"
zt_check "... bit-exact" cmp -s "$D/orig/text5m" "$D/files/text5m"
zt_zdb_hang d9
echo "keep me" >"$D/files/k64"
Z retrieve --file "$D/files/k64" 2>"$D/err"
zt_check_eq "retrieve with 6 of 15 backends unreachable exits 1" 1 $?
zt_check_eq "... the file in place is untouched" "keep me" "$(cat "$D/files/k64")"
for n in d9 d10 d11 d12 d13 d14; do zt_zdb_unhang "$n"; done
zt_check "retrieve once they are back" Z retrieve --file "$D/files/k64"
zt_check "... bit-exact" cmp -s "$D/orig/k64" "$D/files/k64"

# Full backends are left out of placement; too many of them fail the store cleanly.
head -c 100000 /dev/urandom >"$D/fresh1"
for n in d14 d15 d16 d17; do zt_zdb_full "$n"; done
zt_log_mark "$D/zstor.log"
ZS store --file "$D/fresh1" 2>"$D/err"
zt_check_eq "store with 4 of 18 backends full fails (14 left for 15 shards)" 1 $?
zt_check "... the log says which backends lack space" zt_log_has "$D/zstor.log" "space"
grep -q "4 of 18 data backends cannot be used (first: .*space" "$D/err"
zt_check "... and so does the error, with the first reason" test $? -eq 0
zt_zdb_cmd d17 NSSET d17 maxsize 0 >/dev/null
zt_check "store with 3 of 18 full succeeds without them" ZS store --file "$D/fresh1"
for n in d14 d15 d16; do zt_zdb_cmd "$n" NSSET "$n" maxsize 0 >/dev/null; done

# A hung backend times out and placement goes on without it.
zt_zdb_hang d16
zt_check "store with a hung backend succeeds" ZS store --file "$D/orig/one" --key-path "$D/orig"
zt_zdb_unhang d16

# A read-only backend fails the write; the store reports it and exits 1.
keys_stored() {	# live keys over the 15 data backends of cfg.toml
	local n t=0
	for n in d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 d10 d11 d12 d13 d14; do
		t=$((t + $(zt_zdb_nscmd "$n" DBSIZE)))
	done
	echo "$t"
}
before=$(keys_stored)
zt_zdb_readonly d3
Z store --file "$D/orig/k64p1" --key-path "$D/orig" 2>"$D/err"
zt_check_eq "store onto a read-only backend exits 1" 1 $?
grep -Eq "read-only|locked" "$D/err"; zt_check "... and says the namespace is read-only" test $? -eq 0
zt_check_eq "... and deletes the shards it had written elsewhere" "$before" "$(keys_stored)"
zt_zdb_cmd d3 NSSET d3 lock 0 >/dev/null

# Rebuild moves the shards of dead backends to healthy ones.
zt_zdb_stop d0; zt_zdb_stop d1
# Two of the three spares refuse writes: one spare for two missing shards. The
# rebuild fails cleanly and takes back the shard it had placed.
zt_zdb_readonly d15; zt_zdb_readonly d16
spare_keys=$(zt_zdb_nscmd d17 DBSIZE)
zt_log_mark "$D/zstor.log"
ZS rebuild --file "$D/files/random10m" 2>"$D/err"
zt_check_eq "rebuild with too few writable spares exits 1" 1 $?
grep -q "no healthy backend is left" "$D/err"; zt_check "... saying why" test $? -eq 0
zt_check_eq "... and leaves nothing on the spare it used" "$spare_keys" "$(zt_zdb_nscmd d17 DBSIZE)"
zt_check "... after trying the read-only spares" \
	zt_log_has "$D/zstor.log" "rebuild: .*d1[56]: SET failed.*trying another backend"
zt_zdb_cmd d16 NSSET d16 lock 0 >/dev/null
locked_keys=$(zt_zdb_nscmd d15 DBSIZE)
zt_check "rebuild after 2 backends died, with one read-only spare" \
	ZS rebuild --file "$D/files/random10m"
zt_check_eq "... nothing landed on the read-only one" "$locked_keys" "$(zt_zdb_nscmd d15 DBSIZE)"
zt_zdb_cmd d15 NSSET d15 lock 0 >/dev/null
zt_zdb_stop d2; zt_zdb_stop d3; zt_zdb_stop d4; zt_zdb_stop d5
rm -f "$D/files/random10m"
zt_check "retrieve after rebuild with 6 original backends dead" Z retrieve --file "$D/files/random10m"
zt_check "... bit-exact" cmp -s "$D/orig/random10m" "$D/files/random10m"

# Not rebuilt, 6 of 15 dead: a clean error, and the file in place stays as it was.
echo "keep me" >"$D/files/text5m"
Z retrieve --file "$D/files/text5m" 2>"$D/err"
zt_check_eq "retrieve with 6 of 15 backends dead exits 1" 1 $?
grep -q "shards needed could be read" "$D/err"; zt_check "... and says why" test $? -eq 0
zt_check_eq "... the file in place is untouched" "keep me" "$(cat "$D/files/text5m")"
Z test 2>"$D/err"; zt_check_eq "test fails with dead backends" 1 $?
Z status >"$D/status"; zt_check_eq "status shows the 6 dead backends" 6 "$(grep -c '| No' "$D/status")"

# Metadata: 2 of 4 dead. Reads still work; stores are refused naming them.
zt_zdb_stop m0; zt_zdb_stop m1
zt_check_eq "check with 2 of 4 metadata backends" \
	"$(b2sum -l 128 "$D/orig/one" | cut -d' ' -f1)" "$(Z check --file "$D/files/one")"
rm -f "$D/files/random10m"
zt_check "retrieve with 2 of 4 metadata backends" Z retrieve --file "$D/files/random10m"
Z store --file "$D/orig/k64" 2>"$D/err"
zt_check_eq "store with 2 metadata backends dead exits 1" 1 $?
grep -q "$(zt_zdb_addr m0)/m0" "$D/err" && grep -q "$(zt_zdb_addr m1)/m1" "$D/err"
zt_check "... naming both dead metadata backends" test $? -eq 0

zt_done
