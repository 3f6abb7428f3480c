#!/bin/bash
# Rampart's first tunnel, end to end, in four network namespaces:
#
#     h1 --- gw1 (Rampart) ===== IKEv2 + ESP-in-UDP ===== gw2 (strongSwan, or Rampart) --- h2
#     203.0.113.10   192.0.2.1                              192.0.2.2          198.51.100.10
#
# Builds rampart, starts it on gw1 (it initiates: start_action = "start"), starts strongSwan's
# charon on gw2 when it is installed (kernel-libipsec: userspace ESP) or else a second Rampart,
# pings h1 <-> h2 through the tunnel, prints what happened, tears the tunnel down and removes
# everything it created. Run as root:  sudo ./scripts/demo.sh
# RAMPART_BIN=/path/to/rampart skips the build; DEMO_PEER=rampart forces a Rampart peer.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

P=rdemo                      # namespace prefix
W=/tmp/rampart-demo          # work dir: configs, logs, sockets, capture
PSK="demo-psk-not-secret-0123456789"
CHARON=/usr/lib/ipsec/charon

say() { printf '\033[1m%s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
# (background processes are started with `ip netns exec` itself, never through this function:
# `$!` must be the PID of the process we later stop, not of a subshell)
x() { ip netns exec "$@"; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces): sudo $0"
for t in ip ping; do command -v $t >/dev/null || die "missing tool: $t"; done

# --- build --------------------------------------------------------------------------------------
if [ -z "${RAMPART_BIN:-}" ]; then
  if ! command -v cargo >/dev/null && [ -n "${SUDO_USER:-}" ]; then
    h=$(getent passwd "$SUDO_USER" | cut -d: -f6)
    [ -x "$h/.cargo/bin/cargo" ] && export PATH="$h/.cargo/bin:$PATH" CARGO_HOME="$h/.cargo" RUSTUP_HOME="$h/.rustup"
  fi
  command -v cargo >/dev/null || die "cargo not found (or set RAMPART_BIN)"
  say "Building rampart ..."
  RAMPART_BIN=$(cargo build -q -p rampart --bin rampart --message-format=json-render-diagnostics \
    | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
  [ -x "$RAMPART_BIN" ] || die "build failed"
fi
R=$RAMPART_BIN

PEER=rampart
if [ "${DEMO_PEER:-}" != rampart ] && [ -x $CHARON ] && command -v swanctl >/dev/null &&
   [ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]; then
  PEER=strongswan
fi

# --- cleanup, whatever happens ----------------------------------------------------------------
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  for n in gw1 gw2 h1 h2; do ip netns del "$P-$n" 2>/dev/null; done
  [ "${DEMO_KEEP:-}" = 1 ] && echo "(kept $W)" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- topology (documentation addresses only) --------------------------------------------------
say "Creating namespaces $P-{gw1,gw2,h1,h2} ..."
for n in gw1 gw2 h1 h2; do ip netns del "$P-$n" 2>/dev/null; done
rm -rf "$W"; mkdir -p "$W/gw1" "$W/gw2/run"
for n in gw1 gw2 h1 h2; do
  ip netns add "$P-$n" && ip -n "$P-$n" link set lo up
  x "$P-$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add eth0 netns "$P-gw1" type veth peer name eth0 netns "$P-gw2"
ip link add eth1 netns "$P-gw1" type veth peer name eth0 netns "$P-h1"
ip link add eth1 netns "$P-gw2" type veth peer name eth0 netns "$P-h2"
for l in gw1:eth0 gw1:eth1 gw2:eth0 gw2:eth1 h1:eth0 h2:eth0; do ip -n "$P-${l%%:*}" link set "${l#*:}" up; done
ip -n $P-gw1 addr add 192.0.2.1/24 dev eth0;     ip -n $P-gw2 addr add 192.0.2.2/24 dev eth0
ip -n $P-gw1 addr add 203.0.113.1/24 dev eth1;   ip -n $P-h1 addr add 203.0.113.10/24 dev eth0
ip -n $P-gw2 addr add 198.51.100.1/24 dev eth1;  ip -n $P-h2 addr add 198.51.100.10/24 dev eth0
ip -n $P-h1 route add default via 203.0.113.1;   ip -n $P-h2 route add default via 198.51.100.1
x $P-gw1 sysctl -qw net.ipv4.ip_forward=1;       x $P-gw2 sysctl -qw net.ipv4.ip_forward=1
# The gateways have no route to each other's LAN: only the tunnel connects h1 and h2.

# --- configs ----------------------------------------------------------------------------------
rampart_toml() { # gw local remote local_ts remote_ts start_action id peer_id
  cat <<TOML
[daemon]
control_socket = "$W/$1/rampart.sock"
tun_name = "rdemo$1"
log_level = "info"

[connections.net2net]
local_addrs = ["$2"]
remote_addrs = ["$3"]
proposals = ["aes256gcm16-prfsha256-x25519"]
encap = true

[connections.net2net.local]
auth = "psk"
id = "$7"

[connections.net2net.remote]
auth = "psk"
id = "$8"

[connections.net2net.children.net]
local_ts = ["$4"]
remote_ts = ["$5"]
esp_proposals = ["aes256gcm16"]
start_action = "$6"

[secrets.ike.net2net]
ids = ["gw1.example.org", "gw2.example.org"]
secret = "$PSK"
TOML
}
rampart_toml gw1 192.0.2.1 192.0.2.2 203.0.113.0/24 198.51.100.0/24 start gw1.example.org gw2.example.org > "$W/gw1/rampart.toml"

# --- the peer on gw2 --------------------------------------------------------------------------
if [ $PEER = strongswan ]; then
  say "Starting strongSwan (charon, kernel-libipsec) on $P-gw2 ..."
  D=$W/gw2
  cat > "$D/strongswan.conf" <<CONF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink socket-default vici attr
  filelog { demo { path = $D/charon.log
    default = 1
    ike = 2
    flush_line = yes } }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$D/run/charon.vici } }
}
CONF
  cat > "$D/swanctl.conf" <<CONF
