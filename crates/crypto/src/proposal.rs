//! Proposal strings in strongSwan's syntax (`aes256gcm16-prfsha256-x25519`, ESP `aes128-sha256`)
//! and the algorithm sets they stand for.
//!
//! A string names one proposal holding one or more algorithms of each transform type, e.g.
//! `aes128-aes256-sha256-sha384-ecp256-x25519`. For IKE, when no `prf…` keyword is given the
//! PRFs are derived from the integrity algorithms (strongSwan's rule), and AEAD proposals must
//! name a PRF. ESP proposals default to `noesn`.
//!
//! AH proposals (RFC 4302; RFC 7296 §3.3.3: INTEG and ESN, KE optional) name integrity
//! algorithms only, e.g. `sha256` or `sha256-sha512-ecp256-esn`: no encryption, no PRF.

mod keywords;

pub use keywords::{algorithms, supported, AlgorithmInfo};

use keywords::{keyword, lookup, prf_for_integ, Transform};

use crate::{Cipher, CryptoError, EncrAlg, EncrId, EsnId, IntegId, KeId, PrfId};

/// Which protocol a proposal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// IKE SA proposal (needs ENCR, PRF, KE; INTEG unless AEAD).
    Ike,
    /// ESP proposal (needs ENCR; INTEG unless AEAD; KE optional = PFS; ESN defaulting to no).
    Esp,
    /// AH proposal (RFC 4302; RFC 7296 §3.3.3): INTEG only, no ENCR and no PRF; KE optional =
    /// PFS; ESN defaulting to no.
    Ah,
}

impl core::fmt::Display for Protocol {
    /// "IKE", "ESP" or "AH", as RFC 7296 §3.3.1 names the protocols.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Protocol::Ike => "IKE",
            Protocol::Esp => "ESP",
            Protocol::Ah => "AH",
        })
    }
}

/// One proposal: acceptable algorithms per transform type, in preference order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProposalSpec {
    /// IKE, ESP or AH.
    pub protocol: Protocol,
    /// Encryption algorithms (always empty for AH).
    pub encr: Vec<EncrAlg>,
    /// PRFs (IKE only).
    pub prf: Vec<PrfId>,
    /// Integrity algorithms (empty for AEAD-only proposals).
    pub integ: Vec<IntegId>,
    /// Key exchange methods (IKE: at least one; ESP: PFS groups, may be empty).
    pub ke: Vec<KeId>,
    /// ESN choices (ESP and AH; `[NoEsn]` unless the string says otherwise).
    pub esn: Vec<EsnId>,
}

/// One chosen algorithm of each type: what a negotiation settles on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Suite {
    /// IKE, ESP or AH.
    pub protocol: Protocol,
    /// The encryption algorithm. For AH a placeholder, [`Suite::AH_NO_ENCR`] (ENCR_NULL without
    /// a key length): AH has no encryption transform (RFC 7296 §3.3.3), so this is never
    /// encoded in an SA payload, takes no key material and is not printed.
    pub encr: EncrAlg,
    /// The PRF (IKE).
    pub prf: Option<PrfId>,
    /// The integrity algorithm (`None` for AEAD; always set for AH).
    pub integ: Option<IntegId>,
    /// The key exchange method (IKE; ESP and AH with PFS).
    pub ke: Option<KeId>,
    /// ESN (ESP and AH).
    pub esn: Option<EsnId>,
}

