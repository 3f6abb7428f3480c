//! Where the engine gets secrets and trust: the daemon implements this over its configuration
//! and the `pki` crate, tests over maps. The engine never reads files and never parses X.509.

use std::sync::Arc;

use crypto::sign::SigningKey;
use crypto::SecretBytes;
use wire::Identity;

/// What a peer's certificate must allow (extended key usage rules, RFC 4945 §5.1.3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertUsage {
    /// The peer is a gateway we connect to.
    Server,
    /// The peer is a client connecting to us.
    Client,
    /// Either (net to net).
    Any,
}

/// Our certificate and key for public-key authentication.
#[derive(Clone)]
pub struct LocalCert {
    /// DER certificates, end entity first, then intermediates to send (RFC 7296 §3.6).
    pub chain: Vec<Vec<u8>>,
    /// The end entity's private key.
    pub key: Arc<SigningKey>,
    /// The identity the certificate proves when the connection names none: its subject DN
    /// (ID_DER_ASN1_DN), as strongSwan does.
    pub identity: Identity,
}

impl core::fmt::Debug for LocalCert {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalCert")
            .field("chain", &self.chain.len())
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// A peer certificate chain that verified.
#[derive(Debug, Clone)]
pub struct PeerCert {
    /// The end entity's SubjectPublicKeyInfo (DER), to verify the AUTH signature with.
    pub spki: Vec<u8>,
    /// Its subject, for logs.
    pub subject: String,
}

/// A source of credentials.
pub trait Credentials: Send {
    /// The pre-shared key for an IKE SA between `local` and `remote` identities, if any.
    /// `remote` is `None` when the peer's identity is not known yet (an initiator configured to
    /// accept any identity): then only our identity selects the key.
    fn psk(&self, local: &Identity, remote: Option<&Identity>) -> Option<SecretBytes>;

    /// Our certificate and key for identity `local` (`None`: the connection names no identity;
    /// use the default certificate).
    fn local_cert(&self, local: Option<&Identity>) -> Option<LocalCert> {
        let _ = local;
        None
    }

    /// SHA-1 hashes of the trusted CAs' public keys, for CERTREQ (RFC 7296 §3.7).
    fn ca_hashes(&self) -> Vec<[u8; 20]> {
        Vec::new()
    }

    /// A readable form of an identity for logs (e.g. a DN as `C=CH, O=..., CN=...`).
    fn describe(&self, id: &Identity) -> String {
        id.to_string()
    }

    /// The password of EAP user `user` (a server checking a client, or our own as a client).
    fn eap_password(&self, user: &str) -> Option<zeroize::Zeroizing<String>> {
        let _ = user;
        None
    }

    /// Verifies the peer's certificates (end entity first) up to a trusted CA, including
    /// revocation and usage, and that the end entity proves `id` (RFC 4945 §3). An error is a
    /// one-line reason for the log.
    fn verify_peer(
        &self,
        id: &Identity,
        certs: &[Vec<u8>],
        usage: CertUsage,
    ) -> Result<PeerCert, String> {
        let _ = (id, certs, usage);
        Err("no certificate authorities are configured".into())
    }
}

/// Address pools for virtual IPs (RFC 7296 §2.19). The daemon keeps leases per identity, so a
/// reconnecting client gets its address back, and persists them.
pub trait Pools: Send {
    /// An address from `pool` for `peer`: of the family of `wish`; `wish` itself if it is
    /// specific, in the pool and free (or already this peer's). `None` when the pool is
    /// exhausted or has no address of that family.
    fn acquire(
        &mut self,
        pool: &str,
        peer: &Identity,
        wish: std::net::IpAddr,
    ) -> Option<std::net::IpAddr>;
    /// The peer's IKE SA is gone: the address may go to others (the lease is remembered).
    fn release(&mut self, pool: &str, peer: &Identity, addr: std::net::IpAddr);
}
