//! What several config test files share: a private temporary directory, files written with a
//! mode, and a valid connection to build cases around. (Each test binary uses part of it.)
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `tag` names the test (the directory is `rampart-config-TAG-PID-N`).
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "rampart-config-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `content` to `path` with permissions `mode`.
pub fn write(path: &Path, content: &[u8], mode: u32) {
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A valid connection to build cases around (lines 1-11); a child's further keys can follow
/// it, from line 12 on.
pub const CONN: &str = r#"[connections.a]
remote_addrs = ["192.0.2.100"]
[connections.a.local]
auth = "psk"
id = "moon.example.org"
[connections.a.remote]
auth = "psk"
id = "carol.example.org"
[connections.a.children.net]
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/25"]
"#;
