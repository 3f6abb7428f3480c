//! Damaged configurations are refused with located messages, never a panic.

use config::Config;
use proptest::prelude::*;

const BASE: &str = r#"[daemon]
ike_port = 500
listen = ["0.0.0.0", "::"]
[connections.a]
remote_addrs = ["192.0.2.100", "%any"]
local_addrs = ["192.0.2.1"]
dpd_delay = "30s"
[connections.a.local]
auth = "psk"
id = "moon.example.org"
[connections.a.remote]
auth = "psk"
id = "%any"
[connections.a.children.net]
local_ts = ["203.0.113.0/24", "dynamic"]
remote_ts = ["198.51.100.0/25[tcp/80-90]"]
[secrets.ike.s]
ids = ["moon.example.org", "@#0a0b"]
secret = "k"
"#;

proptest! {
    #[test]
    fn mutated_config_never_panics(pos in 0usize..BASE.len(), del in 0usize..4,
                                   ins in "[ -~\n]{0,3}") {
        let mut s = BASE.to_string();
        let pos = (0..=pos).rev().find(|p| s.is_char_boundary(*p)).unwrap_or(0);
        let end = (pos + del).min(s.len());
        s.replace_range(pos..end, &ins);
        match Config::parse("r.toml", &s) {
            Ok(c) => prop_assert_eq!(c.path, std::path::PathBuf::from("r.toml")),
            Err(e) => {
                prop_assert!(!e.errors.is_empty());
                for err in &e.errors {
                    let loc = err.location.expect("every error here has a location");
                    prop_assert!(loc.line >= 1 && loc.line <= s.lines().count() + 1);
                    prop_assert!(err.to_string().starts_with("r.toml:"));
                }
            }
        }
    }
}
