//! Who may use the control socket: root, the daemon's own user, and members of
//! `daemon.control_group`. Checked on every connection from the kernel's peer credentials
//! (SO_PEERCRED, unix(7)), so a socket whose mode was loosened still refuses strangers.

use std::path::Path;

/// The access policy.
#[derive(Debug, Clone)]
pub struct Access {
    /// The configured group: name and id.
    group: Option<(String, u32)>,
    own_uid: u32,
}

/// A connecting client's credentials.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Its user id.
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
    /// Its process id, if the kernel gave one.
    pub pid: Option<i32>,
}

impl Access {
    /// The policy for `control_group` (looked up in /etc/group). Fails when the group does
    /// not exist.
    pub fn new(control_group: Option<&str>) -> Result<Access, String> {
        let group = match control_group {
            None => None,
            Some(name) => match group_id(Path::new("/etc/group"), name) {
                Some(gid) => Some((name.to_string(), gid)),
                None => {
                    return Err(format!(
                        "daemon.control_group: no group named '{name}' in /etc/group"
                    ))
                }
            },
        };
        Ok(Access {
            group,
            own_uid: rustix::process::geteuid().as_raw(),
        })
    }

    /// The configured group's id.
    pub fn gid(&self) -> Option<u32> {
        self.group.as_ref().map(|(_, g)| *g)
    }

    /// `Ok` when `peer` may use the socket, else the reason (sent to the client).
    pub fn check(&self, peer: &Peer) -> Result<(), String> {
        if peer.uid == 0 || peer.uid == self.own_uid {
            return Ok(());
        }
        if let Some((name, gid)) = &self.group {
            if peer.gid == *gid
                || peer
                    .pid
                    .is_some_and(|p| supplementary_groups(p).contains(gid))
            {
                return Ok(());
            }
            return Err(format!(
                "uid {} may not use the control socket (allowed: root and members of group \
                 '{name}')",
                peer.uid
            ));
        }
        Err(format!(
            "uid {} may not use the control socket (allowed: root; set daemon.control_group \
             to admit a group)",
            peer.uid
        ))
    }
}

/// The id of group `name` in a group(5) file.
fn group_id(file: &Path, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

/// The supplementary groups of process `pid` (the `Groups:` line of /proc/PID/status).
fn supplementary_groups(pid: i32) -> Vec<u32> {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return Vec::new();
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|g| {
            g.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_file_lookup() {
        let dir = std::env::temp_dir().join(format!("rampart-grp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("group");
        std::fs::write(
            &f,
            "root:x:0:\nvpn:x:991:alice,bob\nbroken\nnogroup:x:65534:\n",
        )
        .unwrap();
        assert_eq!(group_id(&f, "vpn"), Some(991));
        assert_eq!(group_id(&f, "nogroup"), Some(65534));
        assert_eq!(group_id(&f, "vp"), None);
        assert_eq!(group_id(&f, "broken"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn policy() {
        let a = Access {
            group: Some(("vpn".into(), 991)),
            own_uid: 0,
        };
        let peer = |uid, gid| Peer {
            uid,
            gid,
            pid: None,
        };
        assert!(a.check(&peer(0, 0)).is_ok());
        assert!(a.check(&peer(1000, 991)).is_ok());
        assert_eq!(
            a.check(&peer(1000, 1000)).unwrap_err(),
            "uid 1000 may not use the control socket (allowed: root and members of group 'vpn')"
        );
        let root_only = Access {
            group: None,
            own_uid: 0,
        };
        assert!(root_only.check(&peer(65534, 991)).is_err());
    }
}
