//! Where the engine gets secrets: the daemon implements this over its configuration, tests over
//! a map. The engine never reads files.

use crypto::SecretBytes;
use wire::Identity;

/// A source of credentials.
pub trait Credentials: Send {
    /// The pre-shared key for an IKE SA between `local` and `remote` identities, if any.
    /// `remote` is `None` when the peer's identity is not known yet (an initiator configured to
    /// accept any identity): then only our identity selects the key.
    fn psk(&self, local: &Identity, remote: Option<&Identity>) -> Option<SecretBytes>;
}
