//! Cryptographic transforms for IKEv2 and ESP, thin over `aws-lc-rs`.
//!
//! This crate maps IANA transform identifiers (RFC 7296 §3.3.2, the IANA "IKEv2 Parameters"
//! registry) to implementations, and implements the IKEv2 key derivation (RFC 7296 §2.13, §2.14,
//! §2.17). It knows nothing of packets or protocol state. No cipher is implemented here: every
//! primitive comes from `aws-lc-rs`.
//!
//! Key material lives in [`SecretBytes`] (zeroized on drop, redacted in `Debug`).
//!
//! Modules: [`ids`] (transform IDs and names), [`prf`] (PRFs, prf+), [`kdf`] (SKEYSEED, SK_*,
//! KEYMAT), [`cipher`] (AEAD and CBC + HMAC for the Encrypted payload and ESP), [`integ`]
//! (truncated HMACs), [`ke`] (Curve25519, ECP and MODP key exchange), [`proposal`] (strongSwan
//! proposal strings), [`digest`] (plain hashes), [`rng`] (injected randomness), [`secret`].

pub mod cipher;
pub mod digest;
pub mod error;
mod hexconst;
pub mod ids;
pub mod integ;
pub mod kdf;
pub mod ke;
pub mod prf;
pub mod proposal;
pub mod rng;
pub mod secret;
pub mod sign;

pub use cipher::Cipher;
pub use error::CryptoError;
pub use ids::{EncrAlg, EncrId, EsnId, IntegId, KeId, PrfId, TransformType};
pub use integ::Integ;
pub use ke::KeyExchange;
pub use prf::Prf;
pub use proposal::{algorithms, supported, AlgorithmInfo, ProposalSpec, Protocol, Suite};
pub use rng::{DeterministicRandom, Random, SystemRandom};
pub use secret::{ct_eq, SecretBytes};
