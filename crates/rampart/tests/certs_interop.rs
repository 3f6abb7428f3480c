//! Certificate authentication (RFC 7296 §2.15, RFC 7427) in network namespaces: Rampart <->
//! strongSwan 5.9 (kernel-libipsec) in both roles, and one Rampart <-> Rampart case.
//!
//! Certificates are issued per test with the `pki` crate: a root CA, an intermediate CA and
//! one end entity per gateway, so every chain needs the intermediate the peer sends in a CERT
//! payload (Rampart trusts only the root; strongSwan logs `received issuer cert` for ours).
//! - key types: RSA 2048, ECDSA P-256, Ed25519; identities as FQDN subjectAltNames and as DNs;
//! - a chain big enough to need IKEv2 fragmentation (RFC 7383: RSA-3072 CAs and end entities
//!   with many subjectAltNames), over IPv4 and IPv6, with SKF payloads (type 53) on the wire
//!   and charon's `received fragment`;
//! - a revoked certificate (CRL) refused by either side, and a certificate of an unknown CA;
//! - Rampart <-> Rampart, with a CRL update picked up by `rampart reload`.
//!
//! Each case takes 1-3 s. Needs root; under CI=true a missing tool fails the test.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pki::{
    CaSpec, CertSpec, CertificateAuthority, CrlSpec, Eku, KeyKind, PrivateKey, RevokedEntry,
    Validity,
};
use testbed::interop::{assert_up, ping_from, wait_no_sas};
use testbed::topology::{addr, OUTER_IF};
use testbed::{Capture, Charon, CharonOptions, Family, Peer, RampartDaemon, Topology};
use wire::Identity;

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const ESP: &str = "aes256gcm16";
const CONN: &str = "net2net";
const CHILD: &str = "net";

fn rampart() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

// ---------------------------------------------------------------------------------------------
// Certificates

fn validity() -> Validity {
    Validity::days_from(SystemTime::now() - Duration::from_secs(3600), 30)
}

/// A root and an intermediate CA of one key type.
struct Pki {
    root: CertificateAuthority,
    inter: CertificateAuthority,
}

fn pki(kind: KeyKind, org: &str) -> Pki {
    let root = CertificateAuthority::self_signed(
        &CaSpec {
            subject: format!("C=CH, O={org}, CN=Root CA"),
            validity: validity(),
            path_len: None,
            serial: None,
        },
        PrivateKey::generate(kind).expect("key"),
    )
    .expect("root");
    let inter = root
        .issue_intermediate(
            &CaSpec {
                subject: format!("C=CH, O={org}, CN=Intermediate CA"),
                validity: validity(),
                path_len: Some(0),
                serial: None,
            },
            PrivateKey::generate(kind).expect("key"),
        )
        .expect("intermediate");
    Pki { root, inter }
}

/// How the gateways name themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ids {
    /// `gw1.example.org`: an FQDN in the certificate's subjectAltName.
    Fqdn,
    /// `C=CH, O=Rampart Test, CN=gw1`: the certificate's subject.
    Dn,
}

fn id(ids: Ids, gw: usize) -> String {
    match ids {
        Ids::Fqdn => format!("gw{gw}.example.org"),
        Ids::Dn => format!("C=CH, O=Rampart Test, CN=gw{gw}"),
    }
}

/// One gateway's files, written into its work dir.
struct GwFiles {
    /// The end entity, then the intermediate (what Rampart sends).
    chain: PathBuf,
    /// The end entity alone (strongSwan's `x509/`).
    leaf: PathBuf,
    /// PKCS #8 PEM, mode 0600.
    key: PathBuf,
    /// The root CA (the only trust anchor).
    root: PathBuf,
    /// The intermediate CA alone (strongSwan's `x509ca/`, so that it can send it).
    inter: PathBuf,
    /// The leaf's serial.
    serial: Vec<u8>,
}

