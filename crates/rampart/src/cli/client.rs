//! `rampart client add|list|export|revoke|delete` (docs/setup.md): clients of a server made
//! by `rampart setup`. Each command edits the files safely (temporary file + rename, the rest
//! of `rampart.toml` kept), then asks the daemon to `reload` over the control socket; a
//! daemon that is not running is reported and the command still succeeds on the files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use control::{Client, TerminateTarget};
use profiles::server_config;
use zeroize::Zeroizing;

use crate::setup::store::{self, write_file, ClientRecord, Res, Store};
use crate::setup::DEFAULT_DIR;

/// `rampart client` verbs.
#[derive(Debug, clap::Subcommand)]
pub enum ClientCmd {
    /// Add a client: a certificate (default), an EAP user (--password) or a PSK (--psk).
    #[command(after_help = "Examples:\n  rampart client add laptop\n  \
                            rampart client add alice --password\n  \
                            rampart client add phone --psk --id phone.example.org\n  \
                            rampart client add pixel --psk --key-id pixel")]
    Add {
        /// Client name (also its file names): A-Z a-z 0-9 - .
        name: String,
        /// EAP-MSCHAPv2 user with a random password (printed).
        #[arg(long, conflicts_with = "psk")]
        password: bool,
        /// A PSK of this client alone (printed).
        #[arg(long)]
        psk: bool,
        /// IKE identity (certificate dNSName, PSK identity) or EAP user name (default: NAME).
        #[arg(long)]
        id: Option<String>,
        /// PSK client whose identity is an ID_KEY_ID of this text (RFC 7296 §3.5), as
        /// Android's built-in "IKEv2/IPSec PSK" sends its "IPSec identifier".
        #[arg(long, requires = "psk", conflicts_with = "id")]
        key_id: Option<String>,
    },
    /// List clients.
    List,
    /// Write every profile format of a client into a folder and print where.
    #[command(
        after_help = "Examples:\n  rampart client export laptop\n  rampart client export laptop --out /tmp/laptop"
    )]
    Export {
        /// Client name.
        name: String,
        /// Folder (default: CONFIG_DIR/export/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Revoke a client: certificate into the CRL, EAP/PSK secret removed; the daemon reloads
    /// and its live SAs are terminated.
    Revoke {
        /// Client name.
        name: String,
    },
    /// Delete a client (revoked first if it is not yet) and its files.
    Delete {
        /// Client name.
        name: String,
    },
}

/// `rampart client` options shared by the verbs.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Configuration directory made by `rampart setup`.
    #[arg(long, env = "RAMPART_CONFIG_DIR", default_value = DEFAULT_DIR, global = true)]
    pub config_dir: PathBuf,
    #[command(subcommand)]
    pub cmd: ClientCmd,
}

/// `rampart client ...`.
pub fn run(socket: &Path, args: ClientArgs) -> ExitCode {
    let store = Store {
        dir: args.config_dir,
    };
    if !store.is_set_up() {
        eprintln!(
            "rampart: {} is not set up: run `rampart setup` first (or give --config-dir)",
            store.dir.display()
        );
        return ExitCode::from(crate::cli::EXIT_FAILED);
    }
    let r = match args.cmd {
        ClientCmd::Add {
            name,
            password,
            psk,
            id,
            key_id,
        } => {
            let id = key_id.map(|k| key_id_text(k.as_bytes())).or(id);
            add(&store, socket, &name, password, psk, id)
        }
        ClientCmd::List => list(&store),
        ClientCmd::Export { name, out } => export(&store, &name, out),
        ClientCmd::Revoke { name } => revoke(&store, socket, &name),
        ClientCmd::Delete { name } => delete(&store, socket, &name),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rampart: client: {e}");
            ExitCode::from(crate::cli::EXIT_FAILED)
        }
    }
}

/// Asks the daemon to re-read its configuration; says what happened.
fn reload(socket: &Path) -> Option<Client> {
    match Client::connect(socket) {
        Err(e) => {
            println!(
                "The daemon is not running ({}: {e}); the change applies when it starts.",
                socket.display()
            );
            None
        }
        Ok(mut c) => match c.reload() {
            Ok(_) => {
                println!("Daemon reloaded.");
                Some(c)
            }
            Err(e) => {
                println!("The daemon refused the reload: {e}");
                None
            }
        },
    }
}

