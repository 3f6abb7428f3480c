#!/usr/bin/env python3
# Produces the AH packets of tests/ah_scapy.rs with scapy's independent AH implementation
# (scapy.layers.ipsec.SecurityAssociation(AH, ...), which zeroes the mutable fields itself,
# RFC 4302 §3.3.3), no Rampart code involved. Prints Rust constants to paste into the test.
#
#   python3 -m venv /tmp/scapy && /tmp/scapy/bin/pip install scapy cryptography
#   /tmp/scapy/bin/python crates/esp/tests/vectors/ah_scapy.py
#
# Roles: host / gateway A = 192.0.2.1 (2001:db8:1::1) sends, B = 192.0.2.100
# (2001:db8:1::100) receives; the SA: SPI 0x0a0b0c0d, HMAC-SHA2-256-128, key 01 02 .. 20.
# Sealed vectors use sequence number 1 (what a fresh SA of ours sends first); the ones only
# opened use other numbers.
from scapy.all import IP, IPv6, UDP, ICMP, Raw, raw
from scapy.layers.inet import IPOption_Router_Alert, IPOption_RR
from scapy.layers.inet6 import (ICMPv6EchoRequest, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                                RouterAlert, HBHOptUnknown)
from scapy.layers.ipsec import SecurityAssociation, AH

SPI = 0x0A0B0C0D
KEY = bytes(range(1, 33))
A4, B4 = '192.0.2.1', '192.0.2.100'
A6, B6 = '2001:db8:1::1', '2001:db8:1::100'


def sa(tunnel=None, esn=False):
    return SecurityAssociation(AH, spi=SPI, auth_algo='SHA2-256-128', auth_key=KEY,
                               tunnel_header=tunnel, esn_en=esn, esn=0)


def out(name, inner, sealed):
    print('/// %s' % name)
    print('const %s_INNER: &str = "%s";' % (name, raw(inner).hex()))
    print('const %s_AH: &str = "%s";' % (name, raw(sealed).hex()))


# IPv4 transport: the packet's own header (Identification kept, TTL 64, no flags).
v4 = IP(src=A4, dst=B4, id=0x4242, ttl=64) / UDP(sport=4000, dport=53) / Raw(bytes(range(32)))
out('V4_TRANSPORT', v4, sa().encrypt(v4, seq_num=1))

# IPv6 transport.
v6 = IPv6(src=A6, dst=B6, hlim=64) / ICMPv6EchoRequest(id=1, seq=2, data=bytes(range(24)))
out('V6_TRANSPORT', v6, sa().encrypt(v6, seq_num=1))

# IPv4 tunnel (4in4): outer header Identification 0x1234, TTL 64.
inner4 = IP(src='203.0.113.10', dst='198.51.100.20', id=7, ttl=64) / ICMP(id=1, seq=1) / \
    Raw(bytes(range(16)))
outer4 = IP(src=A4, dst=B4, id=0x1234, ttl=64)
out('V4_TUNNEL', inner4, sa(tunnel=outer4).encrypt(inner4, seq_num=1))

# IPv6 tunnel (6in6) with ESN (high half 0 appended for the ICV, RFC 4302 §2.5.1).
inner6 = IPv6(src='2001:db8:2::10', dst='2001:db8:10::20', hlim=64) / \
    ICMPv6EchoRequest(id=3, seq=4, data=bytes(range(8)))
outer6 = IPv6(src=A6, dst=B6, hlim=64)
out('V6_TUNNEL_ESN', inner6, sa(tunnel=outer6, esn=True).encrypt(inner6, seq_num=1))

# Opened only: IPv4 transport with options (Router Alert: immutable; Record Route: mutable,
# zeroed whole), TOS and TTL of a packet that crossed routers; sequence number 5.
v4o = IP(src=A4, dst=B4, id=0x99, ttl=17, tos=0x10,
         options=[IPOption_Router_Alert(), IPOption_RR(routers=['192.0.2.50'], pointer=8)]) / \
    UDP(sport=4000, dport=53) / Raw(b'options')
out('V4_OPTIONS', v4o, sa().encrypt(v4o, seq_num=5))

# Opened only: IPv6 transport behind Hop-by-Hop (Router Alert, type 5: immutable) and
# Destination Options (type 0x3e: "may change" bit 0x20 set, data zeroed) headers, with a
# traffic class, flow label and hop limit; sequence number 6.
v6o = IPv6(src=A6, dst=B6, hlim=9, fl=0x12345, tc=0x20) / \
    IPv6ExtHdrHopByHop(options=[RouterAlert()]) / \
    IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e, optdata=b'\x07\x07\x07')]) / \
    ICMPv6EchoRequest(id=5, seq=6, data=b'ext headers')
out('V6_EXT_HEADERS', v6o, sa().encrypt(v6o, seq_num=6))
