//! A spawned background process, stopped by its PID: SIGTERM, a grace period, then SIGKILL.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use crate::cmd;

/// A child process we started (charon, rampart, tcpdump). `ip netns exec` executes its command
/// in place, so the PID is the tool's own PID.
#[derive(Debug)]
pub struct Process {
    what: String,
    child: Child,
    status: Option<ExitStatus>,
}

impl Process {
    /// Wraps a spawned child; `what` names it in messages.
    pub fn new(what: impl Into<String>, child: Child) -> Process {
        Process {
            what: what.into(),
            child,
            status: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has exited (reaps it), else `None`.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.exited().is_none()
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM, waits up to `grace`, then SIGKILLs. Returns the exit status and whether the
    /// process exited on SIGTERM within the grace period (false: it had to be killed).
    pub fn stop(&mut self, grace: Duration) -> (Option<ExitStatus>, bool) {
        if let Some(s) = self.exited() {
            return (Some(s), true);
        }
        cmd::signal(self.pid(), "TERM");
        if let Some(s) = self.wait_exit(grace) {
            return (Some(s), true);
        }
        eprintln!(
            "testbed: {} (pid {}) ignored SIGTERM for {grace:?}; killing",
            self.what,
            self.pid()
        );
        let _ = self.child.kill();
        self.status = self.child.wait().ok();
        (self.status, false)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}
