//! Every CLI verb against two running Rampart daemons in network namespaces (issue 6), the
//! event stream, the metrics endpoint checked against known traffic, and a reload that changes
//! one connection while ping runs through the other.
//!
//! Topology: testbed's net2net (h1 - gw1 - gw2 - h2). Two connections between the gateways:
//! `v4` (IPv4 outer, 203.0.113.0/24 <-> 198.51.100.0/24) and `v6` (IPv6 outer,
//! 2001:db8:2::/64 <-> 2001:db8:3::/64), both started by gw1. `encap = true` (ESP in UDP; the
//! kernel here has no ESP). Needs root; under CI=true a missing tool fails the test.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use control::{Client, Event, ListSasResult};
use serde_json::Value;
use testbed::topology::addr;
use testbed::{cmd, Netns, RampartDaemon, Topology};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

const METRICS: &str = "127.0.0.1:9781";

/// gw1's or gw2's configuration. `v6_esp` is gw1's ESP proposal for `v6` (gw2 accepts both);
/// `extra` adds a third connection (start_action none).
fn conf(gw: u8, dir: &Path, tun: &str, v6_esp: &str, extra: bool) -> String {
    let (me4, peer4, me6, peer6) = if gw == 1 {
        (addr::GW1_V4, addr::GW2_V4, addr::GW1_V6, addr::GW2_V6)
    } else {
        (addr::GW2_V4, addr::GW1_V4, addr::GW2_V6, addr::GW1_V6)
    };
    let (lan4, peer_lan4, lan6, peer_lan6) = if gw == 1 {
        (addr::LAN1_V4, addr::LAN2_V4, addr::LAN1_V6, addr::LAN2_V6)
    } else {
        (addr::LAN2_V4, addr::LAN1_V4, addr::LAN2_V6, addr::LAN1_V6)
    };
    let (me_id, peer_id) = if gw == 1 {
        ("gw1.example.org", "gw2.example.org")
    } else {
        ("gw2.example.org", "gw1.example.org")
    };
    let start = if gw == 1 { "start" } else { "none" };
    let esp6 = if gw == 1 {
        format!("\"{v6_esp}\"")
    } else {
        "\"aes256gcm16\", \"aes128gcm16\"".to_string()
    };
    let metrics = if gw == 1 {
        format!("metrics_listen = \"{METRICS}\"")
    } else {
        String::new()
    };
    let conn = |name: &str, la: &str, ra: &str, lan: &str, plan: &str, esp: &str, st: &str| {
        format!(
            r#"
[connections.{name}]
local_addrs = ["{la}"]
remote_addrs = ["{ra}"]
encap = true
[connections.{name}.local]
auth = "psk"
id = "{me_id}"
[connections.{name}.remote]
auth = "psk"
id = "{peer_id}"
[connections.{name}.children.{name}-net]
local_ts = ["{lan}"]
remote_ts = ["{plan}"]
esp_proposals = [{esp}]
start_action = "{st}"
"#
        )
    };
    let mut s = format!(
        "[daemon]\ncontrol_socket = \"{}\"\ntun_name = \"{tun}\"\nlog_level = \"info,ike=debug\"\n{metrics}\n",
        RampartDaemon::socket_in(dir).display()
    );
    s.push_str(&conn(
        "v4",
        me4,
        peer4,
        lan4,
        peer_lan4,
        "\"aes256gcm16\"",
        start,
    ));
    s.push_str(&conn("v6", me6, peer6, lan6, peer_lan6, &esp6, start));
    if extra {
        s.push_str(&conn(
            "extra",
            me4,
            peer4,
            "192.0.2.0/24",
            "192.0.2.0/24",
            "\"aes256gcm16\"",
            "none",
        ));
    }
    s.push_str(
        "\n[secrets.ike.gws]\nids = [\"gw1.example.org\", \"gw2.example.org\"]\n\
         secret = \"operator-pair-psk-0123456789\"\n",
    );
    s
}

fn sas(c: &mut Client) -> ListSasResult {
    c.list_sas(None).unwrap()
}

/// Waits until `conn` has an established IKE SA with an installed child; returns the listing.
#[track_caller]
fn wait_up(c: &mut Client, conn: &str, esp: Option<&str>) -> ListSasResult {
    let mut last = None;
    let ok = testbed::wait_until(Duration::from_secs(10), || {
        let l = sas(c);
        let up = l.ike_sas.iter().any(|s| {
            s.connection == conn
                && s.state == control::IkeSaState::Established
                && s.children.iter().any(|ch| {
                    ch.state == control::ChildSaState::Installed
                        && esp.is_none_or(|e| ch.proposal == e)
                })
        });
        last = Some(l);
        up
    });
    let l = last.unwrap_or_default();
    assert!(ok, "{conn} not up: {l:#?}");
    l
}

