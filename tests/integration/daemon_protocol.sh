# The daemon's control socket against malformed client frames: bad lengths,
# frames cut short, bad JSON, wrong types and fields, missing, extra and
# misplaced descriptors, another protocol version. Each gets an error reply or a
# closed connection; afterwards the daemon is alive, has leaked no descriptor
# and serves. A client that stalls mid-frame does not block the others.
# Progress frames come only for a retrieve that asks; our client refuses the
# ones it did not ask for.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
zd_small_cluster

head -c 100000 /dev/urandom >"$D/files/a"
zt_check "store before the bad frames" Z store -f "$D/files/a"
fds_before=$(ls "/proc/$ZD_PID/fd" | wc -l)

# bad DESCRIPTION ERROR BODY [send-frame options]: the daemon answers ok:false
# with an error that contains ERROR (the refusal this case is about, not just any
# refusal), hangs up, and stays alive.
bad() {
	local desc=$1 want=$2 body=$3 out rc
	shift 3
	out=$(timeout 30 "$ZT_SEND" --timeout 10000 "$@" "$ZD_SOCK" "$body" 2>&1)
	rc=$?
	LAST_REPLY=$out
	if ((rc == 0)) && [[ $out == *'"ok":false'* && $out == *'then closed' ]] &&
	    [[ $(reply_error "$out") == *"$want"* ]] &&
	    kill -0 "$ZD_PID" 2>/dev/null; then
		zt__pass "$desc"
		return 0
	fi
	zt__fail "$desc" "send-frame $* '$body'" "exit status: $rc" "$out" \
	    "expected an error containing: $want" \
	    "daemon alive: $(kill -0 "$ZD_PID" 2>/dev/null && echo yes || echo no)"
	return 1
}

