# zstor without a daemon on local directory backends: every command end to end,
# erasures up to the parity count, rebuild, and the error paths.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
zt_init

D=$ZT_DIR
mkdir -p "$D/files" "$D/out"
# A directory backend's base directory must exist; removing it kills the backend.
for i in $(seq 0 19); do mkdir -p "$D/b$i"; done
for i in 0 1 2 3; do mkdir -p "$D/m$i"; done
meta="dir:$D/m0#meta dir:$D/m1#meta dir:$D/m2#meta dir:$D/m3#meta"
g() { local i s=""; for i in "$@"; do s="$s dir:$D/b$i#data"; done; echo "$s"; }
zt_write_config "$D/cfg.toml" 10 15 1 0 "$meta" "$(g 0 1 2 3 4)" "$(g 5 6 7 8 9)" "$(g 10 11 12 13 14)"
# The same backends plus a group of spares, for rebuild.
zt_write_config "$D/cfg-spare.toml" 10 15 1 0 "$meta" "$(g 0 1 2 3 4)" "$(g 5 6 7 8 9)" \
	"$(g 10 11 12 13 14)" "$(g 15 16 17 18 19)"
Z() { "$ZT_ZSTOR" -c "$D/cfg.toml" --log_file "$D/zstor.log" "$@"; }

# Files at the edges of the format: empty, one byte, around the 64 KiB snappy
# chunk, multi-stripe random, compressible.
: >"$D/files/empty"
printf x >"$D/files/one"
head -c 65535 /dev/urandom >"$D/files/k64m1"
head -c 65536 /dev/urandom >"$D/files/k64"
head -c 65537 /dev/urandom >"$D/files/k64p1"
head -c $((10 * 1024 * 1024 + 3)) /dev/urandom >"$D/files/random10m"
yes "zstor stores files as erasure-coded shards" | head -c $((10 * 1024 * 1024)) >"$D/files/text10m"
cp -a "$D/files" "$D/orig"

for f in empty one k64m1 k64 k64p1 random10m text10m; do
	zt_check "store $f" Z store --file "$D/files/$f"
	zt_check_eq "check $f prints the BLAKE2b-128" \
		"$(b2sum -l 128 "$D/orig/$f" | cut -d' ' -f1)" "$(Z check --file "$D/files/$f")"
done
zt_log_mark "$D/zstor.log"
zt_check "store again (unchanged, skipped)" Z store --file "$D/files/one"
zt_check "a duplicate store is skipped" zt_log_has "$D/zstor.log" "Skipping"

rm -f "$D/files/"*
for f in empty one k64m1 k64 k64p1 random10m text10m; do
	zt_check "retrieve $f" Z retrieve --file "$D/files/$f"
	zt_check "retrieved $f is bit-exact" cmp -s "$D/orig/$f" "$D/files/$f"
done

# stand_in SONAME: checks that zstor does not link the library and makes an
# empty one of that name in $D/stand-in/SONAME, which LD_LIBRARY_PATH then
# finds first; 1 without a C compiler.
stand_in() {
	local lib=${1%%.so*}
	if ldd "$ZT_ZSTOR" | grep -q "$lib\.so"; then
		zt__fail "zstor does not link $lib" "$(ldd "$ZT_ZSTOR")"
	else
		zt__pass "zstor does not link $lib"
	fi
	mkdir -p "$D/stand-in/$1"
	echo 'int zstor_stand_in;' | ${CC:-cc} -shared -fPIC -x c - \
	    -o "$D/stand-in/$1/$1" 2>/dev/null
}

# zstor loads libsnappy at the first framing or unframing (the stores and
# retrieves above did), and one without the calls makes a standalone command
# fail saying what is missing, the file and the stored object left alone.
if stand_in libsnappy.so.1; then
	printf 'not k64\n' >"$D/files/k64"
	LD_LIBRARY_PATH=$D/stand-in/libsnappy.so.1 Z retrieve --file "$D/files/k64" 2>"$D/err"
	zt_check_eq "a retrieve without a usable libsnappy exits 1" 1 $?
	zt_check "... saying what is missing" grep -q \
	    "snappy framing needs libsnappy: libsnappy.so.1 has no snappy_compress" "$D/err" ||
		sed "s/^/    said: /" "$D/err"
	zt_check_eq "... the file left as it was" "not k64" "$(cat "$D/files/k64")"
	head -c 1000 /dev/urandom >"$D/files/nosnappy"
	LD_LIBRARY_PATH=$D/stand-in/libsnappy.so.1 Z store --file "$D/files/nosnappy" 2>"$D/err"
	zt_check_eq "a store without a usable libsnappy exits 1" 1 $?
	zt_check_eq "... and nothing is stored" "" "$(Z check --file "$D/files/nosnappy")"
	rm -f "$D/files/nosnappy"
	zt_check "with libsnappy, the object retrieves again" Z retrieve --file "$D/files/k64"
	zt_check "... bit-exact" cmp -s "$D/orig/k64" "$D/files/k64"
