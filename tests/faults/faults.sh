#!/bin/bash
# Fault injection. Each round runs one operation (store, store of an unchanged
# file, store --delete, retrieve, rebuild, a repair sweep; standalone or
# through zstor-master)
# on one of a few objects, and meanwhile, at seeded random moments, kills,
# SIGSTOPs, locks (NSSET lock), fills (NSSET maxsize) or restarts data and
# metadata backends, kill -9s the master or a worker, or fills $TMPDIR or the
# target filesystem. Then it heals everything and checks the invariant:
#
#   every object whose store was acknowledged (exit 0) retrieves bit-exact, as
#   the version acknowledged last or a later one whose store ended in doubt
#   (FAULT_DOUBT_RE); a failed retrieve leaves its target as it was, and no
#   temporary file is left beside a target; a failed store --delete keeps the
#   file.
#
# FAULT_ROUNDS (default 500, 60 in a sanitizer build), FAULT_SEED (default
# fixed), FAULT_START (first round) and FAULT_OBJECTS (3) shape a run;
# FAULT_MODES, FAULT_OPS and FAULT_KINDS restrict what is drawn. Round R's
# draws depend only on the seed and R, so a failing round prints the command
# that replays the run up to it. The last lines are the totals: rounds,
# faults injected, objects checked, lost (must be 0).
set -u
here=$(dirname "$0")
. "$here/../integration/lib.sh"
. "$here/../integration/lib-config.sh"
. "$here/../integration/lib-daemon.sh"
. "$here/lib-faults.sh"
zt_init
zd_init

if grep -qa __asan_init "$ZT_ZSTOR" 2>/dev/null; then
	ROUNDS=${FAULT_ROUNDS:-60}
else
	ROUNDS=${FAULT_ROUNDS:-500}
fi
SEED=${FAULT_SEED:-7121}
START=${FAULT_START:-1}
MODES=${FAULT_MODES:-solo daemon}
# Faults on metadata backends while a store or a rebuild writes metadata
# (0: only while a retrieve reads it). Before metadata updates were
# all-or-nothing, such a store failed after its new record reached 1 to 3
# backends, deleted its shards, and readers found that record.
META_WRITES=${FAULT_META_WRITES:-1}
# A standalone store whose faults left 6 data backends working (two spares)
# and spared everything else must succeed (0: such failures are only
# counted).
SPARES=${FAULT_SPARES:-1}
declare -i SPARE_FAILS=0
# Weighted: a name twice is drawn twice as often.
ops="store store store resave delete retrieve retrieve rebuild $(fz_duties)"
OPS=${FAULT_OPS:-$ops}
kinds="kill kill restart stop stop lock lock full full"
kinds+=" master encoder metawriter repairer tmpfull tgtfull"
KINDS=${FAULT_KINDS:-$kinds}

zt_check "the cluster and the daemon start" fz_init || zt_done
((FZ_FILL)) ||
    zt_skip "filling \$TMPDIR and the target filesystem (needs root and tmpfs)"

# ---- drawing a round ----

pick() {	# VAR WORDS...: VAR becomes one of the words
	local -n var=$1
	shift
	local -a w=("$@")

	var=${w[RANDOM % ${#w[@]}]}
}

# The kinds of fault a round of OP in MODE can have, and the backends.
kinds_for() {	# MODE OP: sets the arrays kinds and targets
	local k

	kinds=()
	for k in $KINDS; do
		case $k in
		master | encoder | metawriter | repairer)
			[[ $1 == daemon ]] || continue ;;
		tmpfull | tgtfull) ((FZ_FILL)) || continue ;;
		esac
		kinds+=("$k")
	done
	targets=("${FZ_DATA[@]}" "${FZ_DATA[@]}")
	if [[ $2 == retrieve ]] || ((META_WRITES)); then
		targets+=("${FZ_META[@]}")
	fi
}

# One more fault for the round, "KIND [TARGET]", appended to the array
# faults; never two on one target (a few tries, then none).
draw_fault() {
	local kind t try

	((${#kinds[@]} > 0)) || return 0
	for try in 1 2 3 4 5 6 7 8; do
		pick kind "${kinds[@]}"
		case $kind in
		master | encoder | metawriter | repairer | tmpfull | tgtfull)
			t="" ;;
		*) pick t "${targets[@]}" ;;
		esac
		if [[ " ${faults[*]:-} " != *" ${t:-$kind} "* ]]; then
			faults+=("$kind${t:+ $t}")
			return 0
		fi
	done
}

# ---- one round ----

# Runs the operation in the background; the faults come and go meanwhile.
run_op() {	# MODE OP I
	local mode=$1 op=$2 i=$3 t src=$ZT_DIR/src/obj$3

	t=$(fz_target "$i")
	case $op in
	store | resave) fz_zstor "$mode" store -f "$src" -k "$FZ_TGT" ;;
	delete) fz_zstor "$mode" store -d -f "$src" -k "$FZ_TGT" ;;
	retrieve) fz_zstor "$mode" retrieve -f "$t" ;;
	rebuild) fz_zstor "$mode" rebuild -f "$t" ;;
	repair | redisperse) fz_duty "$op" ;;
	esac
}