fn write(path: &Path, bytes: &[u8]) {
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// Issues gateway `gw`'s end entity under `p` and writes its files into `dir`. `extra_sans`
/// more FQDNs make the certificate big.
fn issue(p: &Pki, kind: KeyKind, gw: usize, extra_sans: usize, dir: &Path) -> GwFiles {
    use std::os::unix::fs::PermissionsExt;
    let key = PrivateKey::generate(kind).expect("key");
    let mut sans = vec![Identity::Fqdn(format!("gw{gw}.example.org"))];
    sans.extend((0..extra_sans).map(|i| Identity::Fqdn(format!("alt{i}.gw{gw}.example.org"))));
    let serial = vec![0x10 + gw as u8];
    let leaf = p
        .inter
        .issue(
            &CertSpec {
                subject: id(Ids::Dn, gw),
                sans,
                ekus: vec![Eku::ServerAuth, Eku::ClientAuth, Eku::IpsecIke],
                validity: validity(),
                serial: Some(serial.clone()),
            },
            &key,
        )
        .expect("leaf");
    let f = GwFiles {
        chain: dir.join("chain.pem"),
        leaf: dir.join("leaf.pem"),
        key: dir.join("key.pem"),
        root: dir.join("root.pem"),
        inter: dir.join("inter.pem"),
        serial,
    };
    let inter_pem = pki::cert_to_pem(p.inter.cert_der());
    write(
        &f.chain,
        format!("{}{inter_pem}", pki::cert_to_pem(&leaf)).as_bytes(),
    );
    write(&f.leaf, pki::cert_to_pem(&leaf).as_bytes());
    write(&f.inter, inter_pem.as_bytes());
    write(&f.root, p.root.cert_pem().as_bytes());
    write(&f.key, key.pkcs8_pem().as_bytes());
    if let Err(e) = std::fs::set_permissions(&f.key, std::fs::Permissions::from_mode(0o600)) {
        panic!("chmod {}: {e}", f.key.display());
    }
    f
}

/// A CRL of `ca` revoking `serials`, as PEM; `number` must grow with each update.
fn crl(ca: &CertificateAuthority, number: u64, serials: &[&[u8]]) -> String {
    pki::crl_to_pem(
        &ca.crl(&CrlSpec {
            this_update: SystemTime::now() - Duration::from_secs(120 - number),
            next_update: SystemTime::now() + Duration::from_secs(86_400),
            number,
            revoked: serials
                .iter()
                .map(|s| RevokedEntry {
                    serial: s.to_vec(),
                    revoked_at: SystemTime::now() - Duration::from_secs(300),
                })
                .collect(),
        })
        .expect("crl"),
    )
}

// ---------------------------------------------------------------------------------------------
// Configurations

/// One gateway's view.
struct View<'a> {
    gw: usize,
    outer: Family,
    ids: Ids,
    files: &'a GwFiles,
    /// A CRL file for the authority (Rampart) or `x509crl/` (strongSwan).
    crl: Option<PathBuf>,
    /// Rampart: initiate at start.
    start: bool,
    /// Rampart: `daemon.fragment_size`.
    fragment_size: Option<u16>,
    /// Rampart: `encap = true` (ESP in UDP without a NAT; strongSwan's libipsec does it anyway).
    encap: bool,
}