fn add(
    store: &Store,
    socket: &Path,
    name: &str,
    password: bool,
    psk: bool,
    id: Option<String>,
) -> Res<()> {
    store::check_name(name)?;
    if store.client_dir(name).join("client.toml").exists() {
        return Err(format!("a client named '{name}' exists already"));
    }
    let id = id.unwrap_or_else(|| name.to_string());
    if id.is_empty() || id.len() > 255 {
        return Err("--id must have 1-255 bytes".into());
    }
    // A PSK client's identity goes into `ids` of its [secrets.ike.*]: it must parse there.
    if psk {
        if let Err(e) = id.parse::<wire::Identity>() {
            return Err(format!(
                "--id '{id}' is not an IKE identity ({e}); docs/config.md \"Identities\""
            ));
        }
    }
    let mut doc = store.config()?;
    let mut rec = ClientRecord {
        kind: String::new(),
        id: id.clone(),
        serial: None,
        p12_password: None,
        created: store::unix_now(),
        revoked: None,
    };
    let mut shown: Vec<(String, Zeroizing<String>)> = Vec::new();
    if password {
        let pw = profiles::secret::password();
        server_config::add_eap_user(&mut doc, name, &id, &pw).map_err(|e| e.to_string())?;
        rec.kind = "eap".into();
        shown.push(("User".into(), Zeroizing::new(id.clone())));
        shown.push(("Password".into(), pw));
    } else if psk {
        let k = profiles::secret::psk();
        server_config::add_psk(&mut doc, name, &id, &k).map_err(|e| e.to_string())?;
        rec.kind = "psk".into();
        shown.push(("Identity".into(), Zeroizing::new(id.clone())));
        shown.push(("PSK".into(), k));
    } else {
        let ca = store.ca()?;
        let issued =
            profiles::issue::client_cert(&ca, &id, SystemTime::now()).map_err(|e| e.to_string())?;
        let cert = pki::Certificate::from_der(&issued.cert_der).map_err(|e| e.to_string())?;
        let dir = store.client_dir(name);
        store::private_dir(&dir)?;
        write_file(
            &dir.join("key.pem"),
            issued.key.pkcs8_pem().as_bytes(),
            0o600,
        )?;
        write_file(
            &dir.join("cert.pem"),
            pki::cert_to_pem(&issued.cert_der).as_bytes(),
            0o644,
        )?;
        let pw = profiles::secret::password();
        rec.kind = "cert".into();
        rec.serial = Some(cert.serial_hex());
        rec.p12_password = Some(pw.to_string());
        shown.push(("Identity".into(), Zeroizing::new(id.clone())));
        shown.push(("P12 password".into(), pw));
    }
    store.save_client(name, &rec)?;
    if rec.kind != "cert" {
        store.save_config(&doc)?;
    }
    println!("Client '{name}' added ({}).", kind_text(&rec.kind));
    for (k, v) in &shown {
        println!("  {:<13} {}", format!("{k}:"), v.as_str());
    }
    let dir = store.export_dir(name);
    let files = store.export(name, &dir)?;
    println!(
        "  Files:        {}/ ({} files, README.txt lists them)",
        dir.display(),
        files.len()
    );
    if rec.kind == "eap" {
        if let (Ok(server), Some((_, pw))) = (store.server(), shown.get(1)) {
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() {
                let t = profiles::qr::eap_text(&server.connect_to(), &server.remote_id(), &id, pw);
                if let Ok(q) = profiles::qr::terminal(&t) {
                    println!("{q}");
                }
            }
        }
    }
    if rec.kind != "cert" {
        reload(socket);
    }
    Ok(())
}

fn kind_text(kind: &str) -> &'static str {
    match kind {
        "cert" => "certificate",
        "eap" => "EAP-MSCHAPv2 user",
        _ => "PSK",
    }
}

fn list(store: &Store) -> Res<()> {
    let clients = store.clients()?;
    if clients.is_empty() {
        println!("no clients");
        return Ok(());
    }
    println!("{:<20} {:<12} {:<24} STATUS", "NAME", "KIND", "ID");
    for (name, r) in clients.iter().filter(|(n, _)| !n.starts_with('.')) {
        let status = if r.revoked.is_some() {
            "revoked"
        } else {
            "active"
        };
        println!("{name:<20} {:<12} {:<24} {status}", r.kind, r.id);
    }
    Ok(())
}

