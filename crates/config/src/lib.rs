//! The configuration file `rampart.toml` (docs/config.md): its schema, defaults and validation.
//!
//! [`Config::load`] reads and checks a file; every problem found is reported at once, each
//! naming the file, line, column and key path and saying what is allowed (see [`ConfigError`]).
//! The result is owned and typed: IKE proposals as [`crypto::ProposalSpec`], traffic selectors
//! as [`wire::TrafficSelector`], identities as [`wire::Identity`], keys as
//! [`crypto::SecretBytes`] (never printed).

mod duration;
mod error;
mod psk;
mod schema;
mod secret_file;
mod types;
mod walk;

use std::path::Path;

pub use error::{ConfigError, ConfigErrors, Location};
pub use secret_file::{read_protected_file, read_secret_file, MAX_SECRET_FILE};
pub use types::*;

/// Largest configuration file accepted.
pub const MAX_CONFIG_FILE: u64 = 4 * 1024 * 1024;

impl Config {
    /// Reads and validates the file at `path`. `secret_file` entries are resolved relative to
    /// the file's directory.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        let path = path.as_ref();
        let whole_file = |message: String| ConfigError {
            file: path.to_path_buf(),
            location: None,
            key: String::new(),
            message,
        };
        let meta = std::fs::metadata(path)
            .map_err(|e| whole_file(format!("cannot read configuration: {e}")))?;
        if meta.len() > MAX_CONFIG_FILE {
            return Err(whole_file(format!(
                "configuration is larger than {MAX_CONFIG_FILE} bytes"
            ))
            .into());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| whole_file(format!("cannot read configuration: {e}")))?;
        Self::parse(path, &text)
    }

    /// Validates `text` as if read from `path` (used in messages and to resolve
    /// `secret_file`).
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Config, ConfigErrors> {
        schema::parse(path.as_ref(), text)
    }

    /// The connection named `name`.
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }
}