# The "error" string of send-frame's reply line, unescaped (\" and \\).
reply_error() {
	local line e

	line=$(grep -m 1 '^reply ' <<<"$1")
	e=${line#*\"error\":\"}
	[[ $e != "$line" ]] || return 0
	e=${e%\"\}}
	e=${e//\\\"/\"}
	printf '%s' "${e//\\\\/\\}"
}

CHECK='{"v":1,"type":"check","id":1,"path":"/x"}'
STORE='{"v":1,"type":"store","id":1,"path":"/x","delete":false,"blocking":true,"save_failure":false}'
F=$D/files/a

# lengths and frames cut short
bad "length 0" 'frame of length 0' '{}' --len 0
bad "length 2^32-1" 'frame of 4294967295 bytes is larger than the 1048576 byte limit' "$CHECK" --len 0xffffffff
bad "length 1 MiB + 1" 'frame of 1048577 bytes is larger than the 1048576 byte limit' "$CHECK" --len 1048577
bad "not a frame at all (an HTTP request)" 'frame of 1195725856 bytes is larger than' $'GET / HTTP/1.0\r\n\r\n' --raw
bad "connection closed inside the header" 'closed the connection in the middle of a frame' "$CHECK" --cut 2 --eof
bad "connection closed after the header" 'closed the connection in the middle of a frame' "$CHECK" --cut 4 --eof
bad "connection closed inside the body" 'closed the connection in the middle of a frame' "$CHECK" --len 200 --eof
# JSON
bad "invalid JSON" 'not valid JSON (error at byte 21)' '{"v":1,"type":"check",'
bad "an array, not an object" 'an array, not a JSON object' '[1,2,3]'
bad "a string, not an object" 'a string, not a JSON object' '"check"'
bad "trailing bytes after the object" 'trailing bytes after the JSON object' "$CHECK x"
bad "a key named twice" 'duplicate key "path"' '{"v":1,"type":"check","id":1,"path":"/x","path":"/y"}'
hexof() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
bad "invalid UTF-8" 'invalid UTF-8 in a string' "$(hexof '{"v":1,"type":"check","id":1,"path":"/')ff$(hexof '"}')" --hex
bad "a raw control character in a string" 'control character 0x01 in a string' \
	"$(hexof '{"v":1,"type":"check","id":1,"path":"/')01$(hexof '"}')" --hex
bad "\\u0000 in a string" 'NUL character' '{"v":1,"type":"check","id":1,"path":"/a\u0000b"}'
bad "a malformed number (01)" 'malformed number' '{"v":1,"type":"check","id":01,"path":"/x"}'
# header fields
bad "type missing" 'has no "type"' '{"v":1,"id":1,"path":"/x"}'
bad "type not a string" '"type" must be a string, not a number' '{"v":1,"type":7,"id":1,"path":"/x"}'
bad "unknown type" 'unknown message type "format_disk"' '{"v":1,"type":"format_disk","id":1}'
bad "a daemon-to-client type (reply)" 'it is not accepted client->master' '{"v":1,"type":"reply","id":1,"ok":true}'
bad "a worker message (hello)" 'goes worker->master, it is not accepted' '{"type":"hello","id":1,"role":"encoder","pid":1}'
bad "id missing" 'has no "id"' '{"v":1,"type":"check","path":"/x"}'
bad "id negative" '"id" must be an integer 0..2^53-1' '{"v":1,"type":"check","id":-1,"path":"/x"}'
bad "id not an integer" '"id" must be an integer 0..2^53-1' '{"v":1,"type":"check","id":1.5,"path":"/x"}'
bad "id above 2^53" '"id" must be an integer 0..2^53-1' '{"v":1,"type":"check","id":9007199254740993,"path":"/x"}'
bad "v missing" 'no protocol version "v"' '{"type":"check","id":1,"path":"/x"}'
bad "another protocol version (v 2)" 'unsupported protocol version 2' '{"v":2,"type":"check","id":1,"path":"/x"}'
[[ $LAST_REPLY == *"unsupported protocol version"* ]]
zt_check "... answered \"unsupported protocol version\"" test $? -eq 0
# fields
bad "a required field missing (check without path)" 'check: missing required field "path"' '{"v":1,"type":"check","id":1}'
bad "a field of the wrong kind (path 5)" 'check: field "path" must be a string, not a number' '{"v":1,"type":"check","id":1,"path":5}'
bad "a boolean given as a string" 'store: field "delete" must be a boolean, not a string' "${STORE/\"delete\":false/\"delete\":\"yes\"}" --fd "$F"
[[ $LAST_REPLY == *delete* ]]
zt_check "... the error names the field" test $? -eq 0
bad "an unknown field" 'check: unknown field "force"' '{"v":1,"type":"check","id":1,"path":"/x","force":true}'
bad "rebuild with both path and key" 'Only one of `file` or `key` argument must be set' '{"v":1,"type":"rebuild","id":1,"path":"/x","key":"/zt/meta/00"}'
bad "rebuild with neither path nor key" 'Either `file` or `key` argument must be set' '{"v":1,"type":"rebuild","id":1}'
# descriptors
bad "store without its descriptor" 'store: this message needs a file descriptor' "$STORE"
bad "retrieve without its descriptor" 'retrieve: this message needs a file descriptor' '{"v":1,"type":"retrieve","id":1,"path":"/x"}'
bad "check with a descriptor" 'check: this message must not carry a file descriptor' "$CHECK" --fd "$F"
bad "store with two descriptors" 'store: this message carries 1 file descriptor, not 2' "$STORE" --fd "$F" --fd "$F"
bad "store with the descriptor on the second byte" 'arrived in the middle of a frame' "$STORE" --fd-late "$F"
bad "store of a directory's descriptor" 'store /x: only regular files can be stored' "$STORE" --fd "$D/files"
bad "store of a character device's descriptor" 'store /x: only regular files can be stored' \
	"$STORE" --fd /dev/null
bad "retrieve into a directory's descriptor" \
	'retrieve /x: the descriptor must be a regular file to write to' \
	'{"v":1,"type":"retrieve","id":1,"path":"/x"}' --fd "$D/files"
# paths: the client resolves them, so the daemon takes absolute ones only
bad "store with a relative key_path" 'store: path and key_path must be absolute' \
	"${STORE/\"path\":\"\/x\"/\"path\":\"/x\",\"key_path\":\"x\"}" --fd "$F"
bad "store with a relative path" 'store: path and key_path must be absolute' \
	"${STORE/\"path\":\"\/x\"/\"path\":\"x\"}" --fd "$F"

zt_check "the daemon is alive after the bad frames" kill -0 "$ZD_PID"
sleep 0.5
zt_check_eq "... and holds no descriptor more than before" "$fds_before" \
	"$(ls "/proc/$ZD_PID/fd" | wc -l)"

# A client stalled in the middle of a frame does not block the others.
"$ZT_SEND" --timeout 60000 --cut 10 "$ZD_SOCK" "$CHECK" >"$D/stalled.out" 2>&1 &
stalled=$!
sleep 0.3
head -c 200000 /dev/urandom >"$D/files/b"
zt_check "store while another client stalls mid-frame" Z store -f "$D/files/b"
cp "$D/files/b" "$D/b.orig"; rm -f "$D/files/b"
zt_check "retrieve while another client stalls mid-frame" Z retrieve -f "$D/files/b"
zt_check "... bit-exact" cmp -s "$D/b.orig" "$D/files/b"
kill "$stalled" 2>/dev/null; wait "$stalled" 2>/dev/null

# ---- progress frames: for a retrieve that asks, and only then ----
frame() { printf '%08x%s' "${#1}" "$(hexof "$1")"; }
# The JSON of each frame in send-frame's "bytes HEX", one a line.
frames_of() { printf '%b' "$(sed 's/../\\x&/g' <<<"${1#bytes }")" | tr -c '[:print:]' '\n' | grep -o '{.*}'; }
RETR="{\"v\":1,\"type\":\"retrieve\",\"id\":7,\"path\":\"$F\"}"
: >"$D/out.tmp"
raw=$("$ZT_SEND" --raw-reply --fd "$D/out.tmp" "$ZD_SOCK" "$RETR")
zt_check_eq "a retrieve that does not ask for progress: the reply alone, as before" \
    "bytes $(frame '{"v":1,"type":"reply","id":7,"ok":true}')" "$raw"
zt_check "... bit-exact" cmp -s "$D/out.tmp" "$F"
: >"$D/out.tmp"
raw=$("$ZT_SEND" --raw-reply --fd "$D/out.tmp" "$ZD_SOCK" "${RETR%\}},\"progress\":true}")
frames=$(frames_of "$raw")
zt_check_eq "a retrieve that asks: the reply comes last" \
    '{"v":1,"type":"reply","id":7,"ok":true}' "$(tail -n 1 <<<"$frames")"
zt_check "... after progress frames" grep -q '"type":"progress"' <<<"$frames"
zt_check_eq "... each of its request, a share of the pieces" "" \
    "$(head -n -1 <<<"$frames" | grep -v '^{"v":1,"type":"progress","id":7,"done":[1-9][0-9]*,"total":[1-9][0-9]*}$')"
zt_check "... bit-exact" cmp -s "$D/out.tmp" "$F"
bad "progress asked of a check" 'check: unknown field "progress"' "${CHECK%\}},\"progress\":true}"
bad "progress not a boolean" 'retrieve: field "progress" must be a boolean, not a number' \
    "${RETR%\}},\"progress\":1}" --fd "$D/out.tmp"

# The client against a stand-in daemon that answers with hand-made frames: it
# takes progress frames before the reply only when it asked for them (stderr
# a terminal), for its own request, and as a share of the work.
sed "s|$ZD_SOCK|$D/fake.sock|" "$D/cfg.toml" >"$D/fake.toml"
PROG='{"v":1,"type":"progress","id":1,"done":2,"total":4}'
OK='{"v":1,"type":"reply","id":1,"ok":true}'
# fake_retrieve TTY FRAME...: a retrieve answered with the frames, on a
# terminal when TTY is 1; its exit status in FAKE_RC, its output in fake.err
fake_retrieve() {
	local tty=$1 hex="" f cmd
	shift
	for f in "$@"; do hex=$hex$(frame "$f"); done
	zd_fake_upstream "$D/fake.sock" "$D/fake.out" reply "$hex"
	cmd="timeout 30 '$ZT_ZSTOR' -c '$D/fake.toml' --log_file /dev/null retrieve -f '$D/files/x'"
	if ((tty)); then
		script -qfec "$cmd" /dev/null >"$D/fake.err" 2>&1
	else
		bash -c "$cmd" >"$D/fake.err" 2>&1
	fi
	FAKE_RC=$?
	wait "$ZD_FAKE_PID"
}
fake_retrieve 1 "$PROG" "$PROG" "$OK"
zt_check_eq "the client on a terminal takes progress frames before the reply" 0 "$FAKE_RC" ||
	sed "s/^/    said: /" "$D/fake.err"
fake_retrieve 0 "$PROG" "$OK"
zt_check_eq "progress for a request that did not ask: exit 1" 1 "$FAKE_RC"
zt_check "... saying so" grep -q "progress for request 1, which did not ask for it" "$D/fake.err"
fake_retrieve 1 "${PROG/\"id\":1/\"id\":2}" "$OK"
zt_check_eq "progress for another request: exit 1" 1 "$FAKE_RC"
zt_check "... saying so" grep -q "progress for request 2, not 1" "$D/fake.err"
fake_retrieve 1 "${PROG/\"done\":2/\"done\":5}" "$OK"
zt_check_eq "progress past the end: exit 1" 1 "$FAKE_RC"
zt_check "... saying so" grep -q "5 of 4 pieces is not a share of the work" "$D/fake.err"
fake_retrieve 1 "$PROG"
zt_check_eq "progress, then the daemon hangs up: exit 1" 1 "$FAKE_RC"
zt_check "... saying so" grep -q "closed the connection without an answer" "$D/fake.err"
fake_retrieve 1 '{"type":"job_progress","id":1,"done":2,"total":4}' "$OK"
zt_check_eq "a worker's progress frame: exit 1" 1 "$FAKE_RC"
zt_check "... saying so" grep -q "goes worker->master" "$D/fake.err"

rm -f "$D/files/a"
zt_check "retrieve after the bad frames" Z retrieve -f "$D/files/a"
zt_check_eq "... and check" "$(zd_b2 "$D/files/a")" "$(Z check -f "$D/files/a")"
zd_stop TERM
zt_check_eq "SIGTERM: the daemon exits 0" 0 $?

zt_done