fn export(store: &Store, name: &str, out: Option<PathBuf>) -> Res<()> {
    let dir = out.unwrap_or_else(|| store.export_dir(name));
    let files = store.export(name, &dir)?;
    println!("Profiles of '{name}' written to {}/:", dir.display());
    for (p, purpose) in files {
        let f = p
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        println!("  {f:<24} {purpose}");
    }
    Ok(())
}

/// Marks `name` revoked and removes its secret or lists its certificate in the CRL; then
/// reloads the daemon and terminates the IKE SAs of its identity.
fn revoke(store: &Store, socket: &Path, name: &str) -> Res<()> {
    let mut rec = store.client(name)?;
    if rec.revoked.is_some() {
        println!("Client '{name}' is revoked already.");
        return Ok(());
    }
    rec.revoked = Some(store::unix_now());
    store.save_client(name, &rec)?;
    if rec.kind == "cert" {
        store.write_crl()?;
    } else {
        let mut doc = store.config()?;
        server_config::remove_secret(&mut doc, name);
        store.save_config(&doc)?;
    }
    let _ = std::fs::remove_dir_all(store.export_dir(name));
    println!("Client '{name}' revoked ({}).", kind_text(&rec.kind));
    if let Some(mut c) = reload(socket) {
        terminate_identity(&mut c, &rec);
    }
    Ok(())
}

/// `@#HEX`: the identity text of an ID_KEY_ID with these bytes.
fn key_id_text(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("@#{hex}")
}

/// Whether an SA's peer identity (as the daemon prints it) is this client's.
fn same_identity(remote_id: &str, rec: &ClientRecord) -> bool {
    let parsed = |s: &str| s.parse::<wire::Identity>().ok();
    remote_id == rec.id
        || remote_id.eq_ignore_ascii_case(&rec.id)
        || parsed(remote_id).is_some_and(|r| Some(r) == parsed(&rec.id))
        || remote_id.ends_with(&format!("CN={}", rec.id))
        || remote_id.starts_with(&format!("{} (", rec.id))
}

fn terminate_identity(c: &mut Client, rec: &ClientRecord) {
    let sas = match c.list_sas(None) {
        Ok(r) => r.ike_sas,
        Err(e) => {
            println!("Cannot list the daemon's SAs: {e}");
            return;
        }
    };
    let mut n = 0;
    for sa in sas.iter().filter(|sa| same_identity(&sa.remote_id, rec)) {
        match c.terminate(TerminateTarget::IkeSa(sa.id)) {
            Ok(_) => {
                println!(
                    "Terminated IKE SA {}[{}] of '{}' from {}.",
                    sa.connection, sa.id, sa.remote_id, sa.remote
                );
                n += 1;
            }
            Err(e) => println!("Cannot terminate IKE SA {}: {e}", sa.id),
        }
    }
    if n == 0 {
        println!("No live SAs of '{}'.", rec.id);
    }
}

fn delete(store: &Store, socket: &Path, name: &str) -> Res<()> {
    let rec = store.client(name)?;
    if rec.revoked.is_none() {
        revoke(store, socket, name)?;
    }
    let mut doc = store.config()?;
    if server_config::remove_secret(&mut doc, name) {
        store.save_config(&doc)?;
    }
    let _ = std::fs::remove_dir_all(store.export_dir(name));
    if rec.kind == "cert" {
        // The record stays (marked deleted by its missing key) so the CRL keeps the serial.
        let dir = store.client_dir(name);
        let _ = std::fs::remove_file(dir.join("key.pem"));
        let _ = std::fs::remove_file(dir.join("cert.pem"));
        let mut rec = store.client(name)?;
        rec.p12_password = None;
        store.save_client(name, &rec)?;
        // Keep its serial in the CRL: rename the folder out of the way of a new client.
        let gone = store
            .clients_dir()
            .join(format!(".deleted-{name}-{}", store::unix_now()));
        std::fs::rename(&dir, &gone).map_err(|e| format!("cannot move {}: {e}", dir.display()))?;
    } else {
        std::fs::remove_dir_all(store.client_dir(name))
            .map_err(|e| format!("cannot remove {}: {e}", store.client_dir(name).display()))?;
    }
    println!("Client '{name}' deleted.");
    Ok(())
}