connections {
  net2net {
    version = 2
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    proposals = aes256gcm16-prfsha256-x25519
    local { auth = psk
      id = gw2.example.org }
    remote { auth = psk
      id = gw1.example.org }
    children { net { local_ts = 198.51.100.0/24
        remote_ts = 203.0.113.0/24
        esp_proposals = aes256gcm16 } }
  }
}
secrets { ike-net2net { id-1 = gw1.example.org
    id-2 = gw2.example.org
    secret = "$PSK" } }
CONF
  # charon hard-codes its pid file in /run: give it a private /run (ip netns exec makes a mount ns)
  ip netns exec $P-gw2 sh -c "mount --bind $D/run /run && STRONGSWAN_CONF=$D/strongswan.conf exec $CHARON" \
    > "$D/charon.stdout" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [ -S "$D/run/charon.vici" ] && break; sleep 0.1; done
  [ -S "$D/run/charon.vici" ] || die "charon did not start: $(cat "$D/charon.stdout")"
  swanctl --load-all --uri "unix://$D/run/charon.vici" --file "$D/swanctl.conf" >/dev/null 2>&1 ||
    die "swanctl --load-all failed"
  PEER_NAME="strongSwan $(sed -n 's/.*(strongSwan \([0-9.]*\),.*/\1/p' "$D/charon.log" | head -n 1)"
else
  say "strongSwan not installed: starting a second Rampart on $P-gw2 ..."
  rampart_toml gw2 192.0.2.2 192.0.2.1 198.51.100.0/24 203.0.113.0/24 none gw2.example.org gw1.example.org > "$W/gw2/rampart.toml"
  ip netns exec $P-gw2 "$R" daemon -c "$W/gw2/rampart.toml" 2> "$W/gw2/rampart.log" &
  PIDS+=($!)
  for _ in $(seq 100); do "$R" version -s "$W/gw2/rampart.sock" >/dev/null 2>&1 && break; sleep 0.1; done
  PEER_NAME="Rampart"
fi

CAP=0
if command -v tcpdump >/dev/null; then
  ip netns exec $P-gw1 tcpdump -i eth0 -n -U --immediate-mode -w "$W/outer.pcap" 2> "$W/tcpdump.log" &
  TCPDUMP=$!
  PIDS+=($TCPDUMP)
  for _ in $(seq 50); do grep -q "listening on" "$W/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
  CAP=1
fi

say "Starting Rampart on $P-gw1 (it initiates) ..."
ip netns exec $P-gw1 "$R" daemon -c "$W/gw1/rampart.toml" 2> "$W/gw1/rampart.log" &
RPID=$!
PIDS+=($RPID)
S=$W/gw1/rampart.sock

