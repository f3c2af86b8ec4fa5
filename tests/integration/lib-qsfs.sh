# The QSFS pieces both QSFS suites use: the hook a local 0-db runs, and that
# local 0-db. After lib.sh and lib-daemon.sh; the caller's EXIT trap runs
# zq_local_stop.

# zq_hook CONFIG: $ZT_DIR/hook.sh, as QSFS's: store a closed data file (and
# save the failure), fetch a missing one back; the rest is not needed here.
# Every call is logged in $ZT_DIR/hook.log, zstor's own lines in
# $ZT_DIR/hook-client.log.
zq_hook() {
	cat >"$ZT_DIR/hook.sh" <<EOF
#!/bin/sh
action=\$1
shift 2
echo "\$action \$*" >>"$ZT_DIR/hook.log"
case \$action in
jump-data)	exec timeout 120 "$ZT_ZSTOR" -c "$1" --log_file "$ZT_DIR/hook-client.log" store -s --file "\$1" ;;
missing-data)	exec timeout 120 "$ZT_ZSTOR" -c "$1" --log_file "$ZT_DIR/hook-client.log" retrieve --file "\$1" ;;
esac
exit 0
EOF
	chmod 755 "$ZT_DIR/hook.sh"
}

# zq_local_start ZDB_ARGS...: the local real 0-db on $ZT_DIR/local with the
# hook, in LPID and LPORT. It must own its port (another test's server may
# have taken it meanwhile: another port then). Fails after five tries.
LPID=
L() { "$ZT_DOUBLE" --client "127.0.0.1:$LPORT" "$@"; }
zq__up() { zt__owns_port "$LPID" "$LPORT" && L PING >/dev/null 2>&1; }
zq_local_start() {
	local try
	mkdir -p "$ZT_DIR/local"
	for try in 1 2 3 4 5; do
		LPORT=$(zt__free_port)
		"$ZDB_BIN" --listen 127.0.0.1 --port "$LPORT" \
		    --data "$ZT_DIR/local/data" --index "$ZT_DIR/local/index" \
		    --hook "$ZT_DIR/hook.sh" "$@" >"$ZT_DIR/local/log" 2>&1 &
		LPID=$!
		zd_wait_for 10 zq__up && return 0
		zq_local_stop
	done
	return 1
}

zq_local_stop() {
	{ [[ -n $LPID ]] && kill -KILL "$LPID" && wait "$LPID"; } 2>/dev/null
	LPID=
}
