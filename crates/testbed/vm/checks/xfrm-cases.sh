#!/bin/sh
# Net-to-net (or host-to-host) cases against strongSwan on the guest kernel's XFRM, one after
# another in one boot. The right side (ns2) is always charon with kernel-netlink, so the kernel's
# own ESP/AH is the reference; the left side (ns1) is charon too (a baseline) or Rampart.
#
# Input, written by the test (crates/rampart/tests/vm_xfrm.rs):
#   /vm/files/cases         one case per line: NAME key=value...
#       left=swan|rampart   who runs in ns1
#       initiator=left|right
#       outer=4|6 inner=4|6 IKE/ESP addresses and tunnelled addresses (ignored in transport mode)
#       mode=tunnel|transport proto=esp|ah
#       encap=0|1           whether the right's kernel SAs must be UDP-encapsulated (espinudp)
#       esn=0|1             whether they must use extended sequence numbers
#       alg=A,B             strings the right's `ip xfrm state` must contain, e.g. cbc(aes),hmac(sha256)
#   /vm/files/NAME/left.conf (charon) or left.toml (Rampart; control_socket = $SOCK), right.conf
#
# Each case: load its configuration into the running charons (or start Rampart), initiate, wait
# for two SAs in the right's kernel, check them (count, proto, mode, encapsulation, ESN,
# algorithms), ping 3 times through them, check both of the right's SA counters saw the 3
# packets, terminate from the initiator, check the right's kernel is empty again. One RESULT line
# per case; on failure the console gets the logs (keys masked) and the charons drop their SAs. A
# failure of the harness itself (a charon that does not start or load) says "harness: ...".
. /vm/lib.sh

CONN=net2net
CHILD=net
SOCK=/tmp/rampart-ns1.sock
PINGS=3

fail() { [ -n "$why" ] || why="$*"; }
# A failure of the harness, not of the implementation under test: "harness: ..." (the test never
# counts it as an expected "not yet implemented" failure).
hfail() { fail "harness: $*"; }
ok() { [ -z "$why" ]; }

# Sets the addresses of a case from outer, inner and mode.
addresses() {
  if [ "$outer" = 6 ]; then L_OUT=2001:db8:1::1 R_OUT=2001:db8:1::2; else L_OUT=192.0.2.1 R_OUT=192.0.2.2; fi
  if [ "$inner" = 6 ]; then
    L_IN=2001:db8:2::1 R_IN=2001:db8:3::1 L_NET=2001:db8:2::/64 R_NET=2001:db8:3::/64
  else
    L_IN=203.0.113.1 R_IN=198.51.100.1 L_NET=203.0.113.0/24 R_NET=198.51.100.0/24
  fi
  if [ "$mode" = transport ]; then SRC=$L_OUT DST=$R_OUT; else SRC=$L_IN DST=$R_IN; fi
}

# Checks the right's XFRM states (saved in $1) against the case.
check_states() {
  n=$(grep -c '^src' "$1")
  [ "$n" = 2 ] || fail "expected 2 SAs in the right's kernel, found $n"
  [ "$(grep -c "proto $proto " "$1")" = 2 ] || fail "SAs are not proto $proto: $(grep -o 'proto [a-z]*' "$1" | sort -u | tr '\n' ' ')"
  [ "$(grep -c "mode $mode" "$1")" = 2 ] || fail "SAs are not mode $mode: $(grep -o 'mode [a-z]*' "$1" | sort -u | tr '\n' ' ')"
  if [ "$encap" = 1 ]; then
    [ "$(grep -c 'encap type espinudp' "$1")" = 2 ] || fail "SAs are not UDP-encapsulated"
  else
    ! grep -q 'encap' "$1" || fail "SAs are UDP-encapsulated, expected raw $proto"
  fi
  if [ "$esn" = 1 ]; then
    [ "$(grep -c '^[[:space:]]*replay-window.*flag.*esn' "$1")" = 2 ] || fail "SAs do not use ESN"
  else
    ! grep -q 'flag.*esn' "$1" || fail "SAs use ESN, expected none"
  fi
  for a in $(echo "$alg" | tr ',' ' '); do
    [ "$(grep -cF "$a" "$1")" = 2 ] || fail "SAs lack algorithm $a"
  done
}

