# Helpers for the daemon suites (daemon.sh, daemon_protocol.sh,
# daemon_stress.sh), on top of lib.sh and lib-config.sh. A suite calls zt_init,
# then zd_init, starts backends, writes a config with zd_config and starts the
# daemon with zd_start. The exit trap kills every daemon started here.

# scripts/run-tests skips lib*.sh: helpers, not suites.

ZD_PID=			# the running master, started by zd_start
ZD_SOCK=		# its control socket and pid file, set by zd_init
ZD_PIDFILE=

# The work directory is short-lived and its path short: a unix socket path
# holds at most 107 bytes.
zd_init() {
	ZT_MASTER=$ZT_BUILD/zstor-master
	ZT_SEND=$ZT_BUILD/tools/send-frame
	ZD_SOCK=$ZT_DIR/zstor.sock
	ZD_PIDFILE=$ZT_DIR/zstor.pid
	trap 'zd__cleanup; zt__cleanup' EXIT
	if [[ ! -x $ZT_MASTER || ! -x $ZT_SEND ]]; then
		zt__fail "zstor-master and tools/send-frame are built" \
		    "not found: $ZT_MASTER or $ZT_SEND (run make first)"
		zt_done
	fi
}

# Every process whose parent is PID (the master's workers).
zd_children() {
	pgrep -P "$1" 2>/dev/null
}

# Worker pids whose command line names ROLE (setproctitle, or --worker ROLE).
zd_workers() {
	local role=$1 pid

	for pid in $(zd_children "$ZD_PID"); do
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qw "$role" &&
		    echo "$pid"
	done
}

zd__cleanup() {
	local pid name

	for name in "${ZD_USERS[@]}"; do
		pkill -KILL -u "$name" 2>/dev/null
		userdel "$name" 2>/dev/null
	done
	[[ -n $ZD_PID ]] || return 0
	for pid in $(zd_children "$ZD_PID"); do kill -KILL "$pid" 2>/dev/null; done
	kill -KILL "$ZD_PID" 2>/dev/null
	wait "$ZD_PID" 2>/dev/null
}

# Users the suite created (zd_user), removed by the exit trap.
ZD_USERS=()

# zd_user TAG: creates an unprivileged user, with a group of its own, for an
# attack replayed as someone else; sets ZD_USER to its name. Needs root (the
# caller checks) and useradd.
zd_user() {
	ZD_USER=zt$1$$
	ZD_USER=${ZD_USER:0:31}
	useradd --system --no-create-home --user-group --shell /usr/sbin/nologin \
	    "$ZD_USER" || return 1
	ZD_USERS+=("$ZD_USER")
}

# zd_attacker TAG WHAT: the suite's attacker, a user of its own in $ATK, who
# can traverse $ZT_DIR; without root, useradd or setpriv the suite is skipped
# ("WHAT as another user").
zd_attacker() {
	if ((EUID != 0)) || ! command -v useradd >/dev/null ||
	    ! command -v setpriv >/dev/null; then
		zt_skip "$2 as another user (need root, useradd and setpriv)"
		zt_done
	fi
	if ! zd_user "$1"; then
		zt__fail "create the attacker's user" "useradd failed"
		zt_done
	fi
	ATK=$ZD_USER
	chmod 711 "$ZT_DIR"
	zd__programs_for "$ATK"
}

# zd__programs_for USER: ZT_ZSTOR, ZT_SEND and ZD_TOOLS (the build's tools)
# as USER can run them. A build in a directory only its owner may enter (a
# clone under mktemp -d, say) is copied into $ZT_DIR for USER.
zd__programs_for() {
	ZD_TOOLS=$ZT_BUILD/tools
	zd_as "$1" test -x "$ZT_ZSTOR" && zd_as "$1" test -x "$ZT_SEND" &&
	    return 0
	mkdir -p "$ZT_DIR/bin"
	# zstor-master beside zstor: `zstor monitor` runs the one next to it
	cp "$ZT_ZSTOR" "$ZT_MASTER" "$ZT_DIR/bin/" && cp -r "$ZD_TOOLS" "$ZT_DIR/bin/" &&
	    chmod -R go+rX "$ZT_DIR/bin" || return 1
	ZT_ZSTOR=$ZT_DIR/bin/$(basename "$ZT_ZSTOR")
	ZD_TOOLS=$ZT_DIR/bin/tools
	ZT_SEND=$ZD_TOOLS/send-frame
}

# zd_as USER CMD...: runs CMD as USER with USER's groups only.
zd_as() {
	local user=$1
	shift
	setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

# zd_config FILE M N META GROUP...: a config with the daemon's socket and pid
# file, and the top-level lines in $ZD_EXTRA (lib-config.sh's zt_write_config
# with ZT_CONFIG_EXTRA).
zd_config() {
	local file=$1
	shift
	ZT_CONFIG_EXTRA="socket = \"$ZD_SOCK\"
pid_file = \"$ZD_PIDFILE\"${ZD_EXTRA:+
$ZD_EXTRA}" zt_write_config "$file" "$1" "$2" 0 0 "${@:3}"
}

# " ADDR#NS ..." for the named backends.
zd_be() {
	local n s=""

	for n in "$@"; do s="$s $(zt_zdb_addr "$n")#$n"; done
	echo "$s"
}

# zd_client CFG LOG ARGS...: zstor with that config, never hanging a suite.
zd_client() {
	local cfg=$1 log=$2
	shift 2
	timeout 120 "$ZT_ZSTOR" -c "$cfg" --log_file "$log" "$@"
}

