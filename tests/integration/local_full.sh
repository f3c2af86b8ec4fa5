# A full local filesystem is named as such: the scratch filesystem ($TMPDIR)
# of a store or a retrieve, and the filesystem a retrieved file goes to. The
# message says which one is full and what needs the room; nothing is left
# half-written. Needs root (small tmpfs mounts); skipped otherwise.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
zt_init
D=$ZT_DIR
if ((EUID != 0)) || ! mkdir -p "$D/tiny" "$D/out" ||
    ! mount -t tmpfs -o size=1m tmpfs "$D/tiny" 2>/dev/null; then
	zt_skip "full filesystems need root to mount a small tmpfs"
	zt_done
fi
trap 'umount "$D/tiny" "$D/out" 2>/dev/null; zt__cleanup' EXIT
mount -t tmpfs -o size=1m tmpfs "$D/out"
mkdir -p "$D/f"
for i in 0 1 2 3 4; do mkdir -p "$D/b$i"; done
for i in 0 1 2 3; do mkdir -p "$D/m$i"; done
zt_write_config "$D/cfg.toml" 3 5 0 0 \
	"dir:$D/m0#meta dir:$D/m1#meta dir:$D/m2#meta dir:$D/m3#meta" \
	"dir:$D/b0#d dir:$D/b1#d dir:$D/b2#d dir:$D/b3#d dir:$D/b4#d"
Z() { "$ZT_ZSTOR" -c "$D/cfg.toml" --log_file "$D/zstor.log" "$@"; }
# Larger than what a store keeps in memory (16 MiB): it needs the scratch file.
head -c $((20 * 1024 * 1024)) /dev/urandom >"$D/f/big"

TMPDIR=$D/tiny Z store -f "$D/f/big" 2>"$D/err"
zt_check_eq "store with a full scratch filesystem exits 1" 1 $?
zt_check "... naming it and what needs the room" grep -q \
    "scratch file in $D/tiny (TMPDIR): write failed: No space left on device; a store of this file needs about" "$D/err"
zt_check_eq "... and nothing was stored" "" "$(Z check -f "$D/f/big")"

zt_check "store" Z store -f "$D/f/big"
cp "$D/f/big" "$D/big.orig"
TMPDIR=$D/tiny Z retrieve -f "$D/f/big" 2>"$D/err"
zt_check_eq "retrieve of intact shards with a full scratch filesystem works: it needs none" 0 $?
zt_check "... bit-exact" cmp -s "$D/big.orig" "$D/f/big"
# With a data shard lost, parity is read through the scratch file: lose one
# backend after the other until it holds a data shard.
for i in 0 1 2 3 4; do
	mv "$D/b$i" "$D/gone"
	TMPDIR=$D/tiny Z retrieve -f "$D/f/big" 2>"$D/err"
	rc=$?
	mv "$D/gone" "$D/b$i"
	((rc != 0)) && break
done
zt_check_eq "retrieve with a data shard lost and a full scratch filesystem exits 1" 1 $rc
zt_check "... naming it" grep -q \
    "scratch file in $D/tiny (TMPDIR): write failed: No space left on device; a retrieve of this object needs about" "$D/err"
zt_check "... the file in place is untouched" cmp -s "$D/big.orig" "$D/f/big"
zt_check_eq "... and no temporary file is left beside it" "big" "$(ls -A "$D/f")"

# The target's own filesystem is full: the file stays as it was.
zt_check "store under the small filesystem's path" Z store -f "$D/f/big" -k "$D/out"
echo "keep me" >"$D/out/big"
Z retrieve -f "$D/out/big" 2>"$D/err"
zt_check_eq "retrieve onto a full filesystem exits 1" 1 $?
zt_check "... saying the file's filesystem is full" grep -q \
    "the file being retrieved: write failed: No space left on device; it needs at least .* bytes on the filesystem of its directory" "$D/err"
zt_check_eq "... the file in place is untouched" "keep me" "$(cat "$D/out/big")"
zt_check_eq "... and no temporary file is left" "big" "$(ls -A "$D/out")"
zt_done