impl View<'_> {
    fn addrs(&self) -> (&'static str, &'static str) {
        match (self.outer, self.gw) {
            (Family::V4, 1) => (addr::GW1_V4, addr::GW2_V4),
            (Family::V4, _) => (addr::GW2_V4, addr::GW1_V4),
            (Family::V6, 1) => (addr::GW1_V6, addr::GW2_V6),
            (Family::V6, _) => (addr::GW2_V6, addr::GW1_V6),
        }
    }
    fn lans(&self) -> (&'static str, &'static str) {
        if self.gw == 1 {
            (addr::LAN1_V4, addr::LAN2_V4)
        } else {
            (addr::LAN2_V4, addr::LAN1_V4)
        }
    }
    fn ids(&self) -> (String, String) {
        (id(self.ids, self.gw), id(self.ids, 3 - self.gw))
    }

    fn rampart_toml(&self, dir: &Path, tun: &str) -> String {
        let (la, ra) = self.addrs();
        let (lts, rts) = self.lans();
        let (lid, rid) = self.ids();
        let mut daemon = String::new();
        if let Some(n) = self.fragment_size {
            daemon = format!("fragment_size = {n}\n");
        }
        let crls = match &self.crl {
            Some(c) => format!("crls = [\"{}\"]\n", c.display()),
            None => String::new(),
        };
        format!(
            r#"[daemon]
control_socket = "{sock}"
tun_name = "{tun}"
log_level = "debug"
{daemon}
[connections.{CONN}]
local_addrs = ["{la}"]
remote_addrs = ["{ra}"]
proposals = ["{IKE}"]
keyingtries = 1
encap = {encap}

[connections.{CONN}.local]
auth = "pubkey"
cert = "{chain}"
key = "{key}"
id = "{lid}"

[connections.{CONN}.remote]
auth = "pubkey"
id = "{rid}"

[connections.{CONN}.children.{CHILD}]
local_ts = ["{lts}"]
remote_ts = ["{rts}"]
esp_proposals = ["{ESP}"]
start_action = "{start}"

[authorities.test]
cacert = "{root}"
{crls}"#,
            sock = RampartDaemon::socket_in(dir).display(),
            chain = self.files.chain.display(),
            key = self.files.key.display(),
            root = self.files.root.display(),
            start = if self.start { "start" } else { "none" },
            encap = self.encap,
        )
    }

    fn swanctl_conf(&self) -> String {
        let (la, ra) = self.addrs();
        let (lts, rts) = self.lans();
        let (lid, rid) = self.ids();
        format!(
            r#"connections {{
  {CONN} {{
    version = 2
    local_addrs = {la}
    remote_addrs = {ra}
    proposals = {IKE}
    keyingtries = 1
    local {{
      auth = pubkey
      certs = leaf.pem
      id = "{lid}"
    }}
    remote {{
      auth = pubkey
      id = "{rid}"
    }}
    children {{
      {CHILD} {{
        local_ts = {lts}
        remote_ts = {rts}
        esp_proposals = {ESP}
        mode = tunnel
      }}
    }}
  }}
}}
"#
        )
    }
}

/// charon with the `revocation` plugin too (CRLs from `x509crl/`), its files in place.
fn start_charon(ns: &testbed::Netns, dir: &Path, v: &View<'_>) -> Peer {
    let opts = CharonOptions {
        // A later `load` replaces the harness's list (strongSwan settings: last value wins).
        extra: "  load = random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey \
                curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec \
                kernel-netlink socket-default vici attr\n"
            .into(),
        ..CharonOptions::default()
    };
    let c = Charon::start_with(ns, dir, &opts);
    let copy = |src: &Path, sub: &str| {
        let name = src.file_name().expect("file name");
        if let Err(e) = std::fs::copy(src, dir.join(sub).join(name)) {
            panic!("cannot copy {} into {sub}: {e}", src.display());
        }
    };
    copy(&v.files.leaf, "x509");
    copy(&v.files.key, "private");
    copy(&v.files.root, "x509ca");
    copy(&v.files.inter, "x509ca");
    if let Some(crl) = &v.crl {
        copy(crl, "x509crl");
    }
    c.load_config(&v.swanctl_conf());
    Peer::Charon(c)
}