fn child_of(l: &ListSasResult, conn: &str) -> (u64, u64, u32, u32) {
    let sa = l
        .ike_sas
        .iter()
        .find(|s| s.connection == conn && s.state == control::IkeSaState::Established)
        .unwrap();
    let ch = sa
        .children
        .iter()
        .find(|c| c.state == control::ChildSaState::Installed)
        .unwrap();
    (sa.id, ch.id, ch.spi_in, ch.spi_out)
}

/// The metrics page from inside `ns` (bash's /dev/tcp: no HTTP client needed).
fn scrape(ns: &Netns) -> String {
    let (host, port) = METRICS.split_once(':').unwrap();
    let out = ns.run(&[
        "bash",
        "-c",
        &format!(
            "exec 3<>/dev/tcp/{host}/{port}; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
        ),
    ]);
    assert!(out.ok(), "{out}");
    out.stdout
}

/// The value of the first sample of `name` whose labels contain every one of `labels`.
fn metric(page: &str, name: &str, labels: &[&str]) -> Option<u64> {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn json(out: &cmd::Output) -> Value {
    assert!(out.ok(), "{out}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {out}"))
}

/// Reads events until one satisfies `want` (at most 50, each within 10 s).
#[track_caller]
fn expect_event(sub: &mut control::Subscription, want: impl Fn(&Event) -> bool) -> Event {
    for _ in 0..50 {
        match sub.next_event() {
            Ok(Some(e)) if want(&e) => return e,
            Ok(Some(_)) => {}
            other => panic!("event stream ended: {other:?}"),
        }
    }
    panic!("expected event not seen");
}

struct Pair {
    topo: Topology,
    gw2: RampartDaemon,
    gw1: RampartDaemon,
}

fn pair(prefix: &str, extra: bool) -> Option<Pair> {
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS) {
        return None;
    }
    let topo = Topology::net2net(prefix);
    let d2 = topo.subdir("gw2");
    let d1 = topo.subdir("gw1");
    let gw2 = RampartDaemon::start(
        bin(),
        &topo.gw2,
        &d2,
        &conf(2, &d2, &format!("{prefix}2"), "", false),
    );
    let gw1 = RampartDaemon::start(
        bin(),
        &topo.gw1,
        &d1,
        &conf(1, &d1, &format!("{prefix}1"), "aes256gcm16", extra),
    );
    Some(Pair { topo, gw2, gw1 })
}