status() { "$R" status --json -s "$S" 2>/dev/null; }
up=0
for _ in $(seq 200); do
  if status | grep -q '"INSTALLED"'; then up=1; break; fi
  kill -0 $RPID 2>/dev/null || break
  sleep 0.1
done
if [ $up != 1 ]; then
  echo "The tunnel did not come up within 20 s. Rampart's log:"
  sed 's/^/  /' "$W/gw1/rampart.log"
  [ $PEER = strongswan ] && { echo "strongSwan's log:"; sed 's/^/  /' "$W/gw2/charon.log"; }
  exit 1
fi

say "Pinging through the tunnel ..."
p1=$(x $P-h1 ping -c 3 -i 0.2 -W 1 198.51.100.10 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
p2=$(x $P-h2 ping -c 3 -i 0.2 -W 1 203.0.113.10 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
AFTER=$(status)

say "Tearing down (rampart terminate net2net) ..."
"$R" terminate net2net -s "$S" >/dev/null 2>&1
left="?"
for _ in $(seq 50); do
  if [ $PEER = strongswan ]; then
    left=$(swanctl --list-sas --uri "unix://$W/gw2/run/charon.vici" 2>/dev/null | grep -c ESTABLISHED)
  else
    left=$("$R" status --json -s "$W/gw2/rampart.sock" 2>/dev/null | grep -o '"ESTABLISHED"' | wc -l)
  fi
  [ "$left" = 0 ] && break
  sleep 0.2
done

if [ $CAP = 1 ]; then
  sleep 0.2; kill -TERM $TCPDUMP 2>/dev/null; wait $TCPDUMP 2>/dev/null
  ike=$(tcpdump -r "$W/outer.pcap" -n 'udp port 500 or (udp port 4500 and udp[8:4] == 0 and udp[4:2] > 12)' 2>/dev/null | wc -l)
  esp=$(tcpdump -r "$W/outer.pcap" -n 'udp port 4500 and udp[8:4] != 0 and udp[4:2] > 9' 2>/dev/null | wc -l)
  other=$(tcpdump -r "$W/outer.pcap" -n 'not (udp port 500 or udp port 4500) and not arp and not ip6' 2>/dev/null | wc -l)
fi

# --- the account --------------------------------------------------------------------------------
echo
say "What happened"
summary() { # status-json
  if command -v python3 >/dev/null; then
    cat > "$W/summary.py" <<'PY'
import json, sys
st = json.loads(sys.argv[1])
st = st.get("result", st)
for s in st.get("ike_sas", []):
    who = "we" if s.get("initiator") else "the peer"
    print(f"- IKE SA #{s.get('id')} '{s.get('connection')}': {s.get('state')}, {s.get('local')} -> {s.get('remote')},"
          f" {s.get('local_id')} <-> {s.get('remote_id')}, {who} initiated, proposal {s.get('proposal')},"
          f" IKE SPIs {s.get('spi_i')}/{s.get('spi_r')}")
    for c in s.get("children", []):
        mode = str(c.get("mode")) + (" in UDP" if c.get("encap") else "")
        lts, rts = ", ".join(c.get("local_ts", [])), ", ".join(c.get("remote_ts", []))
        print(f"- Child SA '{c.get('name')}': {c.get('state')}, {mode}, ESP {c.get('proposal')}, {lts} <=> {rts},"
              f" SPI in {c.get('spi_in')} out {c.get('spi_out')},"
              f" {c.get('packets_in')} packets in / {c.get('packets_out')} out")
PY
    python3 "$W/summary.py" "$1" 2>/dev/null || echo "$1"
  else
    echo "$1"
  fi
}
echo "Rampart on gw1 talked to $PEER_NAME on gw2."
summary "$AFTER"
echo "- pings h1 -> h2: ${p1:-0}/3 answered; h2 -> h1: ${p2:-0}/3 answered"
[ $CAP = 1 ] && echo "- on the wire between the gateways: $ike IKE messages, $esp ESP-in-UDP packets, $other other IPv4 packets"
echo "- after 'rampart terminate': $left IKE SA(s) left on gw2"
[ "${p1:-0}" -gt 0 ] && [ "${p2:-0}" -gt 0 ] && [ "$left" = 0 ]
