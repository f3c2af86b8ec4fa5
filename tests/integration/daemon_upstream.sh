# The control socket also speaks upstream zstor's protocol (2-byte length,
# bincode ZstorCommand), told apart from ours by the first bytes: the frames of
# the specification's vectors, store, check and retrieve of real files done
# with the client's rights (an unprivileged user this suite creates may not
# reach root's files this way either), bad frames, and our client saying
# plainly that a daemon speaks the other protocol.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
zd_attacker up "upstream requests"
zd_small_cluster
chmod 666 "$ZD_SOCK"

hexof() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
le64() { local i; for ((i = 0; i < 8; i++)); do printf '%02x' $((($1 >> (8 * i)) & 255)); done; }
ustr() { local h; h=$(hexof "$1"); printf '%s%s' "$(le64 $((${#h} / 2)))" "$h"; }
uframe() { printf '%04x%s' $((${#1} / 2)) "$1"; }
u_store() { uframe "00000000$(ustr "$1")00000001"; }	# blocking, no key_path
u_retrieve() { uframe "01000000$(ustr "$1")"; }
u_check() { uframe "03000000$(ustr "$1")"; }
# up [AS-USER] FRAME-HEX: the daemon's answer's bytes, as hex
up() {
	local out
	if (($# == 2)); then
		out=$(zd_as "$1" "$ZT_SEND" --timeout 30000 --raw --hex --raw-reply "$ZD_SOCK" "$2")
	else
		out=$("$ZT_SEND" --timeout 30000 --raw --hex --raw-reply "$ZD_SOCK" "$1")
	fi
	echo "${out#bytes }"
}
# The text of an Err reply (2-byte length, tag 1, u64 length, text), or "".
err_text() {
	[[ ${1:4:8} == 01000000 ]] || return 0
	printf "$(printf %s "${1:28}" | sed 's/../\\x&/g')"
}
SUCCESS=000400000000

# ---- the specification's frames ----
zt_check_eq "check --file /a (spec 5.1): Success, nothing stored there" "$SUCCESS" \
    "$(up 000e0300000002000000000000002f61)"
r=$(up 00170000000007000000000000002f646174612f6600010001)
zt_check_eq "Store(/data/f, save_failure, blocking) (spec 8.3): an Err reply" 01000000 "${r:4:8}"
zt_check_eq "... its length right" $(((${#r} - 4) / 2)) $((16#${r:0:4}))
zt_check "... saying the file cannot be opened" grep -q "cannot open /data/f: No such file" <<<"$(err_text "$r")"

# ---- store, check, retrieve of a real file ----
head -c 300000 /dev/urandom >"$D/files/u"
cp "$D/files/u" "$D/u.orig"
zt_check_eq "upstream store: Success" "$SUCCESS" "$(up "$(u_store "$D/files/u")")"
sum=$(zd_b2 "$D/files/u")
zt_check_eq "... our client's check agrees" "$sum" "$(Z check -f "$D/files/u")"
zt_check_eq "upstream check: Checksum" "001402000000$sum" "$(up "$(u_check "$D/files/u")")"
rm "$D/files/u"
r=$( (umask 027; up "$(u_retrieve "$D/files/u")") )
zt_check_eq "upstream retrieve: Success" "$SUCCESS" "$r"
zt_check "... bit-exact" cmp -s "$D/u.orig" "$D/files/u"
zt_check_eq "... a new file gets 0666 & ~umask of the client (027)" 640 "$(stat -c %a "$D/files/u")"
zt_check_eq "... and no temporary file is left" "" "$(ls -A "$D/files" | grep zstor-)"
chown "root:$ATK" "$D/files/u"
chmod 604 "$D/files/u"
echo changed >>"$D/files/u"
zt_check_eq "upstream retrieve over a file" "$SUCCESS" "$(up "$(u_retrieve "$D/files/u")")"
zt_check_eq "... keeps its mode, owner and group" "604 root $ATK" "$(stat -c '%a %U %G' "$D/files/u")"
zt_check "... bit-exact" cmp -s "$D/u.orig" "$D/files/u"

# ---- with the client's rights ----
mkdir -m 0700 "$D/rootdir"
echo "root's secret" >"$D/rootdir/secret.txt"
chmod 600 "$D/rootdir/secret.txt"
zt_check "root stores its secret" Z store -f "$D/rootdir/secret.txt"
rsum=$(zd_b2 "$D/rootdir/secret.txt")
r=$(up "$ATK" "$(u_retrieve "$D/rootdir/secret.txt")")
zt_check "another user's upstream retrieve of root's file: refused" \
    grep -q "not allowed: uid $(id -u "$ATK") may not retrieve into" <<<"$(err_text "$r")"
r=$(up "$ATK" "$(u_store "$D/rootdir/secret.txt")")
zt_check "another user's upstream store of root's file: refused (opened as them)" \
    grep -q "cannot open $D/rootdir/secret.txt: Permission denied" <<<"$(err_text "$r")"
r=$(up "$ATK" "$(u_store /etc/shadow)")
zt_check "... and of /etc/shadow" grep -q "cannot open /etc/shadow: Permission denied" <<<"$(err_text "$r")"
zt_check_eq "... root's object is unchanged" "$rsum" "$(Z check -f "$D/rootdir/secret.txt")"
r=$(up "$ATK" "$(u_check "$D/rootdir/secret.txt")")
zt_check "another user's upstream check in root's directory: refused" \
    grep -q "not allowed" <<<"$(err_text "$r")"
mkdir -m 0755 "$D/atk"
chown "$ATK:$ATK" "$D/atk"
zd_as "$ATK" sh -c "echo mine >'$D/atk/mine'"
zt_check_eq "the user's upstream store of their own file" "$SUCCESS" "$(up "$ATK" "$(u_store "$D/atk/mine")")"
zd_as "$ATK" rm "$D/atk/mine"
zt_check_eq "... and retrieve" "$SUCCESS" "$(up "$ATK" "$(u_retrieve "$D/atk/mine")")"
zt_check_eq "... written as them" "$ATK mine" "$(stat -c %U "$D/atk/mine") $(cat "$D/atk/mine")"

# ---- bad upstream frames ----
r=$(up "$(u_check files/u)")
zt_check "a relative path: Err" grep -q "not an absolute path" <<<"$(err_text "$r")"
r=$(up "$(uframe "09000000$(ustr /x)")")
zt_check "an unknown command: Err" grep -q "unknown command 9" <<<"$(err_text "$r")"
r=$(up "$(uframe "03000000$(ustr /x)00")")
zt_check "bytes after the command: Err" grep -q "1 bytes after the command" <<<"$(err_text "$r")"
r=$(up "$(uframe "03000000$(le64 100)2f78")")
zt_check "a string longer than the frame: Err" grep -q "path of 100 bytes" <<<"$(err_text "$r")"
r=$(up "$(uframe "02000000000000")")
zt_check "rebuild with neither file nor key: Err" grep -q "Either \`file\` or \`key\`" <<<"$(err_text "$r")"

# ---- our client and a daemon of the other protocol ----
sed "s|$ZD_SOCK|$D/fake.sock|" "$D/cfg.toml" >"$D/fake.toml"
fake() {
	zd_fake_upstream "$D/fake.sock" "$D/fake.out" "$@"
	timeout 30 "$ZT_ZSTOR" -c "$D/fake.toml" --log_file /dev/null check -f /x >"$D/fake.err" 2>&1
	FAKE_RC=$?
	wait "$ZD_FAKE_PID"
}
fake reply "$SUCCESS"
zt_check_eq "our client against a daemon answering in upstream's protocol: exit 1" 1 "$FAKE_RC"
zt_check "... saying so" grep -q "answers in upstream zstor's protocol" "$D/fake.err"
fake close
zt_check_eq "our client against upstream's daemon dropping our frame: exit 1" 1 "$FAKE_RC"
zt_check "... saying it may be upstream's daemon, not 'Connection reset by peer'" \
    grep -q "or it is upstream zstor's daemon" "$D/fake.err" ||
	sed "s/^/    said: /" "$D/fake.err"

zt_check_eq "the daemon serves our protocol too" "$sum" "$(Z check -f "$D/files/u")"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?
zt_done
