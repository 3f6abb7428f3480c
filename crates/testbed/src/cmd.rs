//! Running external commands (`ip`, `swanctl`, `tcpdump`, ...) and keeping what they printed.

use std::fmt;
use std::process::Command;

/// What a finished command printed, and how it exited.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for messages.
    pub cmdline: String,
    /// The exit code (`None` if killed by a signal or if it could not be started).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded (or the spawn error).
    pub stderr: String,
}

impl Output {
    /// Whether the command exited with status 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the command line and everything it printed unless it exited with status 0.
    #[track_caller]
    pub fn expect_ok(self) -> Output {
        assert!(self.ok(), "command failed: {self}");
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` exited with {:?}", self.cmdline, self.code)?;
        if !self.stdout.trim().is_empty() {
            write!(f, "\n--- stdout ---\n{}", self.stdout.trim_end())?;
        }
        if !self.stderr.trim().is_empty() {
            write!(f, "\n--- stderr ---\n{}", self.stderr.trim_end())?;
        }
        Ok(())
    }
}

/// Renders a command line for messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` to completion and collects its output. Never panics: a command that cannot be
/// started yields `code: None` and the error in `stderr`.
pub fn run(cmd: &mut Command) -> Output {
    let cmdline = describe(cmd);
    match cmd.output() {
        Ok(o) => Output {
            cmdline,
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
        Err(e) => Output {
            cmdline,
            code: None,
            stdout: String::new(),
            stderr: format!("cannot start: {e}"),
        },
    }
}

/// Runs `program args...` and collects its output.
pub fn run_args(program: &str, args: &[&str]) -> Output {
    run(Command::new(program).args(args))
}

/// Sends `signal` (e.g. "TERM") to `pid` with kill(1). Returns whether kill succeeded.
/// The workspace forbids `unsafe` outside the `os` crate, so no libc::kill here.
pub fn signal(pid: u32, signal: &str) -> bool {
    run_args("kill", &[&format!("-{signal}"), &pid.to_string()]).ok()
}
