#!/bin/bash
# Throughput benchmark (issue 4, "Speed"): one TCP stream (iperf3) from a host behind gateway 1
# to a host behind gateway 2, through
#   plain    the gateways routing without IPsec,
#   swan     strongSwan 5.9 (kernel-libipsec, userspace ESP) on both gateways,
#   rampart  Rampart on both gateways,
#   mixed    Rampart on gateway 1, strongSwan on gateway 2,
#   base     (only when BASE_BIN is set) another Rampart binary on both gateways, e.g. an older
#            build, to compare before/after in the same run,
# in alternating rounds in the same namespaces, then prints Gbit/s per setup (median of the
# rounds) and the ratios Rampart/strongSwan and Rampart/plain.
#
# Run as root:   sudo ./scripts/bench.sh
# Environment:   SECS=10 (seconds per iperf3 run)   ROUNDS=3   SETUPS="plain swan rampart mixed"
#                ESP=aes256gcm16  IKE=aes256gcm16-prfsha256-x25519
#                RAMPART_BIN=path (skip the release build)   BASE_BIN=path (adds setup "base")
#                KEEP=1 (leave the work dir /tmp/bn-bench for the logs)
#
# Topology (namespaces bnc, bng1, bng2, bns; documentation addresses only; MTU 1500):
#   bnc 203.0.113.10 -- 203.0.113.1 bng1 192.0.2.1 -- 192.0.2.2 bng2 198.51.100.1 -- 198.51.100.10 bns
# Everything it starts is stopped by PID and the namespaces are deleted by name on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-10}
ROUNDS=${ROUNDS:-3}
SETUPS=${SETUPS:-plain swan rampart mixed}
ESP=${ESP:-aes256gcm16}
IKE=${IKE:-aes256gcm16-prfsha256-x25519}
W=/tmp/bn-bench
NSS=(bnc bng1 bng2 bns)
CHARON=/usr/lib/ipsec/charon
PSK=bench-psk-not-secret-0123456789
[ -n "${BASE_BIN:-}" ] && SETUPS="$SETUPS base"

[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root (namespaces, TUN devices)"; exit 1; }
command -v iperf3 >/dev/null || { echo "bench.sh: iperf3 is missing (apt-get install iperf3)"; exit 1; }
command -v jq >/dev/null || { echo "bench.sh: jq is missing (apt-get install jq)"; exit 1; }
if [ ! -x "$CHARON" ]; then
  echo "bench.sh: $CHARON missing: skipping the strongSwan setups"
  SETUPS=$(echo "$SETUPS" | tr ' ' '\n' | grep -v -e swan -e mixed | tr '\n' ' ')
fi

if [ -z "${RAMPART_BIN:-}" ]; then
  echo "== building rampart (release, LTO)"
  cargo build --release -p rampart --quiet
  RAMPART_BIN=${CARGO_TARGET_DIR:-target}/release/rampart
fi
RAMPART_BIN=$(realpath "$RAMPART_BIN")
[ -n "${BASE_BIN:-}" ] && BASE_BIN=$(realpath "$BASE_BIN")

PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
rm -rf "$W"; mkdir -p "$W"

ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

echo "== topology"
for n in "${NSS[@]}"; do ip netns add "$n"; ns "$n" ip link set lo up; done
ip -n bnc link add eth0 type veth peer name lan netns bng1
ip -n bng1 link add wan type veth peer name wan netns bng2
ip -n bng2 link add lan type veth peer name eth0 netns bns
ip -n bnc addr add 203.0.113.10/24 dev eth0
ip -n bng1 addr add 203.0.113.1/24 dev lan
ip -n bng1 addr add 192.0.2.1/24 dev wan
ip -n bng2 addr add 192.0.2.2/24 dev wan
ip -n bng2 addr add 198.51.100.1/24 dev lan
ip -n bns addr add 198.51.100.10/24 dev eth0
for l in "bnc eth0" "bng1 lan" "bng1 wan" "bng2 wan" "bng2 lan" "bns eth0"; do
  set -- $l; ip -n "$1" link set "$2" up
done
ip -n bnc route add default via 203.0.113.1
ip -n bns route add default via 198.51.100.1
for g in bng1 bng2; do ns "$g" sysctl -qw net.ipv4.ip_forward=1; done

plain_routes() { # add | del
  ip -n bng1 route "$1" 198.51.100.0/24 via 192.0.2.2
  ip -n bng2 route "$1" 203.0.113.0/24 via 192.0.2.1
}

ns bns iperf3 -s -D -I "$W/iperf3.pid" >/dev/null
sleep 0.3
PIDS+=("$(cat "$W/iperf3.pid")")

# ---- strongSwan (one charon per namespace, as /work/shared/lab/charon.sh does)
swan_start() { # gw local remote local_ts remote_ts
  local g=$1 D=$W/$1-swan sub
  rm -rf "$D"; mkdir -p "$D/run"
  # swanctl --load-all looks into these (as /work/shared/lab/charon.sh prepares them).
  for sub in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
    mkdir -p "$D/$sub"
  done
  cat > "$D/strongswan.conf" <<EOF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink socket-default vici
  filelog { bench { path = $D/charon.log
                   default = 1 } }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$D/run/charon.vici } }
}
EOF
  cat > "$D/swanctl.conf" <<EOF
connections { net2net { version = 2
  local_addrs = $2
  remote_addrs = $3
  proposals = $IKE
  local { auth = psk
    id = $2 }
  remote { auth = psk
    id = $3 }
  children { net { local_ts = $4
    remote_ts = $5
    esp_proposals = $ESP
    mode = tunnel } } } }
secrets { ike-1 { id-1 = $2
  id-2 = $3
  secret = "$PSK" } }