fn invalid(msg: String) -> CryptoError {
    CryptoError::InvalidProposal(msg)
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

impl ProposalSpec {
    /// Parses one strongSwan proposal string for `protocol`. Errors name the offending keyword
    /// and say what is allowed.
    ///
    /// Rules (strongSwan's): keywords are separated by `-`, case-insensitive, duplicates are
    /// dropped. IKE without a `prf…` keyword takes its PRFs from the integrity algorithms
    /// (`sha256` gives `prfsha256`); AEAD proposals carry no integrity algorithm (any given only
    /// serves to derive the PRF), so an IKE AEAD proposal needs a PRF from one or the other.
    /// IKE needs a key exchange method; ESP takes none (no PFS) or several. ESP defaults to
    /// `noesn`; ESP takes no PRF, IKE no ESN and no `null` encryption (RFC 8247 §2.1). AEAD and
    /// non-AEAD encryption cannot be mixed. AH (RFC 7296 §3.3.3) takes integrity algorithms
    /// (at least one), optional key exchange methods and ESN, like ESP, but no encryption
    /// algorithm (not even `null`) and no PRF.
    pub fn parse(protocol: Protocol, s: &str) -> Result<Self, CryptoError> {
        let mut spec = ProposalSpec {
            protocol,
            encr: Vec::new(),
            prf: Vec::new(),
            integ: Vec::new(),
            ke: Vec::new(),
            esn: Vec::new(),
        };
        if s.trim().is_empty() {
            return Err(invalid("empty proposal".into()));
        }
        for word in s.trim().split('-') {
            let t = lookup(word).ok_or_else(|| {
                let shown: String = word
                    .chars()
                    .flat_map(char::escape_default)
                    .take(40)
                    .collect();
                let shown = if shown.is_empty() {
                    "(empty)".to_string()
                } else {
                    shown
                };
                invalid(format!(
                    "unknown algorithm '{shown}' (allowed: {})",
                    keywords::allowed_list(protocol)
                ))
            })?;
            match (protocol, t) {
                (Protocol::Ah, Transform::Encr(_)) => {
                    return Err(invalid(format!(
                        "'{word}': AH proposals carry no encryption (AH only authenticates, \
                         RFC 4302; remove it, or use an ESP proposal to encrypt)"
                    )))
                }
                (Protocol::Ah, Transform::Prf(_)) => {
                    return Err(invalid(format!(
                        "'{word}': AH proposals take no PRF (remove it)"
                    )))
                }
                (Protocol::Esp, Transform::Prf(_)) => {
                    return Err(invalid(format!(
                        "'{word}': ESP proposals take no PRF (remove it)"
                    )))
                }
                (Protocol::Ike, Transform::Esn(_)) => {
                    return Err(invalid(format!(
                        "'{word}': ESN applies to ESP proposals only"
                    )))
                }
                // RFC 8247 §2.1: ENCR_NULL MUST NOT be used for IKE.
                (Protocol::Ike, Transform::Encr(e)) if e.id == EncrId::Null => {
                    return Err(invalid(format!(
                        "'{word}': NULL encryption is for ESP proposals only (e.g. null-sha256)"
                    )))
                }
                (_, Transform::Encr(e)) => push_unique(&mut spec.encr, e),
                (_, Transform::Integ(i)) => push_unique(&mut spec.integ, i),
                (_, Transform::Prf(p)) => push_unique(&mut spec.prf, p),
                (_, Transform::Ke(k)) => push_unique(&mut spec.ke, k),
                (_, Transform::Esn(e)) => push_unique(&mut spec.esn, e),
            }
        }
        spec.finish()?;
        Ok(spec)
    }

    /// Applies the defaults and checks the rules listed at [`ProposalSpec::parse`].
    fn finish(&mut self) -> Result<(), CryptoError> {
        if self.protocol == Protocol::Ah {
            if self.integ.is_empty() {
                return Err(invalid(format!(
                    "an AH proposal needs an integrity algorithm (add e.g. sha256; allowed: {})",
                    keywords::allowed_list(Protocol::Ah)
                )));
            }
            if self.esn.is_empty() {
                self.esn.push(EsnId::NoEsn);
            }
            return Ok(());
        }
        if self.encr.is_empty() {
            return Err(invalid(format!(
                "no encryption algorithm (allowed: {})",
                keywords::allowed_list(self.protocol)
            )));
        }
        let aead = self.encr.iter().filter(|e| Cipher::is_aead(**e)).count();
        if aead != 0 && aead != self.encr.len() {
            let names: Vec<&str> = self
                .encr
                .iter()
                .map(|e| keyword(Transform::Encr(*e)))
                .collect();
            return Err(invalid(format!(
                "AEAD and non-AEAD encryption algorithms cannot be mixed in one proposal ({}); \
                 write two proposals",
                names.join(", ")
            )));
        }
        let aead = aead != 0;
        if self.protocol == Protocol::Ike && self.prf.is_empty() {
            for i in &self.integ {
                if let Some(p) = prf_for_integ(*i) {
                    push_unique(&mut self.prf, p);
                }
            }
        }
        if aead {
            self.integ.clear();
        } else if self.integ.is_empty() {
            return Err(invalid(
                "no integrity algorithm for non-AEAD encryption (add e.g. sha256)".into(),
            ));
        }
        match self.protocol {
            Protocol::Ike => {
                if self.prf.is_empty() {
                    return Err(invalid(
                        "an AEAD IKE proposal needs a PRF (add e.g. prfsha256)".into(),
                    ));
                }
                if self.ke.is_empty() {
                    return Err(invalid(
                        "an IKE proposal needs a key exchange method (add e.g. x25519 or ecp256)"
                            .into(),
                    ));
                }
            }
            Protocol::Esp | Protocol::Ah => {
                if self.esn.is_empty() {
                    self.esn.push(EsnId::NoEsn);
                }
            }
        }
        Ok(())
    }

    /// True when this proposal is *legacy*: it offers MODP-1024, or SHA-1 is its only PRF or its
    /// only integrity algorithm — what Windows' built-in IKEv2 client proposes by default
    /// (`aes256-sha1-modp1024`, ESP `aes256-sha1`). The configuration refuses legacy proposals
    /// unless its compatibility setting is on.
    ///
    /// The two rules differ on purpose. MODP-1024 (RFC 2409 group 2) gives about 80 bits of
    /// security and is precomputation-prone (RFC 8247 §2.4: SHOULD NOT); a proposal that merely
    /// *offers* it lets the peer pick it, so offering it is enough. HMAC-SHA1 is still a sound
    /// PRF and MAC (RFC 8247 §2.2-2.3 and RFC 8221 §6 keep it MUST-/SHOULD-): a proposal that
    /// also offers a SHA-2 algorithm is not legacy.
    pub fn is_legacy(&self) -> bool {
        self.ke.contains(&KeId::Modp1024)
            || (!self.prf.is_empty() && self.prf.iter().all(|p| *p == PrfId::HmacSha1))
            || (!self.integ.is_empty() && self.integ.iter().all(|i| *i == IntegId::HmacSha1_96))
    }

    /// The keywords of transforms this crate does not implement (parsing accepts them, e.g.
    /// `modp2048`). Empty when everything in the proposal is implemented.
    pub fn unsupported(&self) -> Vec<&'static str> {
        self.transforms()
            .filter(|t| !t.implemented())
            .map(keyword)
            .collect()
    }

    fn transforms(&self) -> impl Iterator<Item = Transform> + '_ {
        self.encr
            .iter()
            .map(|e| Transform::Encr(*e))
            .chain(self.integ.iter().map(|i| Transform::Integ(*i)))
            .chain(self.prf.iter().map(|p| Transform::Prf(*p)))
            .chain(self.ke.iter().map(|k| Transform::Ke(*k)))
            .chain(self.esn.iter().map(|e| Transform::Esn(*e)))
    }

    /// Whether the PRF list is exactly what the integrity list implies (then Display omits it).
    fn prf_is_derived(&self) -> bool {
        let mut derived = Vec::new();
        for i in &self.integ {
            if let Some(p) = prf_for_integ(*i) {
                push_unique(&mut derived, p);
            }
        }
        !derived.is_empty() && derived == self.prf
    }
}