# The outcome of a store of version V (OUTCOME): acknowledged, in doubt, or
# failed (the version must then not be seen).
store_outcome() {	# I RC ERRFILE CHECKSUM V
	local i=$1 rc=$2 err=$3 sum=$4 v=$5

	if ((rc == 0)); then
		# Only the acknowledged version's content is needed again.
		[[ ${FZ_ACKV[$i]:-$v} != "$v" ]] &&
		    rm -f "$ZT_DIR/ver/obj$i.${FZ_ACKV[$i]}"
		FZ_ACK[$i]=$sum FZ_ACKV[$i]=$v FZ_OK[$i]=$sum
		OUTCOME=acked
	elif grep -Eq "$FZ_DOUBT_RE" "$err"; then
		FZ_OK[$i]="${FZ_OK[$i]:-} $sum"
		OUTCOME="in doubt"
	else
		OUTCOME=failed
	fi
	[[ $OUTCOME == acked || $v == "${FZ_ACKV[$i]:-}" ]] ||
	    rm -f "$ZT_DIR/ver/obj$i.$v"
}

# True when a round's faults (the array faults) hit at most the two spare
# data backends' worth and nothing else, or none was injected.
spares_enough() {
	local f n=0

	for f in "${faults[@]}"; do
		[[ $f =~ ^(kill|restart|stop|lock|full)\ d[0-9]$ ]] || return 1
		n=$((n + 1))
	done
	((n <= 2))
}

# Op-level promises, checked right after the operation. Prints what broke.
op_promises() {	# OP I RC MARKER-CHECKSUM
	local op=$1 i=$2 rc=$3 marker=$4 t sum

	t=$(fz_target "$i")
	if [[ $op == retrieve ]]; then
		sum=$(fz_b2 "$t" 2>/dev/null)
		if ((rc == 0)) && ! fz_allowed "$i" "$sum"; then
			echo "retrieve exited 0 but $t is not a version" \
			    "that may be read"
		elif ((rc != 0)) && [[ $sum != "$marker" ]]; then
			echo "a failed retrieve changed $t"
		fi
	fi
	if [[ $op == delete ]]; then
		if ((rc == 0)) && [[ -e $ZT_DIR/src/obj$i ]]; then
			echo "store --delete exited 0 and kept the file"
		elif ((rc != 0)) && [[ ! -e $ZT_DIR/src/obj$i ]]; then
			echo "a failed store --delete removed the file"
		fi
	fi
	((rc == 124)) && echo "$op did not finish within 60 s"
	if [[ $op == store || $op == delete ]] && ((rc != 0)) &&
	    [[ $mode == solo ]] && spares_enough; then
		SPARE_FAILS+=1
		((SPARES)) &&
		    echo "the store failed with 6 data backends working"
	fi
	fz_debris | sed 's/^/temporary file left: /'
}

# The invariant over every object. Prints one line per object that is lost
# (run it in this shell: it counts, and starts a lost object afresh).
check_objects() {
	local i t sum
	local -a pids=()

	for ((i = 0; i < FZ_K; i++)); do	# at once: they are independent
		[[ -n ${FZ_ACK[$i]:-} ]] || continue
		fz_reader retrieve -f "$(fz_target "$i")" \
		    >"$ZT_DIR/reader.$i" 2>&1 &
		pids[i]=$!
	done
	for ((i = 0; i < FZ_K; i++)); do
		[[ -n ${pids[i]:-} ]] || continue
		FZ_CHECKED+=1
		t=$(fz_target "$i")
		if ! wait "${pids[i]}"; then
			echo "obj$i lost: retrieve fails:" \
			    "$(tail -n 1 "$ZT_DIR/reader.$i")"
		elif sum=$(fz_b2 "$t") && ! fz_allowed "$i" "$sum"; then
			echo "obj$i lost: reads back as $sum, not the" \
			    "acknowledged ${FZ_ACK[$i]} (allowed: ${FZ_OK[$i]})"
		else
			continue
		fi
		FZ_ACK[$i]="" FZ_OK[$i]=""	# start that object afresh
	done
	fz_debris | sed 's/^/temporary file left by the reader: /'
}