# mask : hides key material (`ip xfrm state` prints keys as long hex numbers).
mask() { sed 's/0x[0-9a-f]\{16,\}/<key>/g'; }

# Prints diagnostics of a failed case on the console.
diagnose() {
  vm_log "--- $name failed: $why"
  for f in $VM_LOG/$name-*.out; do
    [ -f "$f" ] && mask <"$f" | sed "s|^|$name $(basename "$f"): |" | tail -30
  done
  ip -n ns2 xfrm state | mask | sed "s/^/$name right xfrm state: /"
  ip -n ns2 xfrm policy | sed "s/^/$name right xfrm policy: /"
  for ns in ns1 ns2; do
    [ -f $VM_LOG/charon-$ns.log ] && tail -40 $VM_LOG/charon-$ns.log | sed "s/^/$name charon-$ns: /"
  done
  [ -f $VM_LOG/rampart-ns1.log ] && tail -40 $VM_LOG/rampart-ns1.log | sed "s/^/$name rampart: /"
}

# step MESSAGE : a console line with the guest's uptime (to see where a case's time goes).
step() { vm_log "$name: $*"; }

sas_up() { [ "$(sa_count ns2)" -ge 2 ]; }
sas_gone() { [ "$(sa_count ns2)" = 0 ]; }

# The charons run across cases (starting one costs seconds under TCG): each case loads its own
# swanctl.conf (same connection name: the new one replaces the old). ns1's charon is stopped
# before a Rampart case (both bind UDP 500) and started again for a strongSwan one.
LEFT_SWAN=0
RIGHT_SWAN=0
ensure_charons() {
  _want=""
  [ $RIGHT_SWAN = 0 ] && _want="ns2"
  if [ "$left" = swan ] && [ $LEFT_SWAN = 0 ]; then
    _want="$_want ns1"
  elif [ "$left" = rampart ] && [ $LEFT_SWAN = 1 ]; then
    swan_stop ns1
    LEFT_SWAN=0
  fi
  for _n in $_want; do swan_spawn $_n; done
  for _n in $_want; do
    swan_wait $_n || return 1
    case $_n in ns1) LEFT_SWAN=1 ;; ns2) RIGHT_SWAN=1 ;; esac
  done
}

# After a failed case: drop whatever IKE SAs the charons still hold (--force: no DELETE
# exchange); restart a charon only if that does not leave it empty.
reset_charons() {
  for _n in ns1 ns2; do
    [ -S /vm/run/$_n/charon.vici ] || continue
    swanctl_in $_n --terminate --ike $CONN --force --timeout 2 >/dev/null 2>&1
    if swanctl_in $_n --list-sas 2>/dev/null | grep -q "$CONN"; then
      vm_log "charon in $_n still has SAs: restarting it"
      swan_stop $_n
      case $_n in ns1) LEFT_SWAN=0 ;; ns2) RIGHT_SWAN=0 ;; esac
    fi
  done
}

