//! A network namespace guard: created by name, deleted by name on drop (also when the test panics).

use std::process::Command;

use crate::cmd::{self, Output};

/// A named network namespace (`ip netns add`), with `lo` up and duplicate address detection off.
/// Dropping it runs `ip netns del NAME`; processes started in it must be stopped first (the
/// guards for charon, rampart and tcpdump do that in their own drop, which runs earlier when they
/// are declared later).
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `name`. A leftover namespace of that name from an interrupted run is
    /// deleted first if no process lives in it; if one does, this panics (another run is using it).
    #[track_caller]
    pub fn new(name: &str) -> Netns {
        if exists(name) {
            let pids = cmd::run_args("ip", &["netns", "pids", name]);
            if !pids.stdout.trim().is_empty() {
                panic!(
                    "network namespace {name} exists and has processes ({}): another test run is \
                     using it, or an interrupted run left them: stop them by PID (`kill $(ip netns \
                     pids {name})`), then `ip netns del {name}`",
                    pids.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
                );
            }
            cmd::run_args("ip", &["netns", "del", name]).expect_ok();
        }
        cmd::run_args("ip", &["netns", "add", name]).expect_ok();
        let ns = Netns {
            name: name.to_string(),
        };
        ns.ip(&["link", "set", "lo", "up"]);
        ns.sysctl("net.ipv6.conf.all.accept_dad", "0");
        ns.sysctl("net.ipv6.conf.default.accept_dad", "0");
        ns
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A `Command` for `ip netns exec NAME program`, to add arguments and spawn.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `args[0] args[1..]` inside the namespace and collects its output (never panics).
    pub fn run(&self, args: &[&str]) -> Output {
        match args.split_first() {
            Some((program, rest)) => cmd::run(self.command(program).args(rest)),
            None => cmd::run(&mut Command::new("true")),
        }
    }

    /// Runs a command inside the namespace; panics with its output if it fails; returns stdout.
    #[track_caller]
    pub fn run_ok(&self, args: &[&str]) -> String {
        self.run(args).expect_ok().stdout
    }

    /// `ip -n NAME args...`; panics on failure.
    #[track_caller]
    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["-n", self.name.as_str()];
        a.extend_from_slice(args);
        cmd::run_args("ip", &a).expect_ok().stdout
    }

    /// Sets a sysctl inside the namespace.
    #[track_caller]
    pub fn sysctl(&self, key: &str, value: &str) {
        self.run_ok(&["sysctl", "-qw", &format!("{key}={value}")]);
    }

    /// Turns on IPv4 and IPv6 forwarding.
    #[track_caller]
    pub fn enable_forwarding(&self) {
        self.sysctl("net.ipv4.ip_forward", "1");
        self.sysctl("net.ipv6.conf.all.forwarding", "1");
    }

    /// Adds an address (`a.b.c.d/len` or `x::y/len`) to `dev`; IPv6 addresses get `nodad` so they
    /// are usable at once.
    #[track_caller]
    pub fn add_addr(&self, dev: &str, cidr: &str) {
        if cidr.contains(':') {
            self.ip(&["-6", "addr", "add", cidr, "dev", dev, "nodad"]);
        } else {
            self.ip(&["addr", "add", cidr, "dev", dev]);
        }
    }

    /// Adds a route to `dst` (a prefix or `default`) via the gateway `via`.
    #[track_caller]
    pub fn add_route(&self, dst: &str, via: &str) {
        let family = if via.contains(':') { "-6" } else { "-4" };
        self.ip(&[family, "route", "add", dst, "via", via]);
    }

    /// Creates a veth pair directly inside two namespaces (no name ever appears in the host
    /// namespace) and brings both ends up. Interface names must be at most 15 characters.
    #[track_caller]
    pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
        assert!(
            a_if.len() <= 15 && b_if.len() <= 15,
            "interface names must be <= 15 chars"
        );
        cmd::run_args(
            "ip",
            &[
                "link", "add", a_if, "netns", &a.name, "type", "veth", "peer", "name", b_if,
                "netns", &b.name,
            ],
        )
        .expect_ok();
        a.ip(&["link", "set", a_if, "up"]);
        b.ip(&["link", "set", b_if, "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = cmd::run_args("ip", &["netns", "del", &self.name]);
        if !out.ok() {
            eprintln!("testbed: could not delete namespace: {out}");
        }
    }
}

/// Whether a namespace of this name exists (`/run/netns/NAME`).
pub fn exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}
