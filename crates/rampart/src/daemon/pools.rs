//! Virtual-IP pools with leases (RFC 7296 §2.19, §3.15): `ike::Pools` over the configured
//! `[pools.*]`. A lease binds an address to a client identity for good: the same identity gets
//! the same address on every connection, also after a restart (leases are kept in
//! `state_dir/leases.json`, written atomically: a temporary file, fsync, rename). Addresses
//! never handed out are used first; when none is left, the lease of the client gone longest
//! is taken over. Clones share one state (the engine holds one, `list_pools` and reload the
//! other).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use wire::Identity;

/// The leases file's name in `daemon.state_dir`.
pub const LEASES_FILE: &str = "leases.json";

/// One lease.
#[derive(Debug, Clone)]
struct Lease {
    addr: IpAddr,
    identity: Identity,
    /// IKE SAs currently using it (a replaced SA and its successor may overlap).
    online: u32,
    /// Seconds since the epoch when it was last handed out or released.
    last_seen: u64,
}

#[derive(Debug)]
struct PoolState {
    cfg: config::Pool,
    /// By address.
    leases: BTreeMap<IpAddr, Lease>,
    /// Index of the first address never handed out (all below are or were leased).
    next: u128,
}

impl PoolState {
    fn new(cfg: config::Pool) -> Self {
        Self {
            cfg,
            leases: BTreeMap::new(),
            next: 0,
        }
    }

    fn lease_of(&self, peer: &Identity) -> Option<IpAddr> {
        self.leases
            .values()
            .find(|l| l.identity.matches(peer))
            .map(|l| l.addr)
    }

    /// The first address never leased, advancing the cursor.
    fn fresh(&mut self) -> Option<IpAddr> {
        while let Some(a) = self.cfg.addrs.nth(self.next) {
            self.next = self.next.saturating_add(1);
            if !self.leases.contains_key(&a) {
                return Some(a);
            }
        }
        None
    }

    fn take(&mut self, addr: IpAddr, peer: &Identity, now: u64) -> IpAddr {
        let l = self.leases.entry(addr).or_insert(Lease {
            addr,
            identity: peer.clone(),
            online: 0,
            last_seen: now,
        });
        l.identity = peer.clone();
        l.online = l.online.saturating_add(1);
        l.last_seen = now;
        addr
    }

    fn acquire(&mut self, peer: &Identity, wish: IpAddr, now: u64) -> Option<IpAddr> {
        if wish.is_ipv4() != self.cfg.addrs.is_ipv4() {
            return None;
        }
        let mine = self.lease_of(peer);
        // A specific wish: granted when it is ours or nobody's.
        if !wish.is_unspecified() && self.cfg.addrs.contains(wish) {
            let free = self
                .leases
                .get(&wish)
                .is_none_or(|l| l.identity.matches(peer));
            if free {
                // Its old lease (when not in use) goes back to the never-used addresses.
                if let Some(old) = mine.filter(|m| *m != wish) {
                    if self.leases.get(&old).is_some_and(|l| l.online == 0) {
                        self.leases.remove(&old);
                        if let Some(i) = self.cfg.addrs.index_of(old) {
                            self.next = self.next.min(i);
                        }
                    }
                }
                return Some(self.take(wish, peer, now));
            }
        }
        if let Some(m) = mine {
            return Some(self.take(m, peer, now));
        }
        if let Some(a) = self.fresh() {
            return Some(self.take(a, peer, now));
        }
        // Full: take over the lease of the client gone longest.
        let oldest = self
            .leases
            .values()
            .filter(|l| l.online == 0)
            .min_by_key(|l| l.last_seen)
            .map(|l| l.addr)?;
        Some(self.take(oldest, peer, now))
    }
}

#[derive(Debug)]
struct State {
    pools: Vec<PoolState>,
    /// Where leases are saved; `None` = in memory only.
    file: Option<PathBuf>,
}

/// The leases file (docs/config.md `daemon.state_dir`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct LeasesFile {
    version: u32,
    /// Pool name → leases.
    pools: BTreeMap<String, Vec<StoredLease>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredLease {
    address: IpAddr,
    identity: String,
    last_seen: u64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl State {
    fn save(&self) {
        let Some(file) = &self.file else { return };
        let mut out = LeasesFile {
            version: 1,
            pools: BTreeMap::new(),
        };
        for p in &self.pools {
            out.pools.insert(
                p.cfg.name.clone(),
                p.leases
                    .values()
                    .map(|l| StoredLease {
                        address: l.addr,
                        identity: pki::identity_to_string(&l.identity),
                        last_seen: l.last_seen,
                    })
                    .collect(),
            );
        }
        if let Err(e) = write_atomic(file, &out) {
            tracing::error!("cannot save virtual-IP leases to {}: {e}", file.display());
        }
    }

    /// Takes over the leases of `old` pools (by name, addresses still inside).
    fn adopt(&mut self, old: Vec<PoolState>) {
        for o in old {
            let Some(p) = self.pools.iter_mut().find(|p| p.cfg.name == o.cfg.name) else {
                continue;
            };
            for (a, l) in o.leases {
                if p.cfg.addrs.contains(a) {
                    p.leases.insert(a, l);
                }
            }
        }
    }
}

fn write_atomic(file: &Path, v: &LeasesFile) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    let tmp = file.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, file)
}