run_case() {
  why=""
  got="" pin="" pout=""
  d=/vm/files/$name
  addresses
  uptime_s
  t0=$UPTIME
  ensure_charons || hfail "charon did not start"
  ok && { swan_load ns2 "$d/right.conf" || hfail "swanctl --load-all (right) failed"; }
  if ok; then
    if [ "$left" = rampart ]; then
      rm -f $VM_LOG/rampart-ns1.log
      rampart_start ns1 "$d/left.toml" $SOCK || fail "rampart: $RAMPART_ERR"
    else
      swan_load ns1 "$d/left.conf" || hfail "swanctl --load-all (left) failed"
    fi
  fi
  step "configured"
  # strongSwan installs no routes here (install_routes = no): a device route with the right
  # source address sends the traffic into the XFRM policy. Rampart routes into its TUN itself.
  if ok && [ "$mode" = tunnel ]; then
    [ "$left" = swan ] && ip -n ns1 route add "$R_NET" dev v1 src "$L_IN"
    ip -n ns2 route add "$L_NET" dev v2 src "$R_IN"
  fi
  if ok; then
    if [ "$initiator" = right ]; then
      swanctl_in ns2 --initiate --child $CHILD --timeout 30 >$VM_LOG/$name-initiate.out 2>&1 ||
        fail "swanctl --initiate (right) failed: $(tail -1 $VM_LOG/$name-initiate.out)"
    elif [ "$left" = swan ]; then
      swanctl_in ns1 --initiate --child $CHILD --timeout 30 >$VM_LOG/$name-initiate.out 2>&1 ||
        fail "swanctl --initiate (left) failed: $(tail -1 $VM_LOG/$name-initiate.out)"
    else
      /vm/rampart initiate $CONN -s $SOCK >$VM_LOG/$name-initiate.out 2>&1 ||
        fail "rampart initiate failed: $(tail -1 $VM_LOG/$name-initiate.out)"
    fi
  fi
  ok && { wait_for 30 sas_up || fail "no CHILD_SA in the right's kernel after 30 s ($(sa_count ns2) states)"; }
  step "initiated"
  ip -n ns2 xfrm state >$VM_LOG/$name-states.out 2>&1
  ok && check_states $VM_LOG/$name-states.out
  if ok; then
    ip netns exec ns1 ping -n -c $PINGS -i 0.2 -W 2 -I "$SRC" "$DST" >$VM_LOG/$name-ping.out 2>&1
    got=$(awk '/packets transmitted/ {print $4}' $VM_LOG/$name-ping.out)
    [ "$got" = $PINGS ] || fail "ping $SRC -> $DST: ${got:-0}/$PINGS replies"
  fi
  if ok; then
    pin=$(sa_packets ns2 "$R_OUT")
    pout=$(sa_packets ns2 "$L_OUT")
    [ "${pin:-0}" -ge $PINGS ] && [ "${pout:-0}" -ge $PINGS ] ||
      fail "the right's SA counters did not see the pings (in=$pin out=$pout packets)"
  fi
  step "checked"
  if ok; then
    if [ "$initiator" = right ]; then
      swanctl_in ns2 --terminate --ike $CONN --timeout 20 >$VM_LOG/$name-terminate.out 2>&1
    elif [ "$left" = swan ]; then
      swanctl_in ns1 --terminate --ike $CONN --timeout 20 >$VM_LOG/$name-terminate.out 2>&1
    else
      /vm/rampart terminate $CONN -s $SOCK >$VM_LOG/$name-terminate.out 2>&1
    fi
    wait_for 20 sas_gone || fail "$(sa_count ns2) SAs left in the right's kernel after the terminate"
  fi
  step "terminated"
  if ! ok; then
    diagnose
    reset_charons
  fi
  rampart_stop
  for ns in ns1 ns2; do
    ip -n $ns xfrm state flush
    ip -n $ns xfrm policy flush
  done
  ip -n ns1 route del "$R_NET" dev v1 2>/dev/null
  ip -n ns2 route del "$L_NET" dev v2 2>/dev/null
  uptime_s
  secs=$(echo "$t0 $UPTIME" | awk '{printf "%.1f", $2 - $1}')
  if ok; then
    result "$name" PASS "$(echo "$alg" | tr ',' '+') $proto $mode encap=$encap esn=$esn ping=$got/$PINGS in=$pin out=$pout packets (${secs} s)"
  else
    result "$name" FAIL "$why (${secs} s)"
  fi
}

if [ ! -s /vm/files/cases ]; then
  result xfrm-cases FAIL "no /vm/files/cases"
  exit 1
fi
while read -r name rest; do
  [ -n "$name" ] || continue
  left="" initiator="" outer=4 inner=4 mode=tunnel proto=esp encap=0 esn=0 alg=""
  for kv in $rest; do
    case $kv in
      left=*) left=${kv#*=} ;;
      initiator=*) initiator=${kv#*=} ;;
      outer=*) outer=${kv#*=} ;;
      inner=*) inner=${kv#*=} ;;
      mode=*) mode=${kv#*=} ;;
      proto=*) proto=${kv#*=} ;;
      encap=*) encap=${kv#*=} ;;
      esn=*) esn=${kv#*=} ;;
      alg=*) alg=${kv#*=} ;;
      *) vm_log "$name: unknown key $kv" ;;
    esac
  done
  vm_log "case $name: $rest"
  run_case </dev/null
done </vm/files/cases
