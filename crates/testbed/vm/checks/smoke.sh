#!/bin/sh
# The harness checking itself: the guest booted, the namespaces talk over the veth pair, and the
# kernel accepts an ESP and an AH state (this machine's own kernel refuses both).
. /vm/lib.sh
if ip netns exec ns1 ping -c 2 -i 0.2 -W 2 -I 192.0.2.1 192.0.2.2 >/tmp/ping.out 2>&1; then
  result smoke-veth PASS "$(tail -1 /tmp/ping.out)"
else
  result smoke-veth FAIL "$(tail -2 /tmp/ping.out | tr '\n' ' ')"
fi
K=0x0102030405060708090a0b0c0d0e0f1011121314
A=0x3132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50
if ip -n ns1 xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 mode tunnel aead 'rfc4106(gcm(aes))' $K 128 2>/tmp/x.err &&
   ip -n ns1 xfrm state add src 192.0.2.1 dst 192.0.2.2 proto ah spi 0x1002 mode transport auth-trunc 'hmac(sha256)' $A 128 2>>/tmp/x.err; then
  result smoke-xfrm PASS "esp+ah states: $(sa_count ns1)"
else
  result smoke-xfrm FAIL "$(cat /tmp/x.err | tr '\n' ' ')"
fi
ip -n ns1 xfrm state flush
[ -x /vm/rampart ] && result smoke-rampart PASS "$(/vm/rampart --version 2>&1 | head -1)"
