# Shell library of the test guest (POSIX sh; sourced by /init and by test scripts as /vm/lib.sh).
#
# The guest's network, built by vm_boot (documentation addresses only, RFC 5737 / RFC 3849):
#
#     ns1 (left)                                     ns2 (right)
#     lo: 203.0.113.1/32, 2001:db8:2::1/128          lo: 198.51.100.1/32, 2001:db8:3::1/128
#     v1: 192.0.2.1/24, 2001:db8:1::1/64  <--veth-->  v2: 192.0.2.2/24, 2001:db8:1::2/64
#
# No routes between the "LAN" addresses on lo: only a tunnel (or a test's own route) joins them.
# Files: /vm/test.sh (the test), /vm/files/ (the test's data), /vm/rampart (if given),
# /vm/log/ (logs), /vm/run/NS/ (a private /run per namespace for charon's pid file and socket).

VM_LOG=/vm/log

# uptime_s : sets UPTIME (seconds since boot, e.g. 12.34) and UPTIME_S (whole seconds) without
# starting a process (each process start costs ~0.1 s under TCG).
uptime_s() {
  read -r UPTIME _rest </proc/uptime
  UPTIME_S=${UPTIME%.*}
}

# vm_log MESSAGE... : a console line with the guest's uptime.
vm_log() {
  uptime_s
  echo "VM: [$UPTIME] $*"
}

# result NAME PASS|FAIL DETAIL... : one machine-readable line on the results port (ttyS1), which
# the harness parses (crates/testbed/src/vm.rs), and the same on the console. NAME has no spaces.
result() {
  _n=$1 _s=$2
  shift 2
  echo "RESULT $_n $_s $*" >/dev/ttyS1
  vm_log "RESULT $_n $_s $*"
}

# wait_for SECONDS COMMAND... : runs COMMAND every 0.2 s until it succeeds (0) or time is up (1).
wait_for() {
  uptime_s
  _end=$((UPTIME_S + $1))
  shift
  while :; do
    "$@" && return 0
    uptime_s
    [ "$UPTIME_S" -ge "$_end" ] && return 1
    sleep 0.2
  done
}

# vm_boot : loads the modules the image lists in /etc/vm-modules (build-image.sh: veth, tun, the
# XFRM user API, ESP and AH) in one modprobe call, then builds the network. The kernel loads the
# crypto modules an SA names by itself, on demand.
vm_boot() {
  mkdir -p $VM_LOG /vm/run
  # shellcheck disable=SC2046
  if ! modprobe -a $(cat /etc/vm-modules) 2>$VM_LOG/modprobe.err; then
    vm_log "modprobe failed: $(cat $VM_LOG/modprobe.err)"
    return 1
  fi
  ip link set lo up
  vm_network || { vm_log "network setup failed"; return 1; }
  vm_log "modules and network ready"
}

vm_network() {
  ip netns add ns1 && ip netns add ns2 &&
    ip link add v1 netns ns1 type veth peer name v2 netns ns2 &&
    ip -n ns1 link set lo up && ip -n ns2 link set lo up &&
    ip -n ns1 addr add 192.0.2.1/24 dev v1 && ip -n ns2 addr add 192.0.2.2/24 dev v2 &&
    ip -n ns1 addr add 2001:db8:1::1/64 dev v1 nodad && ip -n ns2 addr add 2001:db8:1::2/64 dev v2 nodad &&
    ip -n ns1 addr add 203.0.113.1/32 dev lo && ip -n ns2 addr add 198.51.100.1/32 dev lo &&
    ip -n ns1 addr add 2001:db8:2::1/128 dev lo && ip -n ns2 addr add 2001:db8:3::1/128 dev lo &&
    ip -n ns1 link set v1 up && ip -n ns2 link set v2 up
}

# nsx NS COMMAND... : COMMAND in namespace NS with /etc/netns/NS/* over /etc (ip netns exec does
# that) and /vm/run/NS over /run (charon's pid file and vici socket are at fixed paths there).
nsx() {
  _ns=$1
  shift
  mkdir -p /vm/run/$_ns
  ip netns exec "$_ns" sh -c 'mount --bind "$0" /run && exec "$@"' /vm/run/$_ns "$@"
}

# --- strongSwan (charon with kernel-netlink: the kernel's XFRM does ESP/AH) ------------------

# swan_start NS : starts charon in NS and waits for its vici socket.
swan_start() {
  swan_spawn "$1" && swan_wait "$1"
}

# swan_spawn NS : starts charon in NS (in the background) with its own strongswan.conf, an empty
# swanctl.conf and a private /run for its pid file and vici socket. Starting takes seconds under
# TCG: spawn both sides, then swan_wait for each.
swan_spawn() {
  _ns=$1
  mkdir -p /etc/netns/$_ns/swanctl
  for _sub in conf.d x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
    mkdir -p /etc/netns/$_ns/swanctl/$_sub
  done
  : >/etc/netns/$_ns/swanctl/swanctl.conf
  cat >/etc/netns/$_ns/strongswan.conf <<EOF
charon {
  # An explicit plugin list: Debian's default set also loads plugins that open raw sockets.
  load_modular = no
  load = random nonce openssl aes sha1 sha2 hmac gcm kdf pubkey pem pkcs1 x509 kernel-netlink socket-default vici
  install_routes = no
  retransmit_tries = 3
  filelog {
    vm {
      path = $VM_LOG/charon-$_ns.log
      time_format = %s
      default = 1
      ike = 2
      knl = 2
      cfg = 2
      flush_line = yes
    }
  }
}
swanctl {
  load = random openssl pem pkcs1 pkcs8 x509 pubkey nonce
}
EOF
  rm -f /vm/run/$_ns/charon.vici /vm/run/$_ns/charon.pid
  nsx "$_ns" /usr/lib/ipsec/charon >>$VM_LOG/charon-$_ns.stdout 2>&1 &
}