fn start_rampart(ns: &testbed::Netns, dir: &Path, v: &View<'_>, tun: &str) -> Peer {
    Peer::Rampart(RampartDaemon::start(
        rampart(),
        ns,
        dir,
        &v.rampart_toml(dir, tun),
    ))
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// SKF payloads (RFC 7383 §2.5, next payload 53) in IKE over UDP 4500 (after the non-ESP
/// marker: UDP header 8 + marker 4 + next-payload offset 16 = byte 28 of the UDP header).
const SKF_FILTER: &str =
    "udp port 4500 and ((ip and udp[28] == 53) or (ip6 and ip6[6] == 17 and ip6[68] == 53))";

struct Case {
    prefix: &'static str,
    kind: KeyKind,
    ids: Ids,
    outer: Family,
    rampart_initiates: bool,
    /// RSA-3072 everywhere plus this many extra SANs: fragments expected.
    big: usize,
}

/// Brings the tunnel up with certificates on both sides, checks SAs, pings both ways, the
/// evidence of the certificate exchange in both logs (and fragments for big chains), then
/// terminates from Rampart.
fn tunnel(c: &Case) {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net(c.prefix);
    let mut cap = Capture::start(&topo.gw1, OUTER_IF, &topo.dir().path().join("outer.pcap"));
    let (d1, d2) = (topo.subdir("gw1"), topo.subdir("gw2"));
    let p = pki(c.kind, "Rampart Test");
    let (f1, f2) = (
        issue(&p, c.kind, 1, c.big, &d1),
        issue(&p, c.kind, 2, c.big, &d2),
    );
    let view = |gw, files| View {
        gw,
        outer: c.outer,
        ids: c.ids,
        files,
        crl: None,
        start: gw == 1 && c.rampart_initiates,
        fragment_size: None,
        encap: false,
    };
    let (v1, v2) = (view(1, &f1), view(2, &f2));
    let tun = format!("{}t1", c.prefix);
    let (ours, theirs) = if c.rampart_initiates {
        let s = start_charon(&topo.gw2, &d2, &v2);
        (start_rampart(&topo.gw1, &d1, &v1, &tun), s)
    } else {
        let r = start_rampart(&topo.gw1, &d1, &v1, &tun);
        let s = start_charon(&topo.gw2, &d2, &v2);
        let out = s.initiate();
        assert!(
            out.ok(),
            "strongSwan could not initiate: {out}\n{}",
            r.log()
        );
        (r, s)
    };
    let (a, _) = assert_up(&ours, &theirs, Duration::from_secs(20));
    assert_eq!(a.initiator, c.rampart_initiates, "Rampart's role: {a:?}");
    for (from, to) in [(&topo.h1, addr::H2_V4), (&topo.h2, addr::H1_V4)] {
        let out = ping_from(from, None, to, 2);
        assert!(
            out.ok(),
            "ping {} -> {to}: {out}\n{}",
            from.name(),
            ours.describe()
        );
    }
    // Rampart verified strongSwan's chain through the intermediate it sent; strongSwan got
    // ours with its intermediate.
    let (rlog, slog) = (ours.log(), theirs.log());
    let peer_dn = "C=CH, O=Rampart Test, CN=gw2";
    assert!(
        rlog.contains(&format!("authenticated with certificate '{peer_dn}'")),
        "Rampart did not log the certificate authentication:\n{rlog}"
    );
    for want in [
        "received end entity cert \"C=CH, O=Rampart Test, CN=gw1\"",
        "received issuer cert \"C=CH, O=Rampart Test, CN=Intermediate CA\"",
        "successful",
    ] {
        assert!(
            slog.lines()
                .any(|l| l.contains(want)
                    && (want != "successful" || l.contains("authentication of"))),
            "strongSwan's log lacks {want:?}:\n{slog}"
        );
    }
    let out = ours.terminate();
    assert!(out.ok(), "rampart terminate: {out}");
    for p in [&ours, &theirs] {
        assert!(
            wait_no_sas(p, Duration::from_secs(10)),
            "{} kept SAs: {:?}",
            p.label(),
            p.sas()
        );
    }
    cap.stop();
    if c.big > 0 {
        let skf = cap.lines(SKF_FILTER);
        let from = |a: &str| {
            skf.iter()
                .filter(|l| l.contains(&format!("{a}.4500 >")))
                .count()
        };
        let (ga, gb) = match c.outer {
            Family::V4 => (addr::GW1_V4, addr::GW2_V4),
            Family::V6 => (addr::GW1_V6, addr::GW2_V6),
        };
        assert!(
            from(ga) >= 2 && from(gb) >= 2,
            "expected IKE_AUTH in several SKF fragments from both sides, got {} from Rampart and \
             {} from strongSwan:\n{}",
            from(ga),
            from(gb),
            skf.join("\n")
        );
        assert!(
            slog.contains("received fragment #1"),
            "strongSwan did not reassemble fragments:\n{slog}"
        );
    }
}

macro_rules! tunnel {
    ($name:ident, $prefix:literal, $kind:expr, $ids:expr, $outer:expr, $init:expr, $big:expr) => {
        #[test]
        fn $name() {
            tunnel(&Case {
                prefix: $prefix,
                kind: $kind,
                ids: $ids,
                outer: $outer,
                rampart_initiates: $init,
                big: $big,
            });
        }
    };
}

const INITIATOR: bool = true;
const RESPONDER: bool = false;

tunnel!(
    rsa_fqdn_initiator,
    "crsi",
    KeyKind::Rsa2048,
    Ids::Fqdn,
    Family::V4,
    INITIATOR,
    0
);
tunnel!(
    rsa_dn_responder,
    "crsr",
    KeyKind::Rsa2048,
    Ids::Dn,
    Family::V4,
    RESPONDER,
    0
);
tunnel!(
    ecdsa_dn_initiator,
    "ceci",
    KeyKind::EcdsaP256,
    Ids::Dn,
    Family::V4,
    INITIATOR,
    0
);
tunnel!(
    ecdsa_fqdn_responder,
    "cecr",
    KeyKind::EcdsaP256,
    Ids::Fqdn,
    Family::V4,
    RESPONDER,
    0
);
tunnel!(
    ed25519_fqdn_initiator,
    "cedi",
    KeyKind::Ed25519,
    Ids::Fqdn,
    Family::V4,
    INITIATOR,
    0
);
tunnel!(
    ed25519_dn_responder,
    "cedr",
    KeyKind::Ed25519,
    Ids::Dn,
    Family::V4,
    RESPONDER,
    0
);
tunnel!(
    fragments_ipv4_initiator,
    "cfr4",
    KeyKind::Rsa3072,
    Ids::Fqdn,
    Family::V4,
    INITIATOR,
    40
);
tunnel!(
    fragments_ipv6_responder,
    "cfr6",
    KeyKind::Rsa3072,
    Ids::Dn,
    Family::V6,
    RESPONDER,
    40
);

/// Who is refused in a failure case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// strongSwan's certificate is in Rampart's CRL (strongSwan initiates, Rampart refuses).
    SwanRevoked,
    /// Rampart's certificate is in strongSwan's CRL (Rampart initiates, strongSwan refuses).
    RampartRevoked,
    /// strongSwan's certificate is from a CA Rampart does not trust (strongSwan initiates).
    UnknownCa,
}