#[test]
fn operator_every_verb_against_a_running_pair() {
    let Some(p) = pair("opv", false) else { return };
    let sock = p.gw1.socket();
    let mut c = Client::connect(&sock).unwrap();
    wait_up(&mut c, "v4", None);
    let l = wait_up(&mut c, "v6", None);
    let mut sub = Client::connect(&sock)
        .unwrap()
        .subscribe(true, None)
        .unwrap();
    sub.set_timeout(Some(Duration::from_secs(10))).unwrap();

    // Known traffic: 10 pings through v4.
    assert!(testbed::ping(&p.topo.h1, addr::H2_V4, 10));
    let counters = json(&p.gw1.cli(&["counters", "--json"]));
    let (ike4, child4, _, _) = child_of(&l, "v4");
    let v4 = counters["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["child_sa"] == child4)
        .unwrap()
        .clone();
    assert!(v4["packets_out"].as_u64().unwrap() >= 10, "{counters}");
    assert!(v4["packets_in"].as_u64().unwrap() >= 10, "{counters}");
    assert_eq!(v4["remote_id"], "gw2.example.org");
    assert!(counters["ike"]["established"].as_u64().unwrap() >= 2);
    let table = p.gw1.cli(&["counters"]);
    assert!(table.ok() && table.stdout.contains("CHILD_SA"), "{table}");

    // The metrics endpoint tells the same.
    let page = scrape(&p.topo.gw1);
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    let child_label = format!("child_sa=\"{child4}\"");
    for dir in ["direction=\"in\"", "direction=\"out\""] {
        let n = metric(
            &page,
            "rampart_child_sa_packets_total",
            &[&child_label, dir, "connection=\"v4\""],
        );
        assert!(n.is_some_and(|n| n >= 10), "{dir}: {n:?}\n{page}");
        let b = metric(
            &page,
            "rampart_client_bytes",
            &["remote_id=\"gw2.example.org\"", dir],
        );
        assert!(b.is_some_and(|b| b >= 10 * 84), "{dir}: {b:?}\n{page}");
    }
    assert_eq!(
        metric(&page, "rampart_ike_sas", &["state=\"established\""]),
        Some(2)
    );
    assert!(metric(&page, "rampart_ike_handshakes_total", &[]).is_some_and(|n| n >= 2));

    // Listings, as tables and as JSON.
    let conns = json(&p.gw1.cli(&["list-conns", "--json"]));
    let names: Vec<&str> = conns["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v4", "v6"]);
    assert_eq!(conns["connections"][0]["ike_sas"], 1);
    assert_eq!(
        conns["connections"][1]["children"][0]["start_action"],
        "start"
    );
    let t = p.gw1.cli(&["list-conns"]);
    assert!(t.ok() && t.stdout.contains("v6-net"), "{t}");
    assert_eq!(
        json(&p.gw1.cli(&["list-certs", "--json"])),
        serde_json::json!({"certificates": []})
    );
    assert_eq!(
        json(&p.gw1.cli(&["list-pools", "--json"])),
        serde_json::json!({"pools": []})
    );
    let t = p.gw1.cli(&["list-certs"]);
    assert_eq!(t.stdout, "no certificates\n", "{t}");
    let algs = json(&p.gw1.cli(&["list-algs", "--json"]));
    assert!(algs["algorithms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["keyword"] == "aes256gcm16" && a["implemented"] == true));
    let sas_json = json(&p.gw1.cli(&["list-sas", "--json", "--conn", "v4"]));
    assert_eq!(sas_json["ike_sas"].as_array().unwrap().len(), 1);
    let t = p.gw1.cli(&["list-sas"]);
    assert!(t.ok() && t.stdout.contains("ESTABLISHED"), "{t}");
    let stats = json(&p.gw1.cli(&["stats", "--json"]));
    assert_eq!(stats["ike_sas"]["established"], 2);
    assert!(p.gw1.cli(&["stats"]).stdout.contains("IKE SAs:"));
    assert!(p.gw1.status_json()["ike_sas"].as_array().unwrap().len() == 2);

    // `rampart log` follows the stream: started before a Child SA rekey, it prints it and exits.
    let log = Command::new(bin())
        .args(["log", "--no-log", "--json", "--count", "1", "-s"])
        .arg(&sock)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It is subscribed once `stats` counts its connection (ours, the subscription, and it).
    assert!(testbed::wait_until(Duration::from_secs(5), || c
        .stats()
        .unwrap()
        .control_clients
        >= 3));
    let out = p.gw1.cli(&["rekey", "--child-sa", &child4.to_string()]);
    assert!(out.ok() && out.stdout.contains("rekeying 1 SA(s)"), "{out}");
    let ev = expect_event(&mut sub, |e| matches!(e, Event::ChildRekey { .. }));
    let Event::ChildRekey {
        child_sa,
        new_child_sa,
        ..
    } = ev
    else {
        unreachable!()
    };
    assert_eq!(child_sa, child4);
    let logged = log.wait_with_output().unwrap();
    assert!(logged.status.success(), "{logged:?}");
    let line: Value = serde_json::from_slice(&logged.stdout).unwrap();
    assert_eq!(line["event"]["type"], "child_rekey", "{line}");
    assert!(
        testbed::ping(&p.topo.h1, addr::H2_V4, 3),
        "traffic after the Child SA rekey"
    );
    let l = wait_up(&mut c, "v4", None);
    assert!(l
        .ike_sas
        .iter()
        .any(|s| s.children.iter().any(|ch| ch.id == new_child_sa)));

    let out = p.gw1.cli(&["rekey", "--ike-sa", &ike4.to_string()]);
    assert!(out.ok(), "{out}");
    expect_event(
        &mut sub,
        |e| matches!(e, Event::IkeRekey { ike_sa, .. } if *ike_sa == ike4),
    );
    let out = p.gw1.cli(&["rekey", "--ike-sa", "999"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains("unknown_sa: no IKE SA with id 999"),
        "{out}"
    );

    // terminate: one Child SA, one IKE SA, then initiate again and terminate by name.
    let l = sas(&mut c);
    let (ike6, child6, _, _) = child_of(&l, "v6");
    let out = p.gw1.cli(&["terminate", "--child-sa", &child6.to_string()]);
    assert!(
        out.ok() && out.stdout.contains("terminated 1 Child SA"),
        "{out}"
    );
    expect_event(
        &mut sub,
        |e| matches!(e, Event::ChildDown { child_sa, reason, .. } if *child_sa == child6 && reason == "deleted"),
    );
    let out = p.gw1.cli(&["terminate", "--ike-sa", &ike6.to_string()]);
    assert!(out.ok(), "{out}");
    expect_event(
        &mut sub,
        |e| matches!(e, Event::IkeDown { ike_sa, .. } if *ike_sa == ike6),
    );
    let out = p.gw1.cli(&["initiate", "v6"]);
    assert!(
        out.ok() && out.stdout.starts_with("initiating IKE SA v6["),
        "{out}"
    );
    expect_event(&mut sub, |e| {
        matches!(e, Event::IkeUp { connection, remote_id, .. }
            if connection == "v6" && remote_id == "gw2.example.org")
    });
    expect_event(
        &mut sub,
        |e| matches!(e, Event::ChildUp { name, .. } if name == "v6-net"),
    );
    let out = p.gw1.cli(&["terminate", "v6"]);
    assert!(
        out.ok() && out.stdout.contains("terminated 1 IKE SA(s)"),
        "{out}"
    );
    let out = p.gw1.cli(&["initiate", "nope"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains("unknown_connection: no connection named 'nope'"),
        "{out}"
    );
    // Every verb has --help with examples.
    for verb in [
        "list-sas",
        "list-conns",
        "list-certs",
        "list-pools",
        "list-algs",
        "initiate",
        "terminate",
        "rekey",
        "reload",
        "log",
        "stats",
        "counters",
        "status",
        "version",
    ] {
        let h = cmd::run(Command::new(bin()).args([verb, "--help"]));
        assert!(h.ok() && h.stdout.contains("Examples:"), "{verb}: {h}");
    }
    drop(p.gw1);
    drop(p.gw2);
}

#[test]
fn operator_reload_keeps_untouched_sas_while_ping_runs() {
    let Some(p) = pair("opr", false) else { return };
    let sock = p.gw1.socket();
    let mut c = Client::connect(&sock).unwrap();
    wait_up(&mut c, "v4", None);
    let before = wait_up(&mut c, "v6", Some("aes256gcm16"));
    let v4_before = child_of(&before, "v4");
    let v6_before = child_of(&before, "v6");

    // 40 pings 0.1 s apart through v4 while v6 is changed and a connection added.
    let ping = p
        .topo
        .h1
        .command("ping")
        .args([
            "-4",
            "-n",
            "-q",
            "-c",
            "40",
            "-i",
            "0.1",
            "-W",
            "1",
            addr::H2_V4,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cfg = p.topo.subdir("gw1").join("rampart.toml");
    let d1 = p.topo.subdir("gw1");
    std::fs::write(&cfg, conf(1, &d1, "opr1", "aes128gcm16", true)).unwrap();
    let r = json(&p.gw1.cli(&["reload", "--json"]));
    assert_eq!(r["added"], serde_json::json!(["extra"]), "{r}");
    assert_eq!(r["changed"], serde_json::json!(["v6"]), "{r}");
    assert_eq!(r["unchanged"], serde_json::json!(["v4"]), "{r}");
    assert_eq!(r["removed"], serde_json::json!([]), "{r}");
    assert_eq!(r["initiated"], serde_json::json!(["v6"]), "{r}");
    let after = wait_up(&mut c, "v6", Some("aes128gcm16"));
    let out = ping.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("40 packets transmitted, 40 received"),
        "ping through the untouched connection lost packets: {text}"
    );
    assert_eq!(
        child_of(&after, "v4"),
        v4_before,
        "v4 kept its IKE SA, Child SA and SPIs"
    );
    assert_ne!(child_of(&after, "v6").0, v6_before.0, "v6 got a new IKE SA");

    // SIGHUP applies the file too: `extra` removed.
    std::fs::write(&cfg, conf(1, &d1, "opr1", "aes128gcm16", false)).unwrap();
    assert!(cmd::signal(p.gw1.pid(), "HUP"));
    assert!(testbed::wait_until(Duration::from_secs(5), || {
        c.list_conns().unwrap().connections.len() == 2
    }));
    assert!(p
        .gw1
        .log()
        .contains("SIGHUP: configuration reloaded: added -, removed extra"));
    assert_eq!(child_of(&sas(&mut c), "v4"), v4_before);
    assert!(testbed::ping(&p.topo.h1, addr::H2_V4, 2));
    drop(p.gw1);
    drop(p.gw2);
}