/// Writes `words` joined by `-`, with a leading `-` unless first.
fn write_words<I: IntoIterator<Item = &'static str>>(
    f: &mut core::fmt::Formatter<'_>,
    first: &mut bool,
    words: I,
) -> core::fmt::Result {
    for w in words {
        if !*first {
            f.write_str("-")?;
        }
        f.write_str(w)?;
        *first = false;
    }
    Ok(())
}

impl core::fmt::Display for ProposalSpec {
    /// The canonical strongSwan string: encryption, integrity, PRF (omitted when derived from
    /// the integrity algorithms), key exchange, ESN (omitted when it is the `noesn` default).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut first = true;
        write_words(
            f,
            &mut first,
            self.encr.iter().map(|e| keyword(Transform::Encr(*e))),
        )?;
        write_words(
            f,
            &mut first,
            self.integ.iter().map(|i| keyword(Transform::Integ(*i))),
        )?;
        if !self.prf_is_derived() {
            write_words(
                f,
                &mut first,
                self.prf.iter().map(|p| keyword(Transform::Prf(*p))),
            )?;
        }
        write_words(
            f,
            &mut first,
            self.ke.iter().map(|k| keyword(Transform::Ke(*k))),
        )?;
        if self.esn != [EsnId::NoEsn] {
            write_words(
                f,
                &mut first,
                self.esn.iter().map(|e| keyword(Transform::Esn(*e))),
            )?;
        }
        Ok(())
    }
}

impl Suite {
    /// The `encr` placeholder of an AH suite: ENCR_NULL without a key length (never encoded).
    pub const AH_NO_ENCR: EncrAlg = EncrAlg::new(EncrId::Null, None);

    /// The protocol the suite was negotiated for: IKE, ESP or AH (what a Child SA carries).
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// True when the negotiated suite is *legacy* (see [`ProposalSpec::is_legacy`]): MODP-1024,
    /// PRF_HMAC_SHA1 or HMAC_SHA1_96.
    pub fn is_legacy(&self) -> bool {
        self.ke == Some(KeId::Modp1024)
            || self.prf == Some(PrfId::HmacSha1)
            || self.integ == Some(IntegId::HmacSha1_96)
    }
}

impl core::fmt::Display for Suite {
    /// strongSwan's syntax, e.g. `aes256gcm16-prfsha256-x25519` or `aes128-sha256`; an AH suite
    /// shows its integrity algorithm (and PFS group, ESN), e.g. `sha256`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let integ = self.integ.filter(|i| *i != IntegId::None);
        let ke = self.ke.filter(|k| *k != KeId::None);
        let encr = match self.protocol {
            Protocol::Ah => Vec::new(),
            _ => vec![self.encr],
        };
        let spec = ProposalSpec {
            protocol: self.protocol,
            encr,
            prf: self.prf.into_iter().collect(),
            integ: integ.into_iter().collect(),
            ke: ke.into_iter().collect(),
            esn: self.esn.into_iter().collect(),
        };
        spec.fmt(f)
    }
}

#[cfg(test)]
mod tests;