else
	zt_skip "no C compiler for a stand-in libsnappy"
fi

# With every backend healthy a retrieve reads the 10 data shards and no parity.
zt_log_mark "$D/zstor.log"
zt_check "retrieve with debug logging" Z -d retrieve --file "$D/files/random10m"
zt_check "... read only the data shards" \
	zt_log_has "$D/zstor.log" "read shards 0,1,2,3,4,5,6,7,8,9 of 10+5"

# --key-path: the key is computed as if the file lived in that directory.
mkdir -p "$D/keydir"
zt_check "store --key-path" Z store --file "$D/orig/k64" --key-path "$D/keydir"
zt_check_eq "... check finds it under the key path" \
	"$(b2sum -l 128 "$D/orig/k64" | cut -d' ' -f1)" "$(Z check --file "$D/keydir/k64")"

# --delete removes the file once it is stored, and only then.
mkdir -p "$D/del"; head -c 5000 /dev/urandom >"$D/del/x"; cp "$D/del/x" "$D/del.orig"
zt_check "store --delete" Z store --file "$D/del/x" --delete
zt_check_fail "... the file is gone" test -e "$D/del/x"
zt_check "... and comes back" Z retrieve --file "$D/del/x"
zt_check "... bit-exact" cmp -s "$D/del.orig" "$D/del/x"

# A directory store goes on past a file it cannot store (a name that is not UTF-8
# has no metadata key), reports it, stores the rest and exits 1.
mkdir -p "$D/batch"
echo a >"$D/batch/a"; echo c >"$D/batch/c"; echo bad >"$D/batch/$(printf 'b\xff')"
Z store --file "$D/batch" 2>"$D/err"; rc=$?
zt_check_eq "directory store with one bad file exits 1" 1 "$rc"
grep -q "utf-8" "$D/err"; zt_check "... and names the problem" test $? -eq 0
grep -q "1 of 3 files failed" "$D/err"; zt_check "... and counts the failures" test $? -eq 0
zt_check_eq "... the good files were stored" "$(b2sum -l 128 "$D/batch/c" | cut -d' ' -f1)" \
	"$(Z check --file "$D/batch/c")"

# A directory of many files is stored several at a time (two of them large
# enough to be stored alone): each is stored under its own key, and each comes
# back bit-exact.
mkdir -p "$D/many"
for ((i = 0; i < 40; i++)); do head -c $((i * 331 + 1)) /dev/urandom >"$D/many/s$i"; done
head -c 9000000 /dev/urandom >"$D/many/big1"
head -c 9500000 /dev/urandom >"$D/many/big2"
cp -a "$D/many" "$D/many.orig"
zt_check "a directory of 42 files is stored" Z store --file "$D/many"
same=0
for f in "$D/many.orig"/*; do
	[[ $(Z check --file "$D/many/${f##*/}") == "$(b2sum -l 128 "$f" | cut -d' ' -f1)" ]] &&
	    same=$((same + 1))