# Until PID exits or MS milliseconds pass: true if it still runs (the moments
# are draws of the round; the faults only matter while the operation runs).
while_runs() {	# PID MS
	local end=$((${EPOCHREALTIME//[!0-9]/} / 1000 + $2))

	while kill -0 "$1" 2>/dev/null &&
	    ((${EPOCHREALTIME//[!0-9]/} / 1000 < end)); do
		sleep 0.01
	done
	kill -0 "$1" 2>/dev/null
}

# The draws of round R (mode, object, operation, faults, moments), made
# first: nothing else in the round may use RANDOM before.
draw_round() {	# R
	local f nf

	RANDOM=$((SEED * 7919 + $1))
	pick mode $MODES
	i=$((RANDOM % FZ_K))
	pick op $OPS
	[[ -z ${FZ_ACK[$i]:-} && $op != store && $op != delete ]] && op=store
	pick nf 0 1 1 1 1 1 2 2
	kinds_for "$mode" "$op"
	for ((f = 0; f < nf; f++)); do
		draw_fault
	done
	# Small operations take some 20-40 ms: most faults come within that,
	# some before the operation starts (at -1).
	at=$((RANDOM % 50 - 10)) hold=$((20 + RANDOM % 400))
	((at < 0)) && at=-1
	case $op in
	store | delete)
		fz_new_version "$i"
		sum=$FZ_SUM v=${FZ_VER[$i]} ;;
	resave)
		sum=${FZ_ACK[$i]} v=${FZ_ACKV[$i]}
		cp "$ZT_DIR/ver/obj$i.$v" "$ZT_DIR/src/obj$i" ;;
	retrieve)	# what a failed retrieve must leave as it is
		head -c $((RANDOM % 5000)) /dev/urandom >"$(fz_target "$i")"
		marker=$(fz_b2 "$(fz_target "$i")") ;;
	esac
}

# The operation, with the faults coming and going while it runs; rc is its
# exit status. Faults drawn for after it ended are not injected.
play_round() {
	local f pid

	if ((at < 0)); then
		for f in "${faults[@]}"; do fz_inject $f; done
	fi
	run_op "$mode" "$op" "$i" >"$ZT_DIR/op.out" 2>"$ZT_DIR/op.err" &
	pid=$!
	if ((at < 0)); then
		while_runs "$pid" "$hold"
	elif ((${#faults[@]} > 0)) && while_runs "$pid" "$at"; then
		for f in "${faults[@]}"; do fz_inject $f; done
		while_runs "$pid" "$hold"
	else
		what="$what (finished before the faults)"
		faults=()
	fi
	for f in "${faults[@]}"; do fz_heal $f; done
	wait "$pid" 2>/dev/null
	rc=$?
}

# Everything healed: the outcome, the operation's promises, the invariant.
judge_round() {	# R
	local problems

	case $op in
	store | resave | delete)
		store_outcome "$i" "$rc" "$ZT_DIR/op.err" "$sum" "$v"
		what="$what -> $OUTCOME" ;;
	*) what="$what -> exit $rc" ;;
	esac
	# In this shell (not a subshell): they count.
	op_promises "$op" "$i" "$rc" "$marker" >"$ZT_DIR/problems"
	check_objects >>"$ZT_DIR/problems"
	if fz_have_gc; then
		fz_gc
		check_objects >>"$ZT_DIR/problems"
		fz_orphans | sed 's/^/orphan left by gc: /' >>"$ZT_DIR/problems"
	fi
	problems=$(cat "$ZT_DIR/problems")
	if [[ -z $problems ]]; then
		zt__pass "$what"
		return 0
	fi
	FZ_LOST+=$(grep -c ' lost: ' <<<"$problems")
	FZ_BAD+=$(grep -vc ' lost: ' <<<"$problems")
	zt__fail "$what" "$problems" \
	    "its stderr: $(tail -n 2 "$ZT_DIR/op.err")" \
	    "repro: $REPRO FAULT_ROUNDS=$1 bash tests/faults/faults.sh"
}

round() {	# R
	local mode op i at hold sum="" v="" marker="" rc what
	local -a faults=() kinds=() targets=()

	draw_round "$1"
	what="round $1: $mode $op obj$i, faults at ${at/#-1/start} ms"
	what+=" for $hold ms: ${faults[*]:-none}"
	play_round
	if ! fz_all_well; then
		zt__fail "$what" "the cluster could not be brought back"
		return 1
	fi
	judge_round "$1"
}

# What replays this run: the seed and every setting that differs.
REPRO="FAULT_SEED=$SEED ZSTOR_BUILD=${ZSTOR_BUILD:-build}"
for v in ZDB_BIN FAULT_OBJECTS FAULT_MODES FAULT_OPS FAULT_KINDS \
    FAULT_META_WRITES FAULT_SPARES FAULT_DOUBT_RE FAULT_OP_TIMEOUT_MS; do
	[[ -n ${!v:-} ]] && REPRO="$REPRO $v='${!v}'"
done

echo "# seed $SEED, rounds $START..$ROUNDS, $FZ_K objects"
start=$SECONDS
for ((r = START; r <= ROUNDS; r++)); do
	round "$r"
done
echo "# $((ROUNDS - START + 1)) rounds in $((SECONDS - start)) s"
echo "# standalone stores that failed with 6 data backends working:" \
    "$SPARE_FAILS"
echo "# totals: rounds $((ROUNDS - START + 1)), faults injected $FZ_FAULTS," \
    "objects checked $FZ_CHECKED, lost $FZ_LOST, other violations $FZ_BAD"
zt_check "the daemon has all its workers again" fz_workers_back
zt_check_eq "lost 0" 0 "$FZ_LOST"
zt_done