fn refused(prefix: &str, what: Refusal) {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net(prefix);
    let (d1, d2) = (topo.subdir("gw1"), topo.subdir("gw2"));
    let kind = KeyKind::EcdsaP256;
    let p = pki(kind, "Rampart Test");
    let f1 = issue(&p, kind, 1, 0, &d1);
    let f2 = if what == Refusal::UnknownCa {
        // Same names, another CA: Rampart's trust store does not know its root.
        let other = pki(kind, "Elsewhere");
        let mut f = issue(&other, kind, 2, 0, &d2);
        write(&d2.join("root.pem"), p.root.cert_pem().as_bytes());
        f.root = d2.join("root.pem");
        f
    } else {
        issue(&p, kind, 2, 0, &d2)
    };
    let crl_file = |dir: &Path, serial: &[u8]| {
        let f = dir.join("inter.crl");
        // The end entities are issued by the intermediate: its CRL revokes them.
        write(&f, crl(&p.inter, 1, &[serial]).as_bytes());
        f
    };
    let rampart_initiates = what == Refusal::RampartRevoked;
    let v1 = View {
        gw: 1,
        outer: Family::V4,
        ids: Ids::Fqdn,
        files: &f1,
        crl: (what == Refusal::SwanRevoked).then(|| crl_file(&d1, &f2.serial)),
        start: rampart_initiates,
        fragment_size: None,
        encap: false,
    };
    let v2 = View {
        gw: 2,
        outer: Family::V4,
        ids: Ids::Fqdn,
        files: &f2,
        crl: (what == Refusal::RampartRevoked).then(|| crl_file(&d2, &f1.serial)),
        start: false,
        fragment_size: None,
        encap: false,
    };
    let tun = format!("{prefix}t1");
    let (ours, theirs) = if rampart_initiates {
        let s = start_charon(&topo.gw2, &d2, &v2);
        (start_rampart(&topo.gw1, &d1, &v1, &tun), s)
    } else {
        let r = start_rampart(&topo.gw1, &d1, &v1, &tun);
        let s = start_charon(&topo.gw2, &d2, &v2);
        let out = s.initiate();
        assert!(!out.ok(), "strongSwan's initiate succeeded: {out}");
        (r, s)
    };
    // The refusing side says why; the refused one learns AUTHENTICATION_FAILED.
    let (rwant, swant): (&str, &str) = match what {
        Refusal::SwanRevoked => (
            "certificate \"C=CH, O=Rampart Test, CN=gw2\" (serial 12) is revoked by the CRL of \
             \"C=CH, O=Rampart Test, CN=Intermediate CA\"",
            "received AUTHENTICATION_FAILED notify error",
        ),
        Refusal::UnknownCa => (
            "certificate of 'gw2.example.org' refused: unknown issuer",
            "received AUTHENTICATION_FAILED notify error",
        ),
        Refusal::RampartRevoked => ("AUTHENTICATION_FAILED", "certificate was revoked"),
    };
    let logged = testbed::wait_until(Duration::from_secs(15), || {
        ours.log().contains(rwant) && theirs.log().contains(swant)
    });
    assert!(
        logged,
        "expected Rampart to log {rwant:?} and strongSwan {swant:?}\n--- Rampart ---\n{}\n--- strongSwan ---\n{}",
        ours.log(),
        theirs.log()
    );
    for p in [&ours, &theirs] {
        assert!(
            wait_no_sas(p, Duration::from_secs(10)),
            "{} kept SAs: {:?}",
            p.label(),
            p.sas()
        );
    }
}