done
zt_check_eq "... check finds each with its BLAKE2b-128" 42 "$same"
rm -f "$D/many"/*
same=0
for f in "$D/many.orig"/*; do
	Z retrieve --file "$D/many/${f##*/}" && cmp -s "$f" "$D/many/${f##*/}" &&
	    same=$((same + 1))
done
zt_check_eq "... and each retrieves bit-exact" 42 "$same"

# Lose P = 5 backends (a whole group): everything still comes back.
rm -rf "$D/b5" "$D/b6" "$D/b7" "$D/b8" "$D/b9"
rm -f "$D/files/random10m"
zt_log_mark "$D/zstor.log"
zt_check "retrieve with 5 of 15 backends gone" Z -d retrieve --file "$D/files/random10m"
zt_check "... parity shards were read for the missing ones" \
	zt_log_has "$D/zstor.log" -E "read shards .*1[0-4] of 10\+5"
zt_check "... bit-exact" cmp -s "$D/orig/random10m" "$D/files/random10m"

# Rebuild onto the spares: the object survives losing more backends afterwards.
zt_check "rebuild onto healthy backends" "$ZT_ZSTOR" -c "$D/cfg-spare.toml" \
	--log_file "$D/zstor.log" rebuild --file "$D/files/random10m"
rm -rf "$D/b0" "$D/b1" "$D/b2" "$D/b3"
rm -f "$D/files/random10m"
zt_check "retrieve after rebuild and 4 more backends gone" \
	Z retrieve --file "$D/files/random10m"
zt_check "... bit-exact" cmp -s "$D/orig/random10m" "$D/files/random10m"

# Six of fifteen gone for an object that was not rebuilt: a clean error, and the
# file already in place is left alone, with no temporary file beside it.
echo "keep me" >"$D/files/text10m"
Z retrieve --file "$D/files/text10m" 2>"$D/err"; rc=$?
zt_check_eq "retrieve with too few shards exits 1" 1 "$rc"
grep -q "shards needed could be read" "$D/err"; zt_check "... and says why" test $? -eq 0
zt_check_eq "... the existing file is untouched" "keep me" "$(cat "$D/files/text10m")"
zt_check_eq "... no temporary file is left" "" "$(ls -A "$D/files" | grep zstor- || true)"

# Metadata: 2 of 4 down. Reads work, stores are refused naming the dead ones.
mv "$D/m0" "$D/m0.off"; mv "$D/m1" "$D/m1.off"
zt_check "check with 2 of 4 metadata backends" Z check --file "$D/files/one"
Z check --file /never/stored >"$D/out.txt" 2>"$D/err"
zt_check_eq "with 2 metadata backends down, 'not stored' cannot be told: exit 1" 1 $?
grep -q "only 2 of 4 metadata backends answered" "$D/err"
zt_check "... saying so" test $? -eq 0
Z store --file "$D/orig/one" 2>"$D/err"; rc=$?
zt_check_eq "store with 2 metadata backends down exits 1" 1 "$rc"
grep -q "m0/meta" "$D/err" && grep -q "m1/meta" "$D/err"
zt_check "... naming both dead metadata backends" test $? -eq 0
mv "$D/m0.off" "$D/m0"; mv "$D/m1.off" "$D/m1"

# A policy that loads but no spread of shards can satisfy (upstream's README one):
# store and test warn, and a store fails saying why.
zt_write_config "$D/cfg-policy.toml" 10 15 1 1 "$meta" "$(g 0 1 2 3 4)" "$(g 5 6 7 8 9)" \
	"$(g 10 11 12 13 14)"
"$ZT_ZSTOR" -c "$D/cfg-policy.toml" --log_file "$D/zstor.log" store --file "$D/orig/one" \
	2>"$D/err"
zt_check_eq "store with an unsatisfiable policy exits 1" 1 $?
grep -q "warning: every store will fail" "$D/err"; zt_check "... after a warning" test $? -eq 0
grep -q "unable to find a valid configuration" "$D/err"
zt_check "... and the placement error" test $? -eq 0

# Command-line errors: exit 2 with a message; bad config: exit 1.
Z store 2>"$D/err"; zt_check_eq "store without --file exits 2" 2 $?
Z rebuild --file /a --key /b 2>"$D/err"; zt_check_eq "rebuild with both --file and --key exits 2" 2 $?
Z frobnicate 2>"$D/err"; zt_check_eq "unknown command exits 2" 2 $?
"$ZT_ZSTOR" -c "$D/missing.toml" --log_file "$D/zstor.log" status 2>"$D/err"
zt_check_eq "missing config exits 1" 1 $?
grep -q "missing.toml" "$D/err"; zt_check "... naming the file" test $? -eq 0
zt_check_eq "check of a file never stored prints nothing" "" "$(Z check --file /never/stored)"

# zstor loads libcrypto only when a command needs AES-GCM, and one without
# the calls makes a standalone store fail saying what is missing, the file
# left alone.
if stand_in libcrypto.so.3; then
	head -c 1000 /dev/urandom >"$D/files/nocrypto"
	LD_LIBRARY_PATH=$D/stand-in/libcrypto.so.3 Z store --file "$D/files/nocrypto" 2>"$D/err"
	zt_check_eq "a store without a usable libcrypto exits 1" 1 $?
	grep -q "AES-GCM needs OpenSSL's libcrypto: libcrypto.so.3 has no EVP_CIPHER_CTX_new" "$D/err"
	zt_check "... saying what is missing" test $? -eq 0
	zt_check_eq "... and nothing is stored" "" "$(Z check --file "$D/files/nocrypto")"
	zt_check "... the file untouched" test -s "$D/files/nocrypto"
else
	zt_skip "no C compiler for a stand-in libcrypto"
fi

zt_done