EOF
  ip netns exec "$g" sh -c "mount --bind $D/run /run && STRONGSWAN_CONF=$D/strongswan.conf exec $CHARON" \
    > "$D/charon.stdout" 2>&1 &
  PIDS+=("$!")
  eval "SWAN_PID_$g=$!"
  for _ in $(seq 50); do [ -S "$D/run/charon.vici" ] && break; sleep 0.1; done
  swanctl --load-all --uri "unix://$D/run/charon.vici" --file "$D/swanctl.conf" >/dev/null 2>&1
}
swan_initiate() {
  swanctl --initiate --child net --uri "unix://$W/$1-swan/run/charon.vici" >/dev/null
}

# ---- Rampart
rampart_start() { # gw bin local remote local_ts remote_ts start_action
  local g=$1 D=$W/$1-rampart
  rm -rf "$D"; mkdir -p "$D"
  cat > "$D/rampart.toml" <<EOF
[daemon]
control_socket = "$D/rampart.sock"
tun_name = "bnt"
log_level = "info"

[connections.net2net]
version = 2
local_addrs = ["$3"]
remote_addrs = ["$4"]
proposals = ["$IKE"]
encap = true

[connections.net2net.local]
auth = "psk"
id = "$3"

[connections.net2net.remote]
auth = "psk"
id = "$4"

[connections.net2net.children.net]
local_ts = ["$5"]
remote_ts = ["$6"]
esp_proposals = ["$ESP"]
mode = "tunnel"
start_action = "$7"

[secrets.ike.net2net]
ids = ["$3", "$4"]
secret = "$PSK"
EOF
  ip netns exec "$g" "$2" daemon -c "$D/rampart.toml" > /dev/null 2> "$D/rampart.log" &
  PIDS+=("$!")
  eval "RAMPART_PID_$g=$!"
  for _ in $(seq 50); do [ -S "$D/rampart.sock" ] && break; sleep 0.1; done
}

stop_pid() {
  local p=$1
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
}

GW1="bng1 192.0.2.1 192.0.2.2 203.0.113.0/24 198.51.100.0/24"
GW2="bng2 192.0.2.2 192.0.2.1 198.51.100.0/24 203.0.113.0/24"
setup_up() {
  local name=$1
  case $1 in
    plain) plain_routes add ;;
    swan) swan_start $GW2; swan_start $GW1; swan_initiate bng1 ;;
    rampart) set -- $GW2; rampart_start "$1" "$RAMPART_BIN" "$2" "$3" "$4" "$5" none
             set -- $GW1; rampart_start "$1" "$RAMPART_BIN" "$2" "$3" "$4" "$5" start ;;
    base) set -- $GW2; rampart_start "$1" "$BASE_BIN" "$2" "$3" "$4" "$5" none
          set -- $GW1; rampart_start "$1" "$BASE_BIN" "$2" "$3" "$4" "$5" start ;;
    mixed) swan_start $GW2
           set -- $GW1; rampart_start "$1" "$RAMPART_BIN" "$2" "$3" "$4" "$5" start ;;
  esac
  for _ in $(seq 30); do
    ns bnc ping -c1 -W1 198.51.100.10 >/dev/null 2>&1 && return 0
  done
  echo "   $name: no connectivity after 30 s"; return 1
}
setup_down() {
  case $1 in
    plain) plain_routes del ;;
    *) for v in RAMPART_PID_bng1 RAMPART_PID_bng2 SWAN_PID_bng1 SWAN_PID_bng2; do
         if [ -n "${!v:-}" ]; then stop_pid "${!v}"; eval "$v="; fi
       done ;;
  esac
  sleep 0.5
}

declare -A RES
run_iperf() { # setup round
  local j=$W/iperf-$1-$2.json gbps retr
  if ! ns bnc iperf3 -c 198.51.100.10 -t "$SECS" -J > "$j" 2>&1; then
    echo "   $1 round $2: iperf3 failed ($(jq -r '.error // empty' "$j" 2>/dev/null))"; return 0
  fi
  gbps=$(jq '.end.sum_received.bits_per_second / 1e9' "$j")
  retr=$(jq '.end.sum_sent.retransmits' "$j")
  printf '   %-8s round %s: %6.3f Gbit/s  (%s retransmits)\n' "$1" "$2" "$gbps" "$retr"
  RES[$1]="${RES[$1]:-} $gbps"
}

echo "== $ROUNDS round(s) of $SECS s per setup: $SETUPS (ESP $ESP)"
for r in $(seq "$ROUNDS"); do
  for s in $SETUPS; do
    if setup_up "$s"; then run_iperf "$s" "$r"; fi
    setup_down "$s"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "== results (Gbit/s, median of rounds; single TCP stream, $SECS s, ESP $ESP)"
declare -A MED
for s in $SETUPS; do
  MED[$s]=$(echo "${RES[$s]:-}" | median)
  printf '%-8s %7.3f   rounds:' "$s" "${MED[$s]}"; printf ' %.3f' ${RES[$s]:-}; echo
done
ratio() { awk -v a="${MED[$1]:-nan}" -v b="${MED[$2]:-nan}" 'BEGIN { if (b+0 > 0 && a != "nan") printf "%.2f", a/b; else print "n/a" }'; }
echo
echo "rampart / swan   = $(ratio rampart swan)   (target >= 10)"
echo "rampart / plain  = $(ratio rampart plain)   (target >= 0.40)"
[[ " $SETUPS " == *" mixed "* ]] && echo "mixed   / swan   = $(ratio mixed swan)"
[[ " $SETUPS " == *" base "* ]] && echo "rampart / base   = $(ratio rampart base)"
exit 0