# swan_wait NS : waits (30 s at most) until the charon in NS has its vici socket.
swan_wait() {
  wait_for 30 test -S /vm/run/$1/charon.vici && return 0
  vm_log "charon in $1 did not start: $(tail -3 $VM_LOG/charon-$1.stdout)"
  return 1
}

# swan_load NS SWANCTL_CONF : (re)loads the charon in NS with this swanctl.conf; a connection of
# the same name replaces the loaded one.
swan_load() {
  cp "$2" /etc/netns/$1/swanctl/swanctl.conf
  swanctl_in "$1" --load-all --noprompt --file /etc/netns/$1/swanctl/swanctl.conf \
    >$VM_LOG/swanctl-load-$1.out 2>&1 || {
    vm_log "swanctl --load-all in $1 failed: $(tail -5 $VM_LOG/swanctl-load-$1.out)"
    return 1
  }
}

# gone PID : whether the process has exited (a zombie counts: `kill -0` would still succeed).
gone() {
  read -r _st </proc/"$1"/stat 2>/dev/null || return 0
  case $_st in *") Z "*) return 0 ;; esac
  return 1
}

# swan_stop NS : stops charon by its PID (SIGTERM, then SIGKILL after 5 s).
swan_stop() {
  _pid=$(cat /vm/run/$1/charon.pid 2>/dev/null) || return 0
  kill "$_pid" 2>/dev/null
  wait_for 5 gone "$_pid" || kill -9 "$_pid" 2>/dev/null
  wait "$_pid" 2>/dev/null
  rm -f /vm/run/$1/charon.pid /vm/run/$1/charon.vici
}

# swanctl_in NS COMMAND ARGS... : swanctl against the charon in NS. It needs no namespace, only the vici
# socket (and NS's strongswan.conf for its plugin list): no `ip netns exec`, which costs half a
# second under TCG.
swanctl_in() {
  _ns=$1
  _cmd=$2
  shift 2
  STRONGSWAN_CONF=/etc/netns/$_ns/strongswan.conf \
    swanctl "$_cmd" --uri unix:///vm/run/$_ns/charon.vici "$@"
}

# --- Rampart -------------------------------------------------------------------------------------

# rampart_start NS TOML SOCKET : starts /vm/rampart daemon in NS (the TOML's control_socket must be
# SOCKET) and waits until `rampart version` answers. Sets RAMPART_PID. On failure (e.g. the
# daemon refuses its config) returns 1 and sets RAMPART_ERR to the log's last line.
rampart_start() {
  RAMPART_ERR=""
  RAMPART_PID=""
  if [ ! -x /vm/rampart ]; then
    RAMPART_ERR="no rampart binary in the guest"
    return 1
  fi
  rm -f "$3"
  ip netns exec "$1" /vm/rampart daemon -c "$2" >>$VM_LOG/rampart-$1.log 2>&1 &
  RAMPART_PID=$!
  uptime_s
  _end=$((UPTIME_S + 30))
  while ! gone "$RAMPART_PID"; do
    if [ -S "$3" ] && /vm/rampart version -s "$3" >/dev/null 2>&1; then
      return 0
    fi
    uptime_s
    [ "$UPTIME_S" -ge "$_end" ] && break
    sleep 0.2
  done
  if ! gone "$RAMPART_PID"; then
    RAMPART_ERR="daemon not ready after 30 s"
  else
    RAMPART_ERR="daemon exited: $(grep -v '^$' $VM_LOG/rampart-$1.log | tail -1 | sed 's/\x1b\[[0-9;]*m//g')"
  fi
  rampart_stop
  return 1
}

# rampart_stop : SIGTERM to RAMPART_PID (it deletes its SAs and exits), SIGKILL after 10 s.
rampart_stop() {
  [ -n "$RAMPART_PID" ] || return 0
  kill "$RAMPART_PID" 2>/dev/null
  wait_for 10 gone "$RAMPART_PID" || kill -9 "$RAMPART_PID" 2>/dev/null
  wait "$RAMPART_PID" 2>/dev/null
  RAMPART_PID=""
}

# --- XFRM state ------------------------------------------------------------------------------

# sa_count NS : number of XFRM states (SAs) in NS.
sa_count() {
  ip -n "$1" xfrm state | grep -c '^src'
}

# sa_packets NS DST : the packet counter of the (first) SA in NS whose destination is DST
# (`ip -s xfrm state` prints it as "lifetime current:" then "  252(bytes), 3(packets)").
sa_packets() {
  ip -s -n "$1" xfrm state | awk -v dst="$2" '
    /^src/ { this = ($4 == dst) }
    this && /lifetime current:/ {
      getline; n = $0; sub(/^.*, */, "", n); sub(/\(packets\).*/, "", n); print n; exit }'
}
