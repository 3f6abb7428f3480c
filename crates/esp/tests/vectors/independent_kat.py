#!/usr/bin/env python3
# Produces the expected packets of tests/known_answer.rs without any Rampart code, using the
# Python "cryptography" package (python3 vectors/independent_kat.py).
# Independent ESP packet construction from RFC 4303 §2 / RFC 4106 / RFC 3602 / RFC 4868
import struct, hmac, hashlib
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

def csum(b):
    if len(b)%2: b+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(b)//2),b))
    while s>0xffff: s=(s&0xffff)+(s>>16)
    return (~s)&0xffff

icmp = bytes([8,0,0,0, 0x12,0x34, 0,1]) + bytes(range(16))
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
hdr = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45,0,20+len(icmp),0xbeef,0x4000,64,1,0,
      bytes([203,0,113,10]), bytes([198,51,100,10])))
hdr[10:12] = struct.pack('!H', csum(bytes(hdr)))
inner = bytes(hdr)+icmp
print("INNER", inner.hex())

def trailer(n, align, nh):
    pad = (align - (n+2)%align)%align
    return bytes(range(1,pad+1)) + bytes([pad, nh])

spi=0x11223344; seq=1
esph = struct.pack('!II', spi, seq)
# AES-GCM-16 128: keymat = key(16) | salt(4); nonce = salt | IV; IV = 64-bit seq; AAD = SPI|seq
key = bytes(range(16)); salt = bytes([0xa0,0xa1,0xa2,0xa3])
iv = struct.pack('!Q', seq)
pt = inner + trailer(len(inner), 4, 4)
ct = AESGCM(key).encrypt(salt+iv, pt, esph)   # ciphertext | 16-byte tag
print("GCM", (esph+iv+ct).hex())

# AES-CBC-128 + HMAC-SHA2-256-128: ICV = first 16 bytes of HMAC over SPI|seq|IV|ciphertext
ekey = bytes(range(0x10,0x20)); ikey = bytes(range(0x20,0x40)); civ = bytes(range(0xf0,0x100))
pt = inner + trailer(len(inner), 16, 4)
e = Cipher(algorithms.AES(ekey), modes.CBC(civ)).encryptor()
c = e.update(pt)+e.finalize()
icv = hmac.new(ikey, esph+civ+c, hashlib.sha256).digest()[:16]
print("CBC", (esph+civ+c+icv).hex())