/// The daemon's pools. Clones share the state.
#[derive(Debug, Clone)]
pub struct LeasePools {
    state: Arc<Mutex<State>>,
}

impl LeasePools {
    /// Pools of `cfg`, with the leases saved in `daemon.state_dir` when some connection hands
    /// out addresses (the directory is created with mode 0700 then).
    pub fn new(cfg: &config::Config) -> Self {
        let mut state = State {
            pools: cfg.pools.iter().cloned().map(PoolState::new).collect(),
            file: None,
        };
        if cfg.pool_connections().next().is_some() {
            let dir = &cfg.daemon.state_dir;
            match prepare_dir(dir) {
                Ok(()) => {
                    let file = dir.join(LEASES_FILE);
                    load(&mut state, &file);
                    state.file = Some(file);
                }
                Err(e) => tracing::error!(
                    "cannot use state directory {}: {e}; virtual-IP leases are kept in memory only",
                    dir.display()
                ),
            }
        }
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Reload: the new configuration's pools, keeping the leases of pools that stay (by name,
    /// addresses inside the new range), saved at once.
    pub fn reconfigure(&self, cfg: &config::Config) {
        let fresh = LeasePools::new(cfg);
        let new_state = {
            let mut g = lock(&fresh.state);
            std::mem::replace(
                &mut *g,
                State {
                    pools: Vec::new(),
                    file: None,
                },
            )
        };
        let mut g = self.lock();
        let old = std::mem::replace(&mut *g, new_state);
        g.adopt(old.pools);
        g.save();
    }

    /// `list_pools` (docs/control.md).
    pub fn list(&self) -> control::ListPoolsResult {
        let g = self.lock();
        control::ListPoolsResult {
            pools: g
                .pools
                .iter()
                .map(|p| {
                    let online = p.leases.values().filter(|l| l.online > 0).count() as u64;
                    control::PoolInfo {
                        name: p.cfg.name.clone(),
                        base: p.cfg.addrs.to_string(),
                        size: u64::try_from(p.cfg.addrs.size()).unwrap_or(u64::MAX),
                        online,
                        offline: p.leases.len() as u64 - online,
                        leases: p
                            .leases
                            .values()
                            .map(|l| control::LeaseInfo {
                                address: l.addr.to_string(),
                                identity: pki::identity_to_string(&l.identity),
                                online: l.online > 0,
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Reads saved leases into `state` (all offline); a damaged file is logged and ignored.
fn load(state: &mut State, file: &Path) {
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::error!(
                "cannot read {}: {e}; starting without leases",
                file.display()
            );
            return;
        }
    };
    let saved: LeasesFile = match serde_json::from_slice(&text) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(
                "{} is damaged ({e}); starting without leases",
                file.display()
            );
            return;
        }
    };
    let mut n = 0;
    for (name, leases) in saved.pools {
        let Some(p) = state.pools.iter_mut().find(|p| p.cfg.name == name) else {
            continue;
        };
        for l in leases {
            let Ok(identity) = pki::identity_from_str(&l.identity) else {
                continue;
            };
            if !p.cfg.addrs.contains(l.address) || p.lease_of(&identity).is_some() {
                continue;
            }
            p.leases.insert(
                l.address,
                Lease {
                    addr: l.address,
                    identity,
                    online: 0,
                    last_seen: l.last_seen,
                },
            );
            n += 1;
        }
    }
    tracing::info!("{n} virtual-IP lease(s) loaded from {}", file.display());
}

impl ike::Pools for LeasePools {
    fn acquire(&mut self, pool: &str, peer: &Identity, wish: IpAddr) -> Option<IpAddr> {
        let mut g = self.lock();
        let now = now_secs();
        let got = g
            .pools
            .iter_mut()
            .find(|p| p.cfg.name == pool)?
            .acquire(peer, wish, now);
        if got.is_some() {
            g.save();
        }
        got
    }

    fn release(&mut self, pool: &str, peer: &Identity, addr: IpAddr) {
        let mut g = self.lock();
        let now = now_secs();
        let Some(p) = g.pools.iter_mut().find(|p| p.cfg.name == pool) else {
            return;
        };
        let Some(l) = p.leases.get_mut(&addr) else {
            return;
        };
        if !l.identity.matches(peer) {
            return;
        }
        l.online = l.online.saturating_sub(1);
        l.last_seen = now;
        g.save();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike::Pools;

    fn cfg(dir: &Path, pools: &str) -> config::Config {
        let text = format!(
            "[daemon]\nstate_dir = \"{}\"\n{pools}\
             [connections.rw]\nremote_addrs = [\"%any\"]\npools = [\"v4\"]\n\
             [connections.rw.local]\nauth = \"psk\"\n[connections.rw.remote]\nauth = \"psk\"\n\
             [connections.rw.children.rw]\n",
            dir.display()
        );
        config::Config::parse("rampart.toml", &text).unwrap()
    }

    fn id(s: &str) -> Identity {
        pki::identity_from_str(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(tag: &str) -> Dir {
        Dir(std::env::temp_dir().join(format!("rampart-pools-{tag}-{}", std::process::id())))
    }

    const POOLS: &str =
        "[pools.v4]\naddrs = \"192.0.2.0/30\"\n[pools.v6]\naddrs = \"2001:db8::/126\"\n";

    #[test]
    fn same_identity_same_address_also_after_a_restart() {
        let d = dir("restart");
        let c = cfg(&d.0, POOLS);
        let mut p = LeasePools::new(&c);
        let any4 = ip("0.0.0.0");
        let (alice, bob, carol) = (
            id("alice@example.org"),
            id("bob@example.org"),
            id("carol@example.org"),
        );
        // /30: two host addresses.
        assert_eq!(p.acquire("v4", &alice, any4), Some(ip("192.0.2.1")));
        assert_eq!(p.acquire("v4", &bob, any4), Some(ip("192.0.2.2")));
        assert_eq!(p.acquire("v4", &carol, any4), None, "full, nobody gone");
        assert_eq!(p.acquire("v6", &alice, any4), None, "wrong family");
        assert_eq!(p.acquire("v6", &alice, ip("::")), Some(ip("2001:db8::1")));
        // A reconnect while the old SA still exists (uniqueness replace): the same address.
        assert_eq!(p.acquire("v4", &alice, any4), Some(ip("192.0.2.1")));
        p.release("v4", &alice, ip("192.0.2.1"));
        let l = p.list();
        assert_eq!((l.pools[0].online, l.pools[0].offline), (2, 0));
        p.release("v4", &alice, ip("192.0.2.1"));
        p.release("v4", &carol, ip("192.0.2.2")); // not carol's: ignored
        let l = p.list();
        assert_eq!((l.pools[0].online, l.pools[0].offline), (1, 1));
        assert_eq!(l.pools[0].size, 2);
        assert_eq!(l.pools[0].base, "192.0.2.0/30");
        assert_eq!(l.pools[0].leases[0].identity, "alice@example.org");
        // Restart: the file brings the leases back, all offline.
        drop(p);
        let mut p = LeasePools::new(&c);
        let l = p.list();
        assert_eq!((l.pools[0].online, l.pools[0].offline), (0, 2));
        assert_eq!(p.acquire("v4", &bob, any4), Some(ip("192.0.2.2")));
        assert_eq!(p.acquire("v6", &alice, ip("::")), Some(ip("2001:db8::1")));
        // Full: carol takes over alice's lease (gone, the oldest).
        assert_eq!(p.acquire("v4", &carol, any4), Some(ip("192.0.2.1")));
        assert_eq!(p.acquire("v4", &alice, any4), None);
        let mode = std::fs::metadata(&d.0).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o700
        );
    }

    #[test]
    fn specific_wishes_and_reload() {
        let d = dir("wish");
        let c = cfg(&d.0, "[pools.v4]\naddrs = \"192.0.2.10-192.0.2.19\"\n");
        let mut p = LeasePools::new(&c);
        let (alice, bob) = (id("alice@example.org"), id("bob@example.org"));
        assert_eq!(
            p.acquire("v4", &alice, ip("192.0.2.15")),
            Some(ip("192.0.2.15"))
        );
        // Taken: bob gets a fresh one instead; outside the pool: ignored.
        assert_eq!(
            p.acquire("v4", &bob, ip("192.0.2.15")),
            Some(ip("192.0.2.10"))
        );
        assert_eq!(
            p.acquire("v4", &bob, ip("198.51.100.1")),
            Some(ip("192.0.2.10"))
        );
        assert_eq!(p.acquire("nope", &bob, ip("0.0.0.0")), None);
        // Reload with a narrower range: leases inside stay, the others go.
        p.reconfigure(&cfg(
            &d.0,
            "[pools.v4]\naddrs = \"192.0.2.12-192.0.2.19\"\n",
        ));
        let l = p.list();
        assert_eq!(l.pools[0].leases.len(), 1);
        assert_eq!(l.pools[0].leases[0].address, "192.0.2.15");
        assert!(l.pools[0].leases[0].online);
        assert_eq!(p.acquire("v4", &bob, ip("0.0.0.0")), Some(ip("192.0.2.12")));
        // A damaged file is ignored, not fatal.
        std::fs::write(d.0.join(LEASES_FILE), b"{not json").unwrap();
        let p = LeasePools::new(&c);
        assert!(p.list().pools[0].leases.is_empty());
    }
}
