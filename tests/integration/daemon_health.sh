# The daemon's health checks (zstor-master --check-interval 0.3
# --unreachable-after 2): the status request answers the health table; a
# hung backend (SIGSTOP) is found out by its deadline while every other
# backend goes on being checked, and a store does not wait on it; a full
# namespace is lowspace; a data backend in the wrong mode says so; stores
# are refused within a few seconds of a metadata backend going down and
# accepted again once it is back.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-config.sh"
. "$(dirname "$0")/lib-daemon.sh"
zt_init
zd_init
D=$ZT_DIR
mkdir -p "$D/files"
for i in 0 1 2 3 4 5; do zt_zdb_start "d$i" seq; done
zt_zdb_start dx user
for i in 0 1 2 3; do zt_zdb_start "m$i" user; done
zd_config "$D/cfg.toml" 2 4 "$(zd_be m0 m1 m2 m3)" \
    "$(zd_be d0 d1 d2 d3 d4 d5 dx)"
Z() { zd_client "$D/cfg.toml" "$D/client.log" "$@"; }
ZD_MASTER_ARGS="--check-interval 0.3 --unreachable-after 2" \
    zd_start "$D/cfg.toml" "$D/daemon.log"
zt_check "the daemon serves" kill -0 "$ZD_PID"
L=$D/daemon.log
for f in a b c; do head -c 300000 /dev/urandom >"$D/files/$f"; done

state_is() { [[ $(zd_health_of "$1" state) == "$2" ]]; }
all_healthy() {
	local n
	for n in d0 d1 d2 d3 d4 d5 m0 m1 m2 m3; do
		state_is "$n" healthy || return 1
	done
}
zt_check "every backend is healthy in the table" zt_wait_for 20 all_healthy
zt_check_eq "the table lists every data and metadata backend" 11 \
	"$(zd_health | wc -l)"
zt_check "a data backend in user-key mode is unknown, class mode" \
	zt_wait_for 10 state_is dx unknown
zt_check_eq "... its last error says mode" mode "$(zd_health_of dx error)"
zt_check "... and becomes unreachable after --unreachable-after" \
	zt_wait_for 20 state_is dx unreachable

# ---- a hung backend delays no other check ----
zt_zdb_hang d1
zt_check "a hung data backend is unknown, class timeout" \
	zt_wait_for 20 state_is d1 unknown
zt_check_eq "... its last error says timeout" timeout \
	"$(zd_health_of d1 error)"
zt_zdb_stop d2
zt_check "a data backend killed meanwhile is found out within 5 s" \
	zt_wait_for 5 state_is d2 unknown
zt_check_eq "... its last error says refused" refused \
	"$(zd_health_of d2 error)"
c0=$(zd_health_of d0 checked)
zt_check "... and healthy backends are still checked" zt_wait_for 8 \
	eval '(( $(zd_health_of d0 checked) > c0 + 1 ))'
t0=$SECONDS
zt_check "a store goes around the hung and the dead backend" \
	Z store -f "$D/files/a"
zt_check "... without waiting on the hung one's timeout" \
	test $((SECONDS - t0)) -lt 15
zt_check "... and retrieves" Z retrieve -f "$D/files/a"
zt_zdb_unhang d1
zt_check "the hung backend is healthy again once it runs" \
	zt_wait_for 20 state_is d1 healthy

# ---- full ----
zt_zdb_full d3
zt_check "a full namespace is lowspace" zt_wait_for 10 state_is d3 lowspace
zt_check_eq "... its last error says full" full "$(zd_health_of d3 error)"
zt_zdb_unfull d3

# ---- a metadata backend down refuses stores, back accepts them ----
zt_zdb_hang m2
zt_check "a hung metadata backend is seen down within 5 s" \
	zt_wait_for 5 state_is m2 unknown
t0=$SECONDS
: >"$D/client.log"
zt_check_fail "a store is refused while it is hung" Z store -f "$D/files/b"
zt_check "... at once, not after the backend timeout" \
	test $((SECONDS - t0)) -lt 5
zt_check "... saying which backend" grep -q "metadata is not writable.*m2" \
	"$D/client.log"
zt_check "a retrieve still works" Z retrieve -f "$D/files/a"
zt_zdb_unhang m2
zt_check "the metadata backend is healthy again" \
	zt_wait_for 10 state_is m2 healthy
zt_check "stores are accepted again" Z store -f "$D/files/b"
zt_check "... and the object retrieves" Z retrieve -f "$D/files/b"
zt_zdb_stop m2
zt_check "a killed metadata backend is seen down within 5 s" \
	zt_wait_for 5 state_is m2 unknown
: >"$D/client.log"
zt_check_fail "a store is refused while it is dead" Z store -f "$D/files/c"
zt_check "... saying which backend" grep -q "not writable.*m2" "$D/client.log"
zt_zdb_restart m2
zt_check "a store is accepted as soon as it is back" Z store -f "$D/files/c"
zt_check "the daemon still serves" kill -0 "$ZD_PID"
zt_done
