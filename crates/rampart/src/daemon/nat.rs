//! Forwarding and source NAT for road warriors (docs/config.md "Road warriors"): while a
//! connection hands out addresses, IP forwarding is on for the pools' families; addresses of
//! pools with `masquerade = true` are masqueraded when they leave through any interface but the
//! TUN device. nftables (`nft -f -`, table `inet rampart`, replaced whole in one transaction)
//! or, where `nft` is absent, iptables/ip6tables (chain `RAMPART-NAT` in table nat). The rules
//! are removed at shutdown and on reload when nothing masquerades any more.

use std::io::Write;
use std::process::{Command, Stdio};

/// The nftables table (family inet: IPv4 and IPv6 in one).
const NFT_TABLE: &str = "rampart";
/// The iptables chain.
const IPT_CHAIN: &str = "RAMPART-NAT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Nft,
    Iptables,
}

/// The installed NAT rules, if any.
#[derive(Debug, Default)]
pub struct Nat {
    active: Option<Backend>,
    /// What is installed: (source selector text, IPv4).
    rules: Vec<(String, bool)>,
}

/// `a.b.c.d/n` or `first-last` of a pool, as both tools accept it for a source match.
fn source_of(p: &config::Pool) -> String {
    match p.addrs.prefix {
        Some((a, len)) => format!("{a}/{len}"),
        None => format!("{}-{}", p.addrs.first, p.addrs.last),
    }
}

fn has_nft() -> bool {
    Command::new("nft")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn nft_script(script: &str) -> Result<(), String> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("nft: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("nft: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "nft -f -: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Turns on forwarding for a family (`/proc/sys/net/...`); left on at shutdown, as other
/// services may rely on it.
fn enable_forwarding(v4: bool) {
    let path = if v4 {
        "/proc/sys/net/ipv4/ip_forward"
    } else {
        "/proc/sys/net/ipv6/conf/all/forwarding"
    };
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim() == "1" => {}
        _ => match std::fs::write(path, b"1\n") {
            Ok(()) => tracing::info!("enabled forwarding ({path})"),
            Err(e) => tracing::error!("cannot enable forwarding ({path}): {e}"),
        },
    }
}

impl Nat {
    /// Applies `cfg`: forwarding for the families of pools in use, masquerading for those pools
    /// with `masquerade = true`; removes the rules when there are none.
    pub fn apply(&mut self, cfg: &config::Config) {
        let used: Vec<&config::Pool> = cfg
            .pool_connections()
            .flat_map(|c| c.pools.iter())
            .filter_map(|n| cfg.pool(n))
            .collect();
        for v4 in [true, false] {
            if used.iter().any(|p| p.addrs.is_ipv4() == v4) {
                enable_forwarding(v4);
            }
        }
        let mut rules: Vec<(String, bool)> = Vec::new();
        for p in used.iter().filter(|p| p.masquerade) {
            let r = (source_of(p), p.addrs.is_ipv4());
            if !rules.contains(&r) {
                rules.push(r);
            }
        }
        if rules == self.rules && self.active.is_some() {
            return;
        }
        self.remove();
        if rules.is_empty() {
            return;
        }
        let tun = &cfg.daemon.tun_name;
        let backend = if has_nft() {
            Backend::Nft
        } else {
            Backend::Iptables
        };
        let result = match backend {
            Backend::Nft => install_nft(&rules, tun),
            Backend::Iptables => install_iptables(&rules, tun),
        };
        // Recorded even on a partial failure, so that removal cleans up what got in.
        self.active = Some(backend);
        self.rules = rules;
        match result {
            Ok(()) => tracing::info!(
                "masquerading {} ({})",
                self.rules
                    .iter()
                    .map(|(s, _)| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                match backend {
                    Backend::Nft => "nftables table inet rampart",
                    Backend::Iptables => "iptables chain RAMPART-NAT",
                }
            ),
            Err(e) => tracing::error!("cannot install NAT rules: {e}"),
        }
    }

    /// Removes our rules (shutdown, or nothing masquerades any more).
    pub fn remove(&mut self) {
        let Some(backend) = self.active.take() else {
            return;
        };
        let result = match backend {
            Backend::Nft => run("nft", &["delete", "table", "inet", NFT_TABLE]),
            Backend::Iptables => {
                let mut r = Ok(());
                for (tool, v4) in [("iptables", true), ("ip6tables", false)] {
                    if !self.rules.iter().any(|(_, f)| *f == v4) {
                        continue;
                    }
                    let _ = run(tool, &["-t", "nat", "-D", "POSTROUTING", "-j", IPT_CHAIN]);
                    let _ = run(tool, &["-t", "nat", "-F", IPT_CHAIN]);
                    if let Err(e) = run(tool, &["-t", "nat", "-X", IPT_CHAIN]) {
                        r = Err(e);
                    }
                }
                r
            }
        };
        self.rules.clear();
        match result {
            Ok(()) => tracing::info!("NAT rules removed"),
            Err(e) => tracing::warn!("removing NAT rules: {e}"),
        }
    }
}

fn install_nft(rules: &[(String, bool)], tun: &str) -> Result<(), String> {
    let mut s = format!(
        "table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\ntable inet {NFT_TABLE} {{\n  \
         chain postrouting {{\n    type nat hook postrouting priority srcnat; policy accept;\n"
    );
    for (src, v4) in rules {
        let fam = if *v4 { "ip" } else { "ip6" };
        s.push_str(&format!(
            "    {fam} saddr {src} oifname != \"{tun}\" masquerade\n"
        ));
    }
    s.push_str("  }\n}\n");
    nft_script(&s)
}

fn install_iptables(rules: &[(String, bool)], tun: &str) -> Result<(), String> {
    for (tool, v4) in [("iptables", true), ("ip6tables", false)] {
        let mine: Vec<&String> = rules
            .iter()
            .filter(|(_, f)| *f == v4)
            .map(|(s, _)| s)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let _ = run(tool, &["-t", "nat", "-N", IPT_CHAIN]);
        run(tool, &["-t", "nat", "-F", IPT_CHAIN])?;
        if run(tool, &["-t", "nat", "-C", "POSTROUTING", "-j", IPT_CHAIN]).is_err() {
            run(tool, &["-t", "nat", "-A", "POSTROUTING", "-j", IPT_CHAIN])?;
        }
        for src in mine {
            let mut args = vec!["-t", "nat", "-A", IPT_CHAIN];
            if src.contains('-') {
                args.extend(["-m", "iprange", "--src-range", src.as_str()]);
            } else {
                args.extend(["-s", src.as_str()]);
            }
            args.extend(["!", "-o", tun, "-j", "MASQUERADE"]);
            run(tool, &args)?;
        }
    }
    Ok(())
}
