//! Proposal strings in strongSwan's syntax (`aes256gcm16-prfsha256-x25519`, ESP `aes128-sha256`)
//! and the algorithm sets they stand for.
//!
//! A string names one proposal holding one or more algorithms of each transform type, e.g.
//! `aes128-aes256-sha256-sha384-ecp256-x25519`. For IKE, when no `prf…` keyword is given the
//! PRFs are derived from the integrity algorithms (strongSwan's rule), and AEAD proposals must
//! name a PRF. ESP proposals default to `noesn`.

use crate::{CryptoError, EncrAlg, EsnId, IntegId, KeId, PrfId};

/// Which protocol a proposal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// IKE SA proposal (needs ENCR, PRF, KE; INTEG unless AEAD).
    Ike,
    /// ESP proposal (needs ENCR; INTEG unless AEAD; KE optional = PFS; ESN defaulting to no).
    Esp,
}

/// One proposal: acceptable algorithms per transform type, in preference order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProposalSpec {
    /// IKE or ESP.
    pub protocol: Protocol,
    /// Encryption algorithms.
    pub encr: Vec<EncrAlg>,
    /// PRFs (IKE only).
    pub prf: Vec<PrfId>,
    /// Integrity algorithms (empty for AEAD-only proposals).
    pub integ: Vec<IntegId>,
    /// Key exchange methods (IKE: at least one; ESP: PFS groups, may be empty).
    pub ke: Vec<KeId>,
    /// ESN choices (ESP only; `[NoEsn]` unless the string says otherwise).
    pub esn: Vec<EsnId>,
}

/// One chosen algorithm of each type: what a negotiation settles on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Suite {
    /// IKE or ESP.
    pub protocol: Protocol,
    /// The encryption algorithm.
    pub encr: EncrAlg,
    /// The PRF (IKE).
    pub prf: Option<PrfId>,
    /// The integrity algorithm (`None` for AEAD).
    pub integ: Option<IntegId>,
    /// The key exchange method (IKE; ESP with PFS).
    pub ke: Option<KeId>,
    /// ESN (ESP).
    pub esn: Option<EsnId>,
}

impl ProposalSpec {
    /// Parses one strongSwan proposal string for `protocol`. Errors name the offending keyword
    /// and say what is allowed.
    pub fn parse(protocol: Protocol, s: &str) -> Result<Self, CryptoError> {
        let _ = (protocol, s);
        unimplemented!("crypto helper")
    }
}

impl core::fmt::Display for ProposalSpec {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let _ = f;
        unimplemented!("crypto helper")
    }
}

impl core::fmt::Display for Suite {
    /// strongSwan's syntax, e.g. `aes256gcm16-prfsha256-x25519` or `aes128-sha256`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let _ = f;
        unimplemented!("crypto helper")
    }
}
