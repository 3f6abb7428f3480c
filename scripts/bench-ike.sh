#!/bin/bash
# IKE handshake load benchmark (issue 3, "Tests: Benchmark"): the same load generator
# (crates/ikeload: N initiators on Rampart's engine, each from its own address and identity,
# repeating IKE_SA_INIT + IKE_AUTH with PSK, x25519 and one Child SA, then an INFORMATIONAL
# Delete) against
#   rampart  the Rampart daemon (release build) as responder,
#   swan     strongSwan 5.9's charon as responder (kernel-libipsec, so its Child SA install
#            succeeds in this kernel without ESP; no traffic flows),
# in alternating rounds in the same namespaces. Per round: setup + teardown cycles per second,
# and the responder's CPU per cycle = utime + stime (+ its waited-for children's) delta of its
# process (/proc/PID/stat, all threads) divided by the completed cycles. Prints the medians
# and the ratios against the issue's targets (rate >= 5x strongSwan, <= 0.25 ms responder CPU
# per handshake).
#
# Both responders are configured alike: the same proposals, one PSK per client identity
# (load-K.example.org), TS narrowing to the client's /32, DPD off, no uniqueness policy,
# logging off but for warnings, and strongSwan's cookie threshold / per-source half-open limit
# set to Rampart's built-in values (10 and 5; the default concurrency stays below both, and
# ikeload counts extra IKE_SA_INITs so a run that hit cookies shows it).
#
# Run as root:  sudo ./scripts/bench-ike.sh
# Environment:  SECS=10 (per run)  ROUNDS=3  N=8 (concurrent initiators, <= 200)
#               SETUPS="rampart swan"  IKE=aes256gcm16-prfsha256-x25519  ESP=aes256gcm16
#               LOAD_THREADS=1 (ikeload runtime threads)
#               RAMPART_BIN=path IKELOAD_BIN=path (skip the release builds)
#               KEEP=1 (leave the work dir /tmp/bi-bench for the logs)
#
# Topology (namespaces bil, bir; documentation addresses only):
#   bil 192.0.2.10 .. 192.0.2.(10+N-1) -- 192.0.2.1 bir
#   inner: client K proposes TSi 198.51.100.(1+K)/32, the responder protects 203.0.113.0/24.
# Everything it starts is stopped by PID and the namespaces are deleted by name on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-10}
ROUNDS=${ROUNDS:-3}
N=${N:-8}
SETUPS=${SETUPS:-rampart swan}
IKE=${IKE:-aes256gcm16-prfsha256-x25519}
ESP=${ESP:-aes256gcm16}
LOAD_THREADS=${LOAD_THREADS:-1}
W=/tmp/bi-bench
NSS=(bil bir)
CHARON=/usr/lib/ipsec/charon
PSK=bench-psk-not-secret-0123456789
SERVER=192.0.2.1
SOURCE=192.0.2.10

[ "$(id -u)" = 0 ] || { echo "bench-ike.sh: run as root (namespaces, TUN devices)"; exit 1; }
[ "$N" -ge 1 ] && [ "$N" -le 200 ] || { echo "bench-ike.sh: N must be 1..200"; exit 1; }
if [ ! -x "$CHARON" ]; then
  echo "bench-ike.sh: $CHARON missing: skipping strongSwan"
  SETUPS=$(echo "$SETUPS" | tr ' ' '\n' | grep -v swan | tr '\n' ' ')
fi

if [ -z "${RAMPART_BIN:-}" ] || [ -z "${IKELOAD_BIN:-}" ]; then
  echo "== building rampart and ikeload (release, LTO)"
  cargo build --release -p rampart -p ikeload --quiet
  RAMPART_BIN=${RAMPART_BIN:-${CARGO_TARGET_DIR:-target}/release/rampart}
  IKELOAD_BIN=${IKELOAD_BIN:-${CARGO_TARGET_DIR:-target}/release/ikeload}
