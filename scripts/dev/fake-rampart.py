#!/usr/bin/env python3
"""A stand-in for the `rampart` binary that honours its CLI contract (README, docs/config.md,
docs/control.md) by driving a strongSwan charon underneath. It exists only to validate the test
harness (crates/testbed) before and independently of the real daemon:

    TESTBED_RAMPART_BIN=$PWD/scripts/dev/fake-rampart.py cargo test -p rampart --test interop_strongswan

If the namespace tests pass against this fake and fail against the real daemon, the daemon (not the
harness) breaks the contract. Never shipped, never used by scripts/test.sh.

  fake-rampart.py daemon -c FILE            foreground; SIGTERM -> charon sends DELETE; exit 0
  fake-rampart.py status [--json] [-s SOCK]
  fake-rampart.py initiate CONN [-s SOCK]
  fake-rampart.py terminate CONN [-s SOCK]
  fake-rampart.py version [-s SOCK]
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib

CHARON = "/usr/lib/ipsec/charon"


def charon_dir(sock):
    return os.path.join(os.path.dirname(os.path.abspath(sock)), "fake-charon")


def vici_uri(sock):
    return "unix://" + os.path.join(charon_dir(sock), "run", "charon.vici")


def swanctl(sock, *args):
    return subprocess.run(["swanctl", args[0], "--uri", vici_uri(sock), *args[1:]],
                          capture_output=True, text=True)


def swanctl_conf(cfg):
    out = ["connections {"]
    for name, c in cfg.get("connections", {}).items():
        out += [f"  {name} {{", "    version = 2"]
        for key in ("local_addrs", "remote_addrs", "proposals"):
            if key in c:
                out.append(f"    {key} = {', '.join(c[key])}")
        for side in ("local", "remote"):
            s = c.get(side, {})
            out += [f"    {side} {{", f"      auth = {s.get('auth', 'psk')}", f"      id = {s['id']}", "    }"]
        out.append("    children {")
        for cname, ch in c.get("children", {}).items():
            out += [f"      {cname} {{",
                    f"        local_ts = {', '.join(ch['local_ts'])}",
                    f"        remote_ts = {', '.join(ch['remote_ts'])}",
                    f"        esp_proposals = {', '.join(ch['esp_proposals'])}",
                    f"        mode = {ch.get('mode', 'tunnel')}", "      }"]
        out += ["    }", "  }"]
    out += ["}", "secrets {"]
    for name, s in cfg.get("secrets", {}).get("ike", {}).items():
        out.append(f"  ike-{name} {{")
        for i, ident in enumerate(s.get("ids", [])):
            out.append(f"    id-{i + 1} = {ident}")
        out += [f"    secret = \"{s['secret']}\"", "  }"]
    out.append("}")
    return "\n".join(out) + "\n"


STRONGSWAN_CONF = """charon {
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink socket-default vici attr
  filelog { fake { path = @D@/charon.log
    default = 1
    ike = 2
    enc = 1
    flush_line = yes } }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://@D@/run/charon.vici } }
}
"""

# What the real daemon logs (README contract), from what charon logs.
TRANSLATE = [
    (re.compile(r"N\(AUTH_FAILED\)|AUTHENTICATION_FAILED"), "AUTHENTICATION_FAILED"),
    (re.compile(r"N\(NO_PROP\)|NO_PROPOSAL_CHOSEN"), "NO_PROPOSAL_CHOSEN"),
    (re.compile(r"IKE_SA (\S+\[\d+\]) established"), None),
    (re.compile(r"CHILD_SA (\S+\{\d+\}) established"), None),
]


def daemon(config):
    with open(config, "rb") as f:
        cfg = tomllib.load(f)
    sock = cfg["daemon"]["control_socket"]
    d = charon_dir(sock)
    for sub in ("run", "x509", "private"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "strongswan.conf"), "w") as f:
        f.write(STRONGSWAN_CONF.replace("@D@", d))
    with open(os.path.join(d, "swanctl.conf"), "w") as f:
        f.write(swanctl_conf(cfg))
    # `ip netns exec` gave us a private mount namespace: charon's hard-coded pid file goes there.
    subprocess.run(["mount", "--bind", os.path.join(d, "run"), "/run"], check=True)
    env = dict(os.environ, STRONGSWAN_CONF=os.path.join(d, "strongswan.conf"))
    charon = subprocess.Popen([CHARON], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vici = os.path.join(d, "run", "charon.vici")
    for _ in range(100):
        if os.path.exists(vici):
            break
        time.sleep(0.05)
    r = swanctl(sock, "--load-all", "--file", os.path.join(d, "swanctl.conf"))
    print(f"fake-rampart: {r.stdout}{r.stderr}", file=sys.stderr, flush=True)
    for name, c in cfg.get("connections", {}).items():
        for cname, ch in c.get("children", {}).items():
            if ch.get("start_action") == "start":
                threading.Thread(target=swanctl, args=(sock, "--initiate", "--child", cname), daemon=True).start()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(sock):
        os.unlink(sock)
    srv.bind(sock)
    srv.listen()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log = os.path.join(d, "charon.log")
    pos = 0

    def pump():
        nonlocal pos
        if not os.path.exists(log):
            return
        with open(log, errors="replace") as f:
            f.seek(pos)
            for line in f:
                tags = [t for rx, t in TRANSLATE if t and rx.search(line)]
                print(line.rstrip() + ("  " + " ".join(tags) if tags else ""), file=sys.stderr, flush=True)
            pos = f.tell()

    while not stop.is_set():
        pump()
        stop.wait(0.1)
    charon.send_signal(signal.SIGTERM)
    charon.wait(10)
    pump()
    srv.close()
    os.unlink(sock)
    return 0


def alg_name(sa, child):
    enc, size, integ = sa.get("encr-alg", ""), sa.get("encr-keysize", ""), sa.get("integ-alg", "")
    s = {"AES_GCM_16": f"aes{size}gcm16", "AES_CBC": f"aes{size}"}.get(enc, enc.lower())
    if integ:
        s += "-" + {"HMAC_SHA2_256_128": "sha256"}.get(integ, integ.lower())
    if not child:
        s += "-" + {"PRF_HMAC_SHA2_256": "prfsha256"}.get(sa.get("prf-alg", ""), "")
        s += "-" + {"CURVE_25519": "x25519", "ECP_256": "ecp256"}.get(sa.get("dh-group", ""), "")
    return s


def parse_pretty(text):
    """swanctl --list-sas --pretty -> nested dicts/lists."""
    stack = [{}]
    lines = iter(text.splitlines())
    for line in lines:
        line = line.strip()
        if line.endswith("{"):
            new = {}
            stack[-1][line[:-1].strip()] = new
            stack.append(new)
        elif line == "}":
            stack.pop()
        elif line.endswith("= ["):
            items = []
            for item in lines:
                if item.strip() == "]":
                    break
                items.append(item.strip())
            stack[-1][line[:-3].strip()] = items
        elif " = " in line:
            k, v = line.split(" = ", 1)
            stack[-1][k.strip()] = v.strip()
    return stack[0]


def hostport(h, p):
    return f"[{h}]:{p}" if ":" in h else f"{h}:{p}"


def status(sock):
    r = swanctl(sock, "--list-sas", "--pretty")
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return 1
    # each IKE SA is its own "list-sa event" section: split on those
    sas = []
    for chunk in r.stdout.split("list-sa event {")[1:]:
        tree = parse_pretty("x {" + chunk)
        for name, sa in tree.get("x", {}).items():
            if not isinstance(sa, dict):
                continue
            children = []
            for _, ch in (sa.get("child-sas") or {}).items():
                children.append({
                    "id": int(ch.get("uniqueid", 0)), "name": ch.get("name"), "state": ch.get("state"),
                    "mode": ch.get("mode", "").lower(), "encap": ch.get("encap") == "yes",
                    "spi_in": ch.get("spi-in"), "spi_out": ch.get("spi-out"), "proposal": alg_name(ch, True),
                    "local_ts": ch.get("local-ts", []), "remote_ts": ch.get("remote-ts", []),
                    "bytes_in": int(ch.get("bytes-in", 0)), "bytes_out": int(ch.get("bytes-out", 0)),
                    "packets_in": int(ch.get("packets-in", 0)), "packets_out": int(ch.get("packets-out", 0)),
                })
            sas.append({
                "id": int(sa.get("uniqueid", 0)), "connection": name, "state": sa.get("state"),
                "initiator": sa.get("initiator") == "yes",
                "local": hostport(sa.get("local-host"), sa.get("local-port")),
                "remote": hostport(sa.get("remote-host"), sa.get("remote-port")),
                "local_id": sa.get("local-id"), "remote_id": sa.get("remote-id"),
                "spi_i": sa.get("initiator-spi"), "spi_r": sa.get("responder-spi"),
                "proposal": alg_name(sa, False), "nat_local": sa.get("nat-local") == "yes",
                "nat_remote": sa.get("nat-remote") == "yes", "established_secs": int(sa.get("established", 0)),
                "children": children,
            })
    print(json.dumps({"ike_sas": sas, "connections": []}))
    return 0


def main(argv):
    sock = os.environ.get("RAMPART_SOCKET", "/run/rampart/rampart.sock")
    if "-s" in argv:
        i = argv.index("-s")
        sock = argv[i + 1]
        del argv[i:i + 2]
    cmd = argv[0] if argv else ""
    if cmd == "daemon":
        return daemon(argv[argv.index("-c") + 1])
    if cmd == "version":
        if not os.path.exists(sock):
            print(f"cannot connect to {sock}", file=sys.stderr)
            return 1
        print("rampart 0.0.0-fake (daemon 0.0.0-fake, protocol 1)")
        return 0
    if cmd == "status":
        return status(sock)
    if cmd in ("initiate", "terminate"):
        if cmd == "initiate":
            r = swanctl(sock, "--initiate", "--child", "net", "--timeout", "20")
        else:
            r = swanctl(sock, "--terminate", "--ike", argv[1], "--timeout", "10")
        print(r.stdout + r.stderr)
        return r.returncode
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
