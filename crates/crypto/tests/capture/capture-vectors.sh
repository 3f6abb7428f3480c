#!/bin/bash
# Captures an IKEv2 key-schedule vector from strongSwan, for tests/strongswan_vectors.rs.
#
# prf+, SKEYSEED, SK_* and Child SA KEYMAT (RFC 7296 §2.13, §2.14, §2.17) have no published test
# vectors, so we take them from an independent implementation: two strongSwan 5.9 charons, one
# per network namespace (cv-a initiator, cv-b responder, a veth with 192.0.2.1 / 192.0.2.2),
# each with its own STRONGSWAN_CONF, vici socket and a bind-mounted /run (the recipe of
# shared/lab/README.md). The file logger runs at level 4 for `ike` and `chd`, where charon logs
# the private values of its key derivation: the shared Diffie-Hellman secret, SKEYSEED, the
# seven SK_* keys and each Child SA's encryption/integrity keys. Nonces and SPIs come from the
# same log (the IKE_SA_INIT payload dumps at `enc` 4 and `swanctl --list-sas`).
#
# Three IKE SAs are negotiated, one per connection:
#   gcm:  IKE aes256gcm16-prfsha256-x25519, ESP aes256gcm16
#   cbc:  IKE aes128-sha256-ecp256,         ESP aes128-sha256
#   modp: IKE aes128-sha256-modp2048,       ESP aes128-sha256
# (The gcm and cbc vectors were captured when the script had only those two connections and
# their responder selectors were /25s; selectors do not enter the key derivation.)
# The raw logs and the extracted values land in $OUT (default /tmp/cv-capture); the values were
# then pasted as hex constants into tests/strongswan_vectors.rs. Not run by CI: it needs root,
# strongSwan (strongswan-charon, strongswan-swanctl, libstrongswan-standard/extra-plugins,
# libcharon-extra-plugins for kernel-libipsec) and network namespaces.
#
# Usage (as root): crates/crypto/tests/capture/capture-vectors.sh
set -eu
OUT=${OUT:-/tmp/cv-capture}
NS_I=cv-a
NS_R=cv-b
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  for ns in "$NS_I" "$NS_R"; do
    ip netns list | grep -qw "^$ns" && ip netns del "$ns"
  done
  return 0
}
trap cleanup EXIT

rm -rf "$OUT"
mkdir -p "$OUT"

# --- topology: cv-a (192.0.2.1) <-> cv-b (192.0.2.2) -------------------------------------
for ns in "$NS_I" "$NS_R"; do
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
done
ip link add cv-a0 type veth peer name cv-b0
ip link set cv-a0 netns "$NS_I"
ip link set cv-b0 netns "$NS_R"
ip netns exec "$NS_I" ip addr add 192.0.2.1/24 dev cv-a0
ip netns exec "$NS_R" ip addr add 192.0.2.2/24 dev cv-b0
ip netns exec "$NS_I" ip link set cv-a0 up
ip netns exec "$NS_R" ip link set cv-b0 up
# kernel-libipsec routes each tunnel via a local address inside the local selector.
ip netns exec "$NS_I" ip addr add 198.51.100.1/32 dev lo
ip netns exec "$NS_I" ip addr add 198.51.100.65/32 dev lo
ip netns exec "$NS_I" ip addr add 198.51.100.129/32 dev lo
ip netns exec "$NS_R" ip addr add 203.0.113.1/32 dev lo
ip netns exec "$NS_R" ip addr add 203.0.113.129/32 dev lo
ip netns exec "$NS_R" ip addr add 203.0.113.65/32 dev lo