fi
RAMPART_BIN=$(realpath "$RAMPART_BIN")
IKELOAD_BIN=$(realpath "$IKELOAD_BIN")

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

echo "== topology ($N client addresses)"
for n in "${NSS[@]}"; do ip netns add "$n"; ns "$n" ip link set lo up; done
ip -n bil link add eth0 type veth peer name eth0 netns bir
ip -n bir addr add "$SERVER/24" dev eth0
# The protected network's address: strongSwan routes a Child SA from a local address inside
# its local_ts, and fails the Child SA (TS_UNACCEPTABLE) without one.
ip -n bir addr add 203.0.113.1/32 dev lo
for k in $(seq 0 $((N - 1))); do echo "addr add 192.0.2.$((10 + k))/24 dev eth0"; done > "$W/addrs"
ip -n bil -batch "$W/addrs"
ip -n bil link set eth0 up
ip -n bir link set eth0 up
# Duplicate address detection is IPv6 only; wait for the link.
for _ in $(seq 50); do ns bil ping -c1 -W1 "$SERVER" >/dev/null 2>&1 && break; sleep 0.1; done

# ---- strongSwan (one charon in bir, as /work/shared/lab/charon.sh does)
SWAN_PID=
swan_start() {
  local D=$W/swan sub k
  rm -rf "$D"; mkdir -p "$D/run"
  for sub in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
    mkdir -p "$D/$sub"
  done
  cat > "$D/strongswan.conf" <<EOF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink socket-default vici
  cookie_threshold = 10
  block_threshold = 5
  filelog { bench { path = $D/charon.log
                   default = -1 } }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$D/run/charon.vici } }
}
EOF
  {
    cat <<EOF
connections { load { version = 2
  local_addrs = $SERVER
  remote_addrs = %any
  proposals = $IKE
  dpd_delay = 0s
  unique = no
  local { auth = psk
    id = moon.example.org }
  remote { auth = psk
    id = %any }
  children { net { local_ts = 203.0.113.0/24
    remote_ts = 198.51.100.0/24
    esp_proposals = $ESP
    mode = tunnel } } } }
secrets {
EOF
    for k in $(seq 0 $((N - 1))); do
      echo "  ike-$k { id = load-$k.example.org
    secret = \"$PSK\" }"
    done
    echo "}"
  } > "$D/swanctl.conf"
  ip netns exec bir sh -c "mount --bind $D/run /run && STRONGSWAN_CONF=$D/strongswan.conf exec $CHARON" \
    > "$D/charon.stdout" 2>&1 &
  SWAN_PID=$!
  PIDS+=("$SWAN_PID")
  for _ in $(seq 50); do [ -S "$D/run/charon.vici" ] && break; sleep 0.1; done
  swanctl --load-all --uri "unix://$D/run/charon.vici" --file "$D/swanctl.conf" >/dev/null 2>&1
  RESP_PID=$SWAN_PID
}

# ---- Rampart
rampart_start() {
  local D=$W/rampart k
  rm -rf "$D"; mkdir -p "$D"
  {
    cat <<EOF
[daemon]
control_socket = "$D/rampart.sock"
tun_name = "bit"
log_level = "warn"
listen = ["$SERVER"]

[connections.load]
local_addrs = ["$SERVER"]
remote_addrs = ["%any"]
proposals = ["$IKE"]
dpd_delay = 0
unique = "never"

[connections.load.local]
auth = "psk"
id = "moon.example.org"

[connections.load.remote]
auth = "psk"
id = "%any"

[connections.load.children.net]
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/24"]
esp_proposals = ["$ESP"]
mode = "tunnel"
start_action = "none"
EOF
    for k in $(seq 0 $((N - 1))); do
      printf '\n[secrets.ike.c%s]\nids = ["load-%s.example.org"]\nsecret = "%s"\n' "$k" "$k" "$PSK"
    done
  } > "$D/rampart.toml"
  chmod 600 "$D/rampart.toml"
  ip netns exec bir "$RAMPART_BIN" daemon -c "$D/rampart.toml" > /dev/null 2> "$D/rampart.log" &
  RESP_PID=$!
  PIDS+=("$RESP_PID")
  for _ in $(seq 50); do [ -S "$D/rampart.sock" ] && break; sleep 0.1; done
}