# Up to 20 s for the socket to answer a request (a check of a path never stored
# prints nothing and exits 0 once the daemon serves).
zd_wait_ready() {
	local cfg=$1 i

	for ((i = 0; i < 200; i++)); do
		kill -0 "$ZD_PID" 2>/dev/null || return 1
		if [[ -S $ZD_SOCK ]] && timeout 10 "$ZT_ZSTOR" -c "$cfg" \
		    --log_file "$ZT_DIR/probe.log" check -f /zd-ready-probe \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# zd_start CFG LOG: `zstor monitor` in the background (it execs zstor-master,
# so $! is the master), then waits until it serves. ZD_DEBUG=1: debug logging.
# With ZD_MASTER_ARGS set, zstor-master itself with those options, after the
# command in ZD_WRAP if set (setpriv ...: the same pid, other rights).
zd_start() {
	local cfg=$1 log=$2

	if [[ -n ${ZD_MASTER_ARGS:-} ]]; then
		# shellcheck disable=SC2086
		${ZD_WRAP:-} "$ZT_MASTER" --foreground ${ZD_DEBUG:+-d} \
		    -c "$cfg" --log_file "$log" $ZD_MASTER_ARGS >>"$log.out" \
		    2>&1 &
	else
		"$ZT_ZSTOR" ${ZD_DEBUG:+-d} -c "$cfg" --log_file "$log" monitor \
		    >>"$log.out" 2>&1 &
	fi
	ZD_PID=$!
	if ! zd_wait_ready "$cfg"; then
		echo "zd: the daemon did not come up; its log:" >&2
		tail -n 20 "$log" "$log.out" >&2
		return 1
	fi
}

# zd_stop SIGNAL: signals the master, waits (at most 30 s) and returns its exit
# status (124 when it did not exit, after a SIGKILL).
zd_stop() {
	local sig=$1 pid=$ZD_PID i rc

	[[ -n $pid ]] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie has exited: wait collects its status below.
		[[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
		sleep 0.1
	done
	if ((i == 300)); then
		zd__cleanup
		ZD_PID=
		return 124
	fi
	wait "$pid"
	rc=$?
	ZD_PID=
	return "$rc"
}

# zd_wait_for SECS CMD...: lib.sh's zt_wait_for.
zd_wait_for() { zt_wait_for "$@"; }

# zd_fake_upstream SOCK OUT ARGS...: tests/tools/fake-upstream on SOCK, its
# output in OUT, started in the background (pid in ZD_FAKE_PID) and bound when
# this returns. OUT goes first: a former run's "listening" would end the wait
# before this run's fake has bound its socket.
zd_fake_upstream() {
	local sock=$1 out=$2
	shift 2
	rm -f "$out"
	timeout 60 "$ZT_BUILD/tools/fake-upstream" "$sock" "$@" >"$out" 2>&1 &
	ZD_FAKE_PID=$!
	zd_wait_for 30 grep -qs listening "$out"
}

# The BLAKE2b-128 of a file, as `zstor check` prints it.
zd_b2() {
	b2sum -l 128 "$1" | cut -d' ' -f1
}

# zd_small_cluster: 6 data and 4 metadata backends, config $ZT_DIR/cfg.toml with
# 4+2 shards, the daemon started on it, and Z as its client (log client.log).
zd_small_cluster() {
	local i
	mkdir -p "$ZT_DIR/files"
	for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
	for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
	zd_config "$ZT_DIR/cfg.toml" 4 6 "$(zd_be m0 m1 m2 m3)" "$(zd_be d0 d1 d2 d3 d4 d5)"
	Z() { zd_client "$ZT_DIR/cfg.toml" "$ZT_DIR/client.log" "$@"; }
	zd_start "$ZT_DIR/cfg.toml" "$ZT_DIR/daemon.log"
	zt_check "the daemon serves" kill -0 "$ZD_PID"
}

# The workers' user (lib.sh sets ZSTOR_USER).
zd_worker_user() { echo "$ZSTOR_USER"; }

# zd_dirs_for_workers TOP DIR...: as root, lets the workers' user through TOP and
# gives it each DIR (dir: backends used through the daemon).
zd_dirs_for_workers() {
	local top=$1
	shift
	((EUID == 0)) || return 0
	chmod 711 "$top"
	chown -R "$(zd_worker_user)" "$@"
}

# The daemon's health table (a status request), one backend object per line.
zd_health() {
	"$ZT_SEND" "$ZD_SOCK" '{"type":"status","id":1,"v":1}' |
	    grep -o '{"backend":"[^"]*","type":"[a-z]*","state":"[^}]*}'
}

# zd_health_of NAME FIELD: that field of the backend named NAME (its
# namespace) in the health table.
zd_health_of() {
	zd_health | grep "/$1\"" | grep -o "\"$2\":\"*[^,\"}]*" |
	    sed 's/.*:"*//'
}

# zd_metrics_serve LOG WRITE_CONFIG: waits until the daemon logging to LOG
# (marked before it started or reloaded) serves its metrics on $PORT. When
# another program took that port meanwhile, picks another, has WRITE_CONFIG
# write the config with the new $PORT, and reloads. Fails after 3 ports.
zd_metrics_serve() {
	local log=$1 write=$2 try

	for try in 1 2 3; do
		zd_wait_for 10 zd__metrics_listens "$log"
		zd__metrics_serving "$log" && return 0
		PORT=$(zt__free_port)
		"$write"
		zt_log_mark "$log"
		kill -USR1 "$ZD_PID"
	done
	return 1
}

zd__metrics_serving() {
	zt_log_has "$1" "metrics: serving GET /metrics on port $PORT"
}

zd__metrics_listens() {
	zd__metrics_serving "$1" ||
	    zt_log_has "$1" "metrics: cannot listen on .*:$PORT:"
}
