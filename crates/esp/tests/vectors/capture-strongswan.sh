#!/bin/bash
# Captures ESP-in-UDP packets between two strongSwan 5.9 charons (kernel-libipsec) in network
# namespaces `epmoon` and `epcarol`, with chd=4 so that charon logs the Child SA keys. Produces
# the material of tests/strongswan_vector.rs. Run as root:
#   ./capture-strongswan.sh ESP_PROPOSAL OUTDIR      e.g. aes256gcm16 /tmp/ep-lab/gcm
# Cleans up (charons by PID, namespaces by name) on exit.
set -eu
PROP=$1; OUT=$2
W=/tmp/ep-lab; mkdir -p "$W" "$OUT"
x() { ip netns exec "$@"; }
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in moon carol; do
    [ -f "$W/$d/run/charon.pid" ] && kill "$(cat "$W/$d/run/charon.pid")" 2>/dev/null || true
  done
  sleep 0.5
  for n in epmoon epcarol; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

for n in epmoon epcarol; do ip netns add $n; x $n ip link set lo up
  x $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
ip link add epva type veth peer name epvb
ip link set epva netns epmoon; ip link set epvb netns epcarol
x epmoon ip link set epva name eth0; x epcarol ip link set epvb name eth0
x epmoon ip link set eth0 up; x epcarol ip link set eth0 up
x epmoon ip addr add 192.0.2.1/24 dev eth0
x epcarol ip addr add 192.0.2.100/24 dev eth0
x epmoon ip addr add 203.0.113.10/32 dev lo; x epmoon ip addr add 2001:db8:2::10/128 dev lo
x epcarol ip addr add 198.51.100.10/32 dev lo; x epcarol ip addr add 2001:db8:10::10/128 dev lo

conf() { # name local remote lts rts
  local D=$W/$1
  mkdir -p "$D/run"
  cat > "$D/strongswan.conf" <<EOC
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 aes sha1 sha2 hmac gcm kdf kernel-libipsec kernel-netlink socket-default vici
  filelog { lab { path = $D/charon.log
    default = 1
    chd = 4
    flush_line = yes
    append = no } }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$D/run/charon.vici } }
}
EOC
  cat > "$D/swanctl.conf" <<EOC
connections { n { version = 2
  local_addrs = $2
  remote_addrs = $3
  proposals = aes256gcm16-prfsha256-x25519
  local { auth = psk
    id = $1.example.org }
  remote { auth = psk }
  children { net { local_ts = $4
      remote_ts = $5
      esp_proposals = $PROP
      mode = tunnel } } } }
secrets { ike-1 { secret = "lab-psk-not-secret-0123456789" } }
EOC
}
conf moon 192.0.2.1 192.0.2.100 "203.0.113.10/32, 2001:db8:2::10/128" "198.51.100.10/32, 2001:db8:10::10/128"
conf carol 192.0.2.100 192.0.2.1 "198.51.100.10/32, 2001:db8:10::10/128" "203.0.113.10/32, 2001:db8:2::10/128"

start() { # dir ns
  local D=$W/$1
  x "$2" sh -c "mount --bind $D/run /run && STRONGSWAN_CONF=$D/strongswan.conf exec /usr/lib/ipsec/charon" > "$D/stdout" 2>&1 &
  for _ in $(seq 50); do [ -S "$D/run/charon.vici" ] && break; sleep 0.1; done
  swanctl --load-all --uri "unix://$D/run/charon.vici" --file "$D/swanctl.conf" > /dev/null 2>&1
}
start moon epmoon; start carol epcarol
x epcarol tcpdump -i eth0 -w "$OUT/esp.pcap" -U udp port 4500 2> /dev/null &
PIDS+=($!)
sleep 1
swanctl --initiate --child net --uri "unix://$W/carol/run/charon.vici" > "$OUT/initiate.txt"
x epcarol ping -c 2 -I 198.51.100.10 203.0.113.10 > "$OUT/ping4.txt"
x epcarol ping -6 -c 2 -I 2001:db8:10::10 2001:db8:2::10 > "$OUT/ping6.txt"
sleep 1
cp "$W/carol/charon.log" "$OUT/carol.log"; cp "$W/moon/charon.log" "$OUT/moon.log"
swanctl --list-sas --uri "unix://$W/carol/run/charon.vici" > "$OUT/carol-sas.txt"
echo "captured into $OUT"