stop_pid() {
  local p=$1
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
}

# utime + stime of a process (all its threads) plus cutime + cstime (children it waited for,
# e.g. an `ip` it ran), in clock ticks: fields 14-17 of /proc/PID/stat. Field 2 (comm) may
# hold spaces: cut after the last ')'.
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

declare -A RATE CPU
run_round() { # setup round
  local s=$1 r=$2 out c0 c1 cycles rate ms
  case $s in
    rampart) rampart_start ;;
    swan) swan_start ;;
  esac
  if ! kill -0 "$RESP_PID" 2>/dev/null; then
    echo "   $s round $r: responder did not start (see $W/$s)"; return 0
  fi
  sleep 0.3
  c0=$(cpu_ticks "$RESP_PID")
  out=$(ns bil "$IKELOAD_BIN" --server "$SERVER" --source "$SOURCE" -n "$N" --secs "$SECS" \
        --threads "$LOAD_THREADS" --ike "$IKE" --esp "$ESP" --psk "$PSK" 2>"$W/ikeload-$s-$r.err") || true
  c1=$(cpu_ticks "$RESP_PID")
  stop_pid "$RESP_PID"
  sleep 0.3
  cycles=$(echo "$out" | sed -n 's/.*cycles=\([0-9]*\).*/\1/p')
  rate=$(echo "$out" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
  if [ -z "$cycles" ] || [ "$cycles" = 0 ]; then
    echo "   $s round $r: no cycles ($out; $(head -c 300 "$W/ikeload-$s-$r.err"))"; return 0
  fi
  ms=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="$cycles" 'BEGIN { printf "%.4f", d / hz * 1000 / n }')
  printf '   %-8s round %s: %8.1f cycles/s  %7.4f ms responder CPU/cycle  (%s)\n' "$s" "$r" "$rate" "$ms" "$out"
  RATE[$s]="${RATE[$s]:-} $rate"
  CPU[$s]="${CPU[$s]:-} $ms"
}

echo "== machine load before: $(uptime)"
echo "== $ROUNDS round(s) of $SECS s per setup: $SETUPS ($N initiators, IKE $IKE, ESP $ESP)"
for r in $(seq "$ROUNDS"); do
  for s in $SETUPS; do run_round "$s" "$r"; done
done

echo "== machine load after: $(uptime)"

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "== results (median of rounds; $N initiators, $SECS s; one cycle = IKE_SA_INIT + IKE_AUTH + INFORMATIONAL Delete)"
declare -A MR MC
for s in $SETUPS; do
  MR[$s]=$(echo "${RATE[$s]:-}" | median)
  MC[$s]=$(echo "${CPU[$s]:-}" | median)
  printf '%-8s %8.1f cycles/s   %7.4f ms responder CPU/cycle\n' "$s" "${MR[$s]}" "${MC[$s]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 > 0 && a != "nan") printf "%.2f", a/b; else print "n/a" }'; }
echo
if [[ " $SETUPS " == *" rampart "* && " $SETUPS " == *" swan "* ]]; then
  echo "rate rampart / swan = $(ratio "${MR[rampart]}" "${MR[swan]}")   (target >= 5)"
  echo "CPU  swan / rampart = $(ratio "${MC[swan]}" "${MC[rampart]}")"
fi
[[ " $SETUPS " == *" rampart "* ]] && echo "rampart CPU/cycle = ${MC[rampart]} ms   (target <= 0.25 ms per handshake)"
exit 0
