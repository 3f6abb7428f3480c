//! A per-test work directory for configs, logs, sockets and captures.

use std::path::{Path, PathBuf};

/// Root of all test work directories.
pub const ROOT: &str = "/tmp/rampart-tests";

/// `/tmp/rampart-tests/<prefix>`: emptied when created, removed on drop unless the environment
/// has `TESTBED_KEEP=1` (then its path is printed, for a post-mortem).
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Creates (or empties) the directory for the test with this prefix.
    #[track_caller]
    pub fn new(prefix: &str) -> TestDir {
        let path = Path::new(ROOT).join(prefix);
        if path.exists() {
            if let Err(e) = std::fs::remove_dir_all(&path) {
                panic!("cannot empty stale test dir {}: {e}", path.display());
            }
        }
        if let Err(e) = std::fs::create_dir_all(&path) {
            panic!("cannot create test dir {}: {e}", path.display());
        }
        TestDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A subdirectory, created if missing.
    #[track_caller]
    pub fn subdir(&self, name: &str) -> PathBuf {
        let p = self.path.join(name);
        if let Err(e) = std::fs::create_dir_all(&p) {
            panic!("cannot create {}: {e}", p.display());
        }
        p
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::env::var("TESTBED_KEEP").as_deref() == Ok("1") {
            eprintln!("testbed: keeping {}", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Writes `contents` to `path`, panicking with the path on failure.
#[track_caller]
pub fn write_file(path: &Path, contents: &str) {
    if let Err(e) = std::fs::write(path, contents) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// Reads a log file; a missing file reads as a note instead of failing.
pub fn read_log(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read {}: {e}>", path.display()))
}

/// Prints the last `max_lines` lines of a log to stderr under a header (used by guards when the
/// test is panicking, so that a CI failure shows what happened).
pub fn dump_log(title: &str, text: &str, max_lines: usize) {
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(max_lines);
    eprintln!(
        "===== {title} ({} lines{}) =====",
        lines.len(),
        if skip > 0 {
            format!(", first {skip} omitted")
        } else {
            String::new()
        }
    );
    for l in &lines[skip..] {
        eprintln!("{l}");
    }
    eprintln!("===== end of {title} =====");
}
