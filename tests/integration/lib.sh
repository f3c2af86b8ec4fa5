# Helpers for the integration suites. A suite sources this file and calls zt_init:
#
#   . "$(dirname "$0")/lib.sh"
#   zt_init
#   zt_zdb_start b1 seq
#   zt_check_eq "b1 answers" PONG "$(zt_zdb_cmd b1 PING)"
#   zt_done
#
# Backends are the test double (build/zdbd-double) unless ZDB_BIN names a real
# 0-db binary; ZSTOR_BUILD picks the build directory (default "build").
# Checks print "ok - ..." or "FAIL - ..."; zt_done prints "N passed, N failed"
# last, the line scripts/run-tests adds up. Functions return non-zero on failure,
# so do not run suites under "set -e".

# scripts/run-tests skips lib*.sh: helpers, not suites.

declare -gA ZT_ZDB_PID=() ZT_ZDB_PORT=() ZT_ZDB_MODE=() ZT_ZDB_KIND=()

# The suites give their dir: backends to nobody and tell zstor-master so, as
# root: a zstor user on the machine (left by a package install) changes nothing.
export ZSTOR_USER=${ZSTOR_USER:-nobody}

# ---- set-up, checks, summary ----

# Work directory ($ZT_DIR), binaries ($ZT_ZSTOR, $ZT_DOUBLE), counters, and a trap
# that kills every backend started here and removes $ZT_DIR (kept if ZT_KEEP=1).
zt_init() {
	local build=${ZSTOR_BUILD:-build}

	ZT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	case $build in
	/*) ;;
	*) build=$ZT_ROOT/$build ;;
	esac
	ZT_BUILD=$build
	ZT_ZSTOR=$build/zstor
	ZT_DOUBLE=$build/zdbd-double
	ZT_PASSED=0 ZT_FAILED=0 ZT_SKIPPED=0
	ZT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/zt.XXXXXX") || exit 1
	trap zt__cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [[ ! -x $ZT_DOUBLE ]]; then
		# The client mode of the double talks to every backend, real ones too.
		zt__fail "zdbd-double is built" "not found: $ZT_DOUBLE (run make first)"
		zt_done
	fi
}

zt__cleanup() {
	local name

	for name in "${!ZT_ZDB_PID[@]}"; do
		zt__reap "$name"
	done
	if [[ ${ZT_KEEP:-0} == 1 ]]; then
		echo "# work directory kept: $ZT_DIR"
	elif [[ -n ${ZT_DIR:-} ]]; then
		rm -rf "$ZT_DIR"
	fi
}

zt__pass() {
	ZT_PASSED=$((ZT_PASSED + 1))
	echo "ok - $1"
}

# description, detail lines...
zt__fail() {
	local line

	ZT_FAILED=$((ZT_FAILED + 1))
	echo "FAIL - $1"
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/    /'
	done
}

# Runs a check's command in this shell (not a subshell: it may start backends),
# its output kept aside for the failure report.
zt__run() {
	"$@" >"$ZT_DIR/.check-output" 2>&1
}

# zt_check "description" cmd...: passes when cmd exits 0.
zt_check() {
	local desc=$1 rc
	shift
	zt__run "$@"
	rc=$?
	if ((rc == 0)); then
		zt__pass "$desc"
		return 0
	fi
	zt__fail "$desc" "command: $*" "exit status: $rc" \
	    "$(cat "$ZT_DIR/.check-output")"
	return 1
}

# zt_check_fail "description" cmd...: passes when cmd exits non-zero.
zt_check_fail() {
	local desc=$1
	shift
	if ! zt__run "$@"; then
		zt__pass "$desc"
		return 0
	fi
	zt__fail "$desc" "command: $*" "expected a failure, got exit status 0" \
	    "$(cat "$ZT_DIR/.check-output")"
	return 1
}

# zt_check_eq "description" expected actual
zt_check_eq() {
	if [[ $2 == "$3" ]]; then
		zt__pass "$1"
		return 0
	fi
	zt__fail "$1" "expected: $2" "actual:   $3"
	return 1
}

# zt_skip "description": a check that cannot run here (not counted as passed).
zt_skip() {
	ZT_SKIPPED=$((ZT_SKIPPED + 1))
	echo "ok - # skip $1"
}

# Prints the closing line and exits: non-zero when any check failed.
zt_done() {
	((ZT_SKIPPED > 0)) && echo "# $ZT_SKIPPED skipped"
	echo "$ZT_PASSED passed, $ZT_FAILED failed"
	((ZT_FAILED == 0))
	exit
}

# ---- logs: each check reads only what its own step wrote ----
#
# A log accumulates over a whole suite, so a line an earlier step wrote could
# satisfy a later check. Mark the log before the step, then grep what came after:
#
#   zt_log_mark "$D/zstor.log"
#   zt_check "store again" Z store --file "$D/files/one"
#   zt_check "... is skipped" zt_log_has "$D/zstor.log" "Skipping"

declare -gA ZT_LOG_MARK=()

# zt_log_mark FILE: the step starts here (FILE's size now; 0 if it is absent).
zt_log_mark() {
	ZT_LOG_MARK[$1]=$(stat -c %s "$1" 2>/dev/null || echo 0)
}

# zt_log_since FILE: what FILE got since its mark (all of it if it shrank, as a
# rotated or truncated log does).
zt_log_since() {
	local mark=${ZT_LOG_MARK[$1]:-0} size

	size=$(stat -c %s "$1" 2>/dev/null || echo 0)
	((size >= mark)) || mark=0
	tail -c +$((mark + 1)) "$1" 2>/dev/null
}

# zt_log_has FILE [grep options] PATTERN: grep -q in what FILE got since its
# mark (a basic regular expression, as grep takes it).
zt_log_has() {
	local file=$1
	shift
	zt_log_since "$file" | grep -q "$@"
}

# ---- processes ----

# PID and every process below it.
zt__tree() {
	local p

	echo "$1"
	for p in $(pgrep -P "$1"); do zt__tree "$p"; done
}

# zt_wait_open SECS PID PATH: waits until process PID or one below it (PID may be
# the subshell running a shell function, under `timeout`) holds PATH open; fails
# when PID exits first or SECS pass.
zt_wait_open() {
	local secs=$1 pid=$2 path i p fd

	path=$(realpath "$3") || return 1
	for ((i = 0; i < secs * 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		for p in $(zt__tree "$pid"); do
			for fd in /proc/"$p"/fd/*; do
				[[ $(readlink "$fd" 2>/dev/null) == "$path" ]] && return 0
			done
		done
		sleep 0.02
	done
	return 1
}

# zt_check_delete_replaced LOG DIR CMD...: runs `CMD store --file DIR/x
# --delete` and, once CMD holds DIR/x open, renames another file over it (same
# directory, so the same device but another inode). --delete must keep the new
# file and log why. The caller makes the store slow enough that the rename comes
# first (a slow metadata backend); CMD logs to LOG.
zt_check_delete_replaced() {
	local log=$1 dir=$2 pid rc
	shift 2

	mkdir -p "$dir"
	head -c 5000 /dev/urandom >"$dir/x"
	echo "the file put in its place" >"$dir/new"
	zt_log_mark "$log"
	"$@" store --file "$dir/x" --delete >"$dir/out" 2>&1 &
	pid=$!
	zt_check "store --delete: the client opened the file" zt_wait_open 30 "$pid" "$dir/x"
	mv "$dir/new" "$dir/x"
	wait "$pid"
	rc=$?
	zt_check_eq "... a file renamed over it meanwhile: the store exits 0" 0 "$rc" ||
	    cat "$dir/out"
	zt_check_eq "... and the new file is not deleted" "the file put in its place" \
	    "$(cat "$dir/x" 2>/dev/null)"
	zt_check "... the log says why" zt_log_has "$log" "not deleting $dir/x: it changed"
}

# ---- 0-db backends ----
#
# Each backend NAME is one server on a free loopback port, with a namespace also
# called NAME. It is a real 0-db when ZDB_BIN is set (ZT_FORCE_DOUBLE=1 before a
# zt_zdb_start overrides that for one backend), else the double. Both keep their
# data in $ZT_DIR/NAME across zt_zdb_stop (SIGKILL) and zt_zdb_restart: every
# write they answered is there after the restart.

# LISTEN socket inodes on a TCP port, from the kernel's tables.
zt__listen_inodes() {
	local hex

	printf -v hex ':%04X' "$1"
	awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# True when process PID itself listens on PORT: a server that lost the race for
# a port must not be mistaken for one that answers there.
zt__owns_port() {
	local pid=$1 ino fd

	for ino in $(zt__listen_inodes "$2"); do
		for fd in /proc/"$pid"/fd/*; do
			[[ $(readlink "$fd" 2>/dev/null) == "socket:[$ino]" ]] && return 0
		done
	done
	return 1
}

# Ports come from below the kernel's ephemeral range: a backend killed and
# restarted on its port must not find it taken by some client's outgoing
# connection in the meantime.
zt__free_port() {
	local port lo hi

	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	((${lo:-0} > 12000)) || lo=32768
	while :; do
		port=$((10000 + RANDOM % (lo - 10000)))
		[[ -z $(zt__listen_inodes "$port") ]] && break
	done
	echo "$port"
}

zt__launch() {
	local name=$1 dir=$ZT_DIR/$1
	local -a args=(--listen 127.0.0.1 --port "${ZT_ZDB_PORT[$1]}"
	    --data "$dir/data" --index "$dir/index" --datasize 1M)

	[[ ${ZT_ZDB_MODE[$name]} == mixed ]] || args+=(--mode "${ZT_ZDB_MODE[$name]}")
	mkdir -p "$dir"
	if [[ ${ZT_ZDB_KIND[$name]} == real ]]; then
		"$ZDB_BIN" "${args[@]}" >>"$dir/log" 2>&1 &
	else
		# The double writes its pid file once it listens.
		rm -f "$dir/pid"
		"$ZT_DOUBLE" "${args[@]}" --pidfile "$dir/pid" >>"$dir/log" 2>&1 &
	fi
	ZT_ZDB_PID[$name]=$!
}

# True when the server NAME started as PID listens on its port itself: a
# server that lost the race for a port must not be mistaken for one that
# answers there. The double says so in its pid file; for a real 0-db, the
# kernel's socket tables are read (slow when they are large).
zt__listening() {
	local name=$1 pid=$2 owner

	if [[ ${ZT_ZDB_KIND[$name]} == double ]]; then
		read -r owner 2>/dev/null <"$ZT_DIR/$name/pid"
		[[ ${owner:-} == "$pid" ]]
	else
		zt__owns_port "$pid" "${ZT_ZDB_PORT[$name]}"
	fi
}

# Up to 10 s for the server to own its port and answer PING (polled often:
# the fault suite restarts backends hundreds of times).
zt__wait_ready() {
	local name=$1 pid=${ZT_ZDB_PID[$1]} i

	for ((i = 0; i < 1000; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if zt_zdb_cmd "$name" PING >/dev/null 2>&1 &&
		    zt__listening "$name" "$pid"; then
			return 0
		fi
		sleep 0.01
	done
	return 1
}

# Bytes a client sent to PORT that the server has not read yet (a stopped
# server's requests wait there).
zt__rx_pending() {
	local hex

	printf -v hex ':%04X' "$1"
	awk -v p="$hex" '$4 == "01" && substr($2, length($2) - 4) == p &&
	    substr($5, 10) !~ /^0+$/ { found = 1 } END { exit !found }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# zt_wait_for SECS CMD...: polls CMD every 0.05 s until it succeeds.
zt_wait_for() {
	local n=$(($1 * 20))
	shift

	while ((n-- > 0)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# SIGKILL and wait, so the port and the pid are free when this returns.
zt__reap() {
	local pid=${ZT_ZDB_PID[$1]:-}

	[[ -n $pid ]] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ZT_ZDB_PID[$1]=
}

# NSNEW NAME; a real 0-db that restarted already has it.
zt__ensure_ns() {
	local out

	out=$(zt_zdb_cmd "$1" NSNEW "$1" 2>&1)
	case $out in
	OK | "(error) This namespace is not available") return 0 ;;
	esac
	echo "zt: NSNEW $1 on backend $1 failed: $out" >&2
	return 1
}

zt__start_failed() {
	echo "zt: backend $1 did not come up on port ${ZT_ZDB_PORT[$1]}; its log:" >&2
	tail -n 20 "$ZT_DIR/$1/log" >&2
	zt__reap "$1"
	return 1
}

# zt_zdb_start NAME [seq|user|mixed]: start a backend and create namespace NAME.
zt_zdb_start() {
	local name=$1 try

	ZT_ZDB_MODE[$name]=${2:-mixed}
	ZT_ZDB_KIND[$name]=double
	[[ -n ${ZDB_BIN:-} && ${ZT_FORCE_DOUBLE:-0} != 1 ]] && ZT_ZDB_KIND[$name]=real
	# Another test may grab the same free port at the same moment: retry.
	for try in 1 2 3 4 5; do
		ZT_ZDB_PORT[$name]=$(zt__free_port)
		zt__launch "$name"
		if zt__wait_ready "$name"; then
			zt__ensure_ns "$name"
			return
		fi
		zt__reap "$name"
	done
	zt__start_failed "$name"
}

# zt_zdb_restart NAME: kill (if running) and start again, same port and dirs.
zt_zdb_restart() {
	zt__reap "$1"
	zt__launch "$1"
	zt__wait_ready "$1" || { zt__start_failed "$1"; return 1; }
	zt__ensure_ns "$1"
}

zt_zdb_addr() { echo "127.0.0.1:${ZT_ZDB_PORT[$1]}"; }
zt_zdb_port() { echo "${ZT_ZDB_PORT[$1]}"; }
zt_zdb_pid() { echo "${ZT_ZDB_PID[$1]}"; }
zt_zdb_is_real() { [[ ${ZT_ZDB_KIND[$1]} == real ]]; }

# zt_zdb_cmd NAME [client options] CMD [ARG...]: one command on a new connection
# (namespace "default"); see zdbd-double --client for the options and output.
zt_zdb_cmd() {
	local name=$1
	shift
	"$ZT_DOUBLE" --client "$(zt_zdb_addr "$name")" "$@"
}

# zt_zdb_cmd_timeout SECS NAME ...: zt_zdb_cmd that gives up after SECS (exit
# 124), for backends that hang.
zt_zdb_cmd_timeout() {
	local secs=$1 name=$2
	shift 2
	timeout "$secs" "$ZT_DOUBLE" --client "$(zt_zdb_addr "$name")" "$@"
}

# zt_zdb_nscmd NAME [--password PW] CMD [ARG...]: the same, in namespace NAME.
zt_zdb_nscmd() {
	local name=$1
	shift
	"$ZT_DOUBLE" --client "$(zt_zdb_addr "$name")" --select "$name" "$@"
}

zt_zdb_stop() { zt__reap "$1"; }	# SIGKILL: a dead backend
zt_zdb_hang() { kill -STOP "${ZT_ZDB_PID[$1]}"; }	# frozen: accepts, never answers
zt_zdb_unhang() { kill -CONT "${ZT_ZDB_PID[$1]}"; }

# Namespace NAME refuses new data ("No space left on this namespace").
zt_zdb_full() { zt_zdb_cmd "$1" NSSET "$1" maxsize 1 >/dev/null; }
zt_zdb_unfull() { zt_zdb_cmd "$1" NSSET "$1" maxsize 0 >/dev/null; }
# Namespace NAME refuses writes ("Namespace is temporarily locked (read-only)").
zt_zdb_readonly() { zt_zdb_cmd "$1" NSSET "$1" lock 1 >/dev/null; }
zt_zdb_readwrite() { zt_zdb_cmd "$1" NSSET "$1" lock 0 >/dev/null; }

# zt_zdb_fault NAME MODE [ARG]: server-wide fault (none, hang, slow MS, full,
# readonly, corrupt, down, lostreply, chop) on the double. Returns 2 on a real 0-db: skip then.
zt_zdb_fault() {
	local name=$1 pid=${ZT_ZDB_PID[$1]}

	[[ ${ZT_ZDB_KIND[$name]} == double ]] || return 2
	shift
	zt_zdb_cmd "$name" XFAULT "$@" >/dev/null || return 1
	if [[ $1 == down ]]; then
		wait "$pid" 2>/dev/null	# it exits by itself
		ZT_ZDB_PID[$name]=
	fi
}