# --- per-instance configuration -------------------------------------------------------------
write_conf() { # dir
  cat > "$1/strongswan.conf" <<CONF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink socket-default vici
  filelog {
    cv {
      path = $1/charon.log
      default = 1
      ike = 4
      chd = 4
      enc = 4
      cfg = 2
      flush_line = yes
      append = no
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  plugins {
    vici {
      socket = unix://$1/run/charon.vici
    }
  }
}
CONF
}

write_swanctl() { # dir local remote local_id remote_id side
  local lts_gcm rts_gcm lts_cbc rts_cbc lts_modp rts_modp
  if [ "$6" = i ]; then
    lts_gcm=198.51.100.0/26; rts_gcm=203.0.113.0/26
    lts_cbc=198.51.100.64/26; rts_cbc=203.0.113.128/26
    lts_modp=198.51.100.128/26; rts_modp=203.0.113.64/26
  else
    lts_gcm=203.0.113.0/26; rts_gcm=198.51.100.0/26
    lts_cbc=203.0.113.128/26; rts_cbc=198.51.100.64/26
    lts_modp=203.0.113.64/26; rts_modp=198.51.100.128/26
  fi
  cat > "$1/swanctl.conf" <<CONF
connections {
  gcm {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes256gcm16-prfsha256-x25519
    local { auth = psk
            id = $4 }
    remote { auth = psk
             id = $5 }
    children {
      gcm { local_ts = $lts_gcm
            remote_ts = $rts_gcm
            esp_proposals = aes256gcm16 }
    }
  }
  cbc {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes128-sha256-ecp256
    local { auth = psk
            id = $4 }
    remote { auth = psk
             id = $5 }
    children {
      cbc { local_ts = $lts_cbc
            remote_ts = $rts_cbc
            esp_proposals = aes128-sha256 }
    }
  }
  modp {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes128-sha256-modp2048
    local { auth = psk
            id = $4 }
    remote { auth = psk
             id = $5 }
    children {
      modp { local_ts = $lts_modp
             remote_ts = $rts_modp
             esp_proposals = aes128-sha256 }
    }
  }
}
secrets {
  ike-cv {
    id-1 = a.cv.example
    id-2 = b.cv.example
    secret = "cv-capture-psk-not-secret"
  }
}
CONF
}

start_charon() { # ns dir
  for sub in run x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
    mkdir -p "$2/$sub"
  done
  ip netns exec "$1" sh -c "mount --bind $2/run /run && STRONGSWAN_CONF=$2/strongswan.conf exec /usr/lib/ipsec/charon" \
    > "$2/charon.stdout" 2>&1 &
  for _ in $(seq 100); do [ -S "$2/run/charon.vici" ] && break; sleep 0.1; done
  [ -S "$2/run/charon.vici" ] || { echo "charon in $1 did not come up"; cat "$2/charon.stdout"; exit 1; }
  PIDS+=("$(cat "$2/run/charon.pid")")
  (cd "$2" && swanctl --load-all --uri "unix://$2/run/charon.vici" --file "$2/swanctl.conf" >/dev/null)
}

DI=$OUT/a
DR=$OUT/b
mkdir -p "$DI" "$DR"
write_conf "$DI"; write_conf "$DR"
write_swanctl "$DI" 192.0.2.1 192.0.2.2 a.cv.example b.cv.example i
write_swanctl "$DR" 192.0.2.2 192.0.2.1 b.cv.example a.cv.example r
start_charon "$NS_R" "$DR"
start_charon "$NS_I" "$DI"

for c in gcm cbc modp; do
  swanctl --initiate --uri "unix://$DI/run/charon.vici" --ike "$c" --child "$c" > "$OUT/initiate-$c.txt" 2>&1
done
swanctl --list-sas --uri "unix://$DI/run/charon.vici" > "$OUT/list-sas.txt"
sleep 0.5
cleanup
trap - EXIT

# --- extraction -------------------------------------------------------------------------------
# Each value is a "LABEL => N bytes @ ADDR" line followed by hex-dump lines from the same thread.
# The n-th occurrence of a label belongs to the n-th SA initiated (gcm, cbc, modp, one after the
# other); integrity keys exist only for the non-AEAD ones (cbc, modp). Both charons' logs must
# agree on every value.
python3 - "$DI/charon.log" "$DR/charon.log" "$OUT/list-sas.txt" > "$OUT/vectors.txt" <<'PY'
import re, sys

LABELS = [
    ("g_ir", "[IKE] shared Diffie Hellman secret"),
    ("skeyseed", "[IKE] SKEYSEED"),
    ("sk_d", "[IKE] Sk_d secret"),
    ("sk_ai", "[IKE] Sk_ai secret"),
    ("sk_ar", "[IKE] Sk_ar secret"),
    ("sk_ei", "[IKE] Sk_ei secret"),
    ("sk_er", "[IKE] Sk_er secret"),
    ("sk_pi", "[IKE] Sk_pi secret"),
    ("sk_pr", "[IKE] Sk_pr secret"),
    ("child_seed", "[CHD] seed"),
    ("child_encr_i", "[CHD] encryption initiator key"),
    ("child_encr_r", "[CHD] encryption responder key"),
    ("child_integ_i", "[CHD] integrity initiator key"),
    ("child_integ_r", "[CHD] integrity responder key"),
]
HEAD = re.compile(r"^(\d+)(\[\w+\]) (.*) => (\d+) bytes @ ")
DUMP = re.compile(r"^(\d+)\[\w+\]\s+\d+: ((?:[0-9A-F]{2} )+)")

def values(path):
    lines = open(path, errors="replace").read().splitlines()
    found = {}
    for i, line in enumerate(lines):
        m = HEAD.match(line)
        if not m:
            continue
        thread, tag, label, n = m.group(1), m.group(2), m.group(3), int(m.group(4))
        key = next((k for k, l in LABELS if l == tag + " " + label), None)
        if key is None:
            continue
        data = bytearray()
        for nxt in lines[i + 1:]:
            if len(data) >= n:
                break
            d = DUMP.match(nxt)
            if d and d.group(1) == thread:
                data += bytes.fromhex(d.group(2).replace(" ", ""))
        assert len(data) == n, (key, len(data), n)
        found.setdefault(key, []).append(data.hex())
    return found

ini, res = values(sys.argv[1]), values(sys.argv[2])
assert ini == res, "initiator and responder logs disagree"
spis = {}
for line in open(sys.argv[3]):
    m = re.match(r"^(\w+): #\d+, ESTABLISHED, IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r", line)
    if m:
        spis[m.group(1)] = (m.group(2), m.group(3))
CONNS = [("gcm", True), ("cbc", False), ("modp", False)]
integ_idx = 0
for idx, (conn, aead) in enumerate(CONNS):
    print(f"== {conn}")
    print(f"spi_i {spis[conn][0]}")
    print(f"spi_r {spis[conn][1]}")
    for key, _ in LABELS:
        vals = ini.get(key, [])
        # AEAD SAs have no integrity keys: those labels only occur for the others, in order.
        if key in ("sk_ai", "sk_ar", "child_integ_i", "child_integ_r"):
            v = "" if aead else vals[integ_idx]
        else:
            v = vals[idx]
        print(f"{key} {v}")
    if not aead:
        integ_idx += 1
PY
cat "$OUT/vectors.txt"
echo "logs in $DI/charon.log and $DR/charon.log; SAs in $OUT/list-sas.txt; values in $OUT/vectors.txt"