#[test]
fn revoked_strongswan_cert_refused_by_rampart() {
    refused("crvs", Refusal::SwanRevoked);
}

#[test]
fn revoked_rampart_cert_refused_by_strongswan() {
    refused("crvr", Refusal::RampartRevoked);
}

#[test]
fn unknown_ca_refused_by_rampart() {
    refused("cuca", Refusal::UnknownCa);
}

/// Rampart <-> Rampart with ECDSA certificates and DN identities, `daemon.fragment_size = 576`
/// so that IKE_AUTH goes in fragments both ways: up, ping both ways; then gw1's CRL revokes gw2,
/// `rampart reload` on gw1 keeps the running SA, and gw2's next attempt is refused.
#[test]
fn rampart_pair_with_certificates_and_crl_reload() {
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS) {
        return;
    }
    let prefix = "cpair";
    let topo = Topology::net2net(prefix);
    let mut cap = Capture::start(&topo.gw1, OUTER_IF, &topo.dir().path().join("outer.pcap"));
    let (d1, d2) = (topo.subdir("gw1"), topo.subdir("gw2"));
    let kind = KeyKind::EcdsaP256;
    let p = pki(kind, "Rampart Test");
    let (f1, f2) = (issue(&p, kind, 1, 0, &d1), issue(&p, kind, 2, 0, &d2));
    let crl_path = d1.join("inter.crl");
    write(&crl_path, crl(&p.inter, 1, &[]).as_bytes());
    let v1 = View {
        gw: 1,
        outer: Family::V4,
        ids: Ids::Dn,
        files: &f1,
        crl: Some(crl_path.clone()),
        start: false,
        fragment_size: Some(576),
        encap: true,
    };
    let v2 = View {
        gw: 2,
        outer: Family::V4,
        ids: Ids::Dn,
        files: &f2,
        crl: None,
        start: true,
        fragment_size: Some(576),
        encap: true,
    };
    let r1 = start_rampart(&topo.gw1, &d1, &v1, "cpairt1");
    let r2 = start_rampart(&topo.gw2, &d2, &v2, "cpairt2");
    assert_up(&r1, &r2, Duration::from_secs(20));
    for (from, to) in [(&topo.h1, addr::H2_V4), (&topo.h2, addr::H1_V4)] {
        let out = ping_from(from, None, to, 2);
        assert!(out.ok(), "ping {} -> {to}: {out}", from.name());
    }
    assert!(r1
        .log()
        .contains("authenticated with certificate 'C=CH, O=Rampart Test, CN=gw2'"));
    cap.stop();
    let skf = cap.lines(SKF_FILTER);
    for a in [addr::GW1_V4, addr::GW2_V4] {
        let n = skf
            .iter()
            .filter(|l| l.contains(&format!("{a}.4500 >")))
            .count();
        assert!(n >= 2, "{a} sent {n} SKF fragments:\n{}", skf.join("\n"));
    }

    // The operator sees our certificate (with its key), the intermediate we send, the CA.
    let Peer::Rampart(d) = &r1 else {
        unreachable!()
    };
    let out = d.cli(&["list-certs", "--json"]);
    assert!(out.ok(), "rampart list-certs: {out}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let listed: Vec<(String, bool)> = v["certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .map(|c| {
            (
                c["subject"].as_str().unwrap_or_default().to_string(),
                c["has_private_key"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    let want = [
        ("C=CH, O=Rampart Test, CN=gw1", true),
        ("C=CH, O=Rampart Test, CN=Intermediate CA", false),
        ("C=CH, O=Rampart Test, CN=Root CA", false),
    ];
    assert_eq!(
        listed,
        want.map(|(s, k)| (s.to_string(), k)),
        "{}",
        out.stdout
    );

    // Revoke gw2 and reload gw1: the running SA stays (nothing in the connection changed),
    // gw2's next authentication is refused.
    write(&crl_path, crl(&p.inter, 2, &[&f2.serial]).as_bytes());
    let Peer::Rampart(d) = &r1 else {
        unreachable!()
    };
    let out = d.cli(&["reload"]);
    assert!(out.ok(), "rampart reload: {out}");
    assert_eq!(r1.sas().len(), 1, "reload dropped the unchanged connection");
    let out = r2.terminate();
    assert!(out.ok(), "terminate: {out}");
    assert!(wait_no_sas(&r1, Duration::from_secs(10)));
    let out = r2.initiate();
    let refused = testbed::wait_until(Duration::from_secs(15), || {
        r1.log().contains("is revoked by the CRL of") && r2.log().contains("AUTHENTICATION_FAILED")
    });
    assert!(
        refused,
        "after the CRL update gw2 was not refused (initiate: {out})\n--- gw1 ---\n{}\n--- gw2 ---\n{}",
        r1.log(),
        r2.log()
    );
    assert!(wait_no_sas(&r1, Duration::from_secs(10)) && wait_no_sas(&r2, Duration::from_secs(10)));
}
