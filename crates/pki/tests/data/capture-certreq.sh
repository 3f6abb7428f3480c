#!/bin/bash
# How the CERTREQ value frozen in tests/strongswan.rs (certreq_hash_matches_strongswan) was
# captured. Run as root with strongSwan 5.9 (charon, swanctl, pki), tcpdump and tshark.
# Two namespaces, pkm (moon, responder) and pkc (carol, initiator), one veth between them on
# 192.0.2.0/24; both charons authenticate with ECDSA certificates from a CA made by `pki`.
# moon's IKE_SA_INIT response carries a CERTREQ for that CA; tshark prints its "Certificate
# Authority Data". Rerunning makes a new CA (keys are not kept): copy $W/ca/ca.pem and
# $W/ca/moon.pem to strongswan/certreq-ca.pem and strongswan/certreq-moon.pem and update the
# test with the printed hash (it must equal `pki --keyid`'s "SHA-1 of subjectPublicKeyInfo").
# Needs /work/shared/lab/strongswan.conf.in (the lab's charon configuration).
set -u
W=${W:-/tmp/pklab}
x() { ip netns exec "$@"; }
down() { for n in pkm pkc; do ip netns del $n 2>/dev/null; done; }
down
mkdir -p $W/ca
cd $W/ca
if [ ! -f ca.pem ]; then
  pki --gen --type ecdsa --size 256 --outform pem > ca.key 2>/dev/null
  pki --self --ca --lifetime 3650 --in ca.key --dn "C=CH, O=Rampart Test, CN=Rampart Test CA" --outform pem > ca.pem 2>/dev/null
  for h in moon carol; do
    pki --gen --type ecdsa --size 256 --outform pem > $h.key 2>/dev/null
    pki --pub --in $h.key | pki --issue --cacert ca.pem --cakey ca.key --lifetime 3650 --dn "C=CH, O=Rampart Test, CN=$h.example.org" --san $h.example.org --outform pem > $h.pem 2>/dev/null
  done
fi
for n in pkm pkc; do ip netns add $n; x $n ip link set lo up; done
ip link add pkm0 type veth peer name pkc0
ip link set pkm0 netns pkm; ip link set pkc0 netns pkc
x pkm ip addr add 192.0.2.1/24 dev pkm0; x pkc ip addr add 192.0.2.2/24 dev pkc0
x pkm ip link set pkm0 up; x pkc ip link set pkc0 up
for h in moon carol; do
  D=$W/$h; rm -rf $D; mkdir -p $D/run $D/x509 $D/x509ca $D/ecdsa
  sed "s|@D@|$D|g; s|ike = 2|ike = 4|" /work/shared/lab/strongswan.conf.in > $D/strongswan.conf
  cp $W/ca/ca.pem $D/x509ca/; cp $W/ca/$h.pem $D/x509/; cp $W/ca/$h.key $D/ecdsa/
  me=$h.example.org; if [ $h = moon ]; then peer=carol.example.org; la=192.0.2.1; ra=192.0.2.2; else peer=moon.example.org; la=192.0.2.2; ra=192.0.2.1; fi
  cat > $D/swanctl.conf <<EOC
connections {
 c {
  local_addrs=$la
  remote_addrs=$ra
  version=2
  proposals=aes128-sha256-x25519
  local {
   auth=pubkey
   certs=$h.pem
   id=$me
  }
  remote {
   auth=pubkey
   id=$peer
  }
  children {
   n {
    local_ts=203.0.113.0/24
    remote_ts=198.51.100.0/25
    esp_proposals=aes128gcm16
   }
  }
 }
}
EOC
done
x pkm tcpdump -i pkm0 -w $W/cap.pcap -U udp > $W/tcpdump.out 2>&1 &
echo $! > $W/tcpdump.pid
for h in moon carol; do
  D=$W/$h; ns=pkm; [ $h = carol ] && ns=pkc
  x $ns sh -c "mount --bind $D/run /run && STRONGSWAN_CONF=$D/strongswan.conf exec /usr/lib/ipsec/charon" > $D/charon.stdout 2>&1 &
  for _ in $(seq 50); do [ -S $D/run/charon.vici ] && break; sleep 0.1; done
  swanctl --load-all --uri unix://$D/run/charon.vici --file $D/swanctl.conf
done
swanctl --initiate --ike c --uri unix://$W/carol/run/charon.vici --timeout 10
sleep 1
for h in moon carol; do P=$(cat $W/$h/run/charon.pid); kill $P; done
sleep 1; kill $(cat $W/tcpdump.pid)
sleep 0.5; down
tshark -r $W/cap.pcap -V 2>/dev/null | grep -A6 "Payload: Certificate Request" | grep "Certificate Authority Data"
pki --keyid --in $W/ca/ca.pem --type x509 2>/dev/null
