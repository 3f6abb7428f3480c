//! The EAP conversations: the authenticator (our VPN server) and the peer (our client), for
//! EAP-Identity (RFC 3748 §5.1) followed by EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2).
//!
//! MS-CHAPv2 packets inside EAP (Type 26): OpCode | MS-CHAPv2-ID | MS-Length | ...; Challenge
//! and Response add Value-Size | Value | Name, Success/Failure requests a text message, and the
//! Success/Failure responses are the OpCode alone.

use crypto::{ct_eq, Random, SecretBytes};
use wire::ike::EapPacket;
use zeroize::Zeroizing;

use crate::mschapv2;

const OP_CHALLENGE: u8 = 1;
const OP_RESPONSE: u8 = 2;
const OP_SUCCESS: u8 = 3;
const OP_FAILURE: u8 = 4;

/// Why an EAP conversation ended without success. The message is a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EapError(pub String);

fn err(s: impl Into<String>) -> EapError {
    EapError(s.into())
}

fn ms_packet(op: u8, id: u8, body: &[u8]) -> Vec<u8> {
    let len = (4 + body.len()) as u16;
    let mut v = vec![op, id];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn request(id: u8, method: u8, data: Vec<u8>) -> EapPacket {
    EapPacket {
        code: EapPacket::REQUEST,
        identifier: id,
        method: Some(method),
        data,
    }
}

fn response(id: u8, method: u8, data: Vec<u8>) -> EapPacket {
    EapPacket {
        code: EapPacket::RESPONSE,
        identifier: id,
        method: Some(method),
        data,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    Identity,
    Response,
    SuccessAck,
    Done,
}

/// What the authenticator does next.
#[derive(Debug)]
pub enum ServerStep {
    /// Send this request and wait for the answer.
    Send(EapPacket),
    /// The peer authenticated: send EAP-Success; the MSK keys the final AUTH payloads.
    Success(EapPacket, SecretBytes, String),
    /// The peer failed: send EAP-Failure.
    Failure(EapPacket, EapError),
}

/// The authenticator side (our server).
pub struct EapServer {
    state: ServerState,
    id: u8,
    challenge: [u8; 16],
    name: String,
    identity: Option<String>,
    pending: Option<(SecretBytes, String)>,
}

impl core::fmt::Debug for EapServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EapServer")
            .field("state", &self.state)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl EapServer {
    /// Starts a conversation: the first request is EAP-Identity. `name` is the server's name in
    /// the MS-CHAPv2 challenge.
    pub fn start(rng: &mut dyn Random, name: &str) -> (Self, EapPacket) {
        let mut id = [0u8; 1];
        rng.fill(&mut id);
        let mut challenge = [0u8; 16];
        rng.fill(&mut challenge);
        let s = Self {
            state: ServerState::Identity,
            id: id[0],
            challenge,
            name: name.to_string(),
            identity: None,
            pending: None,
        };
        let first = request(s.id, EapPacket::TYPE_IDENTITY, Vec::new());
        (s, first)
    }

    /// The identity the peer gave (EAP-Identity), once known.
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    fn fail(&mut self, e: EapError) -> ServerStep {
        self.state = ServerState::Done;
        ServerStep::Failure(
            EapPacket {
                code: EapPacket::FAILURE,
                identifier: self.id,
                method: None,
                data: vec![],
            },
            e,
        )
    }

    /// Handles the peer's response. `password(user)` looks up the user's password.
    pub fn handle(
        &mut self,
        resp: &EapPacket,
        password: &dyn Fn(&str) -> Option<Zeroizing<String>>,
    ) -> ServerStep {
        if resp.code != EapPacket::RESPONSE || resp.identifier != self.id {
            return self.fail(err("unexpected EAP packet (code or identifier)"));
        }
        match (self.state, resp.method) {
            (ServerState::Identity, Some(EapPacket::TYPE_IDENTITY)) => {
                let Ok(user) = String::from_utf8(resp.data.clone()) else {
                    return self.fail(err("EAP identity is not UTF-8"));
                };
                if user.is_empty() || user.len() > 253 {
                    return self.fail(err("empty or oversized EAP identity"));
                }
                self.identity = Some(user);
                self.id = self.id.wrapping_add(1);
                let mut body = vec![16];
                body.extend_from_slice(&self.challenge);
                body.extend_from_slice(self.name.as_bytes());
                self.state = ServerState::Response;
                ServerStep::Send(request(
                    self.id,
                    EapPacket::TYPE_MSCHAPV2,
                    ms_packet(OP_CHALLENGE, self.id, &body),
                ))
            }
            (ServerState::Response, Some(EapPacket::TYPE_MSCHAPV2)) => {
                self.on_response(&resp.data, password)
            }
            (ServerState::SuccessAck, Some(EapPacket::TYPE_MSCHAPV2))
                if resp.data.first() == Some(&OP_SUCCESS) =>
            {
                self.state = ServerState::Done;
                let Some((msk, user)) = self.pending.take() else {
                    return self.fail(err("internal: no MSK"));
                };
                ServerStep::Success(
                    EapPacket {
                        code: EapPacket::SUCCESS,
                        identifier: self.id,
                        method: None,
                        data: vec![],
                    },
                    msk,
                    user,
                )
            }
            (_, Some(EapPacket::TYPE_NAK)) => {
                self.fail(err("the client refused EAP-MSCHAPv2 (Nak)"))
            }
            _ => self.fail(err("unexpected EAP response")),
        }
    }

    fn on_response(
        &mut self,
        d: &[u8],
        password: &dyn Fn(&str) -> Option<Zeroizing<String>>,
    ) -> ServerStep {
        // OpCode | ID | MS-Length(2) | Value-Size(49) | Peer-Challenge(16) | Reserved(8) |
        // NT-Response(24) | Flags(1) | Name.
        if d.first() != Some(&OP_RESPONSE) || d.get(1) != Some(&self.id) || d.get(4) != Some(&49) {
            return self.fail(err("malformed MS-CHAPv2 response"));
        }
        let (Some(peer), Some(nt), Some(name)) = (d.get(5..21), d.get(29..53), d.get(54..)) else {
            return self.fail(err("truncated MS-CHAPv2 response"));
        };
        let peer: [u8; 16] = peer.try_into().unwrap_or([0; 16]);
        let name = String::from_utf8_lossy(name).into_owned();
        let user = self.identity.clone().unwrap_or_else(|| name.clone());
        let Some(pw) = password(&user).or_else(|| password(mschapv2::strip_domain(&user))) else {
            return self.fail(err(format!("no password for EAP user '{user}'")));
        };
        let ph = mschapv2::nt_password_hash(&pw);
        let want = mschapv2::nt_response(&self.challenge, &peer, &name, &ph);
        if !ct_eq(&want, nt) {
            return self.fail(err(format!(
                "EAP-MSCHAPv2 authentication of '{user}' failed (wrong password)"
            )));
        }
        let ntr: [u8; 24] = want;
        let auth = mschapv2::authenticator_response(&ph, &ntr, &peer, &self.challenge, &name);
        self.pending = Some((mschapv2::msk(&ph, &ntr), user));
        self.id = self.id.wrapping_add(1);
        self.state = ServerState::SuccessAck;
        let msg = format!("{auth} M=Welcome");
        ServerStep::Send(request(
            self.id,
            EapPacket::TYPE_MSCHAPV2,
            ms_packet(OP_SUCCESS, self.id, msg.as_bytes()),
        ))
    }
}

/// What the peer does next.
#[derive(Debug)]
pub enum ClientStep {
    /// Send this response.
    Send(EapPacket),
    /// EAP-Success after a verified server: the MSK.
    Done(SecretBytes),
    /// The conversation failed.
    Failed(EapError),
}

/// The peer side (our client).
pub struct EapClient {
    identity: String,
    password: Zeroizing<String>,
    expected_auth: Option<String>,
    msk: Option<SecretBytes>,
    verified: bool,
}

impl core::fmt::Debug for EapClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EapClient")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl EapClient {
    /// A client that authenticates as `identity` with `password`.
    pub fn new(identity: &str, password: Zeroizing<String>) -> Self {
        Self {
            identity: identity.to_string(),
            password,
            expected_auth: None,
            msk: None,
            verified: false,
        }
    }

    /// Handles the server's request (or Success/Failure).
    pub fn handle(&mut self, req: &EapPacket, rng: &mut dyn Random) -> ClientStep {
        match (req.code, req.method) {
            (EapPacket::REQUEST, Some(EapPacket::TYPE_IDENTITY)) => ClientStep::Send(response(
                req.identifier,
                EapPacket::TYPE_IDENTITY,
                self.identity.as_bytes().to_vec(),
            )),
            (EapPacket::REQUEST, Some(EapPacket::TYPE_MSCHAPV2)) => self.on_mschapv2(req, rng),
            (EapPacket::REQUEST, Some(_)) => {
                // Nak: we only do MS-CHAPv2 (RFC 3748 §5.3.1).
                ClientStep::Send(response(
                    req.identifier,
                    EapPacket::TYPE_NAK,
                    vec![EapPacket::TYPE_MSCHAPV2],
                ))
            }
            (EapPacket::SUCCESS, _) => match (self.verified, self.msk.take()) {
                (true, Some(msk)) => ClientStep::Done(msk),
                _ => ClientStep::Failed(err(
                    "EAP-Success before the server proved it knows the password",
                )),
            },
            (EapPacket::FAILURE, _) => ClientStep::Failed(err(
                "the server answered EAP-Failure (wrong user name or password?)",
            )),
            _ => ClientStep::Failed(err("unexpected EAP packet")),
        }
    }

    fn on_mschapv2(&mut self, req: &EapPacket, rng: &mut dyn Random) -> ClientStep {
        let d = &req.data;
        match d.first() {
            Some(&OP_CHALLENGE) => {
                let (Some(&ms_id), Some(&16), Some(chal)) = (d.get(1), d.get(4), d.get(5..21))
                else {
                    return ClientStep::Failed(err("malformed MS-CHAPv2 challenge"));
                };
                let chal: [u8; 16] = chal.try_into().unwrap_or([0; 16]);
                let mut peer = [0u8; 16];
                rng.fill(&mut peer);
                let ph = mschapv2::nt_password_hash(&self.password);
                let nt = mschapv2::nt_response(&chal, &peer, &self.identity, &ph);
                self.expected_auth = Some(mschapv2::authenticator_response(
                    &ph,
                    &nt,
                    &peer,
                    &chal,
                    &self.identity,
                ));
                self.msk = Some(mschapv2::msk(&ph, &nt));
                let mut body = vec![49];
                body.extend_from_slice(&peer);
                body.extend_from_slice(&[0u8; 8]);
                body.extend_from_slice(&nt);
                body.push(0);
                body.extend_from_slice(self.identity.as_bytes());
                ClientStep::Send(response(
                    req.identifier,
                    EapPacket::TYPE_MSCHAPV2,
                    ms_packet(OP_RESPONSE, ms_id, &body),
                ))
            }
            Some(&OP_SUCCESS) => {
                // "S=<40 hex> M=..." must prove the server knows our password (RFC 2759 §8.8).
                let msg = String::from_utf8_lossy(d.get(4..).unwrap_or_default()).into_owned();
                let got = msg
                    .split_whitespace()
                    .find(|p| p.starts_with("S="))
                    .unwrap_or_default();
                let ok = self.expected_auth.as_deref().is_some_and(|want| {
                    ct_eq(want.as_bytes(), got.to_ascii_uppercase().as_bytes())
                });
                if !ok {
                    return ClientStep::Failed(err(
                        "the server's MS-CHAPv2 authenticator response is wrong",
                    ));
                }
                self.verified = true;
                ClientStep::Send(response(
                    req.identifier,
                    EapPacket::TYPE_MSCHAPV2,
                    vec![OP_SUCCESS],
                ))
            }
            Some(&OP_FAILURE) => ClientStep::Failed(err(
                "EAP-MSCHAPv2 failure from the server (wrong user name or password?)",
            )),
            _ => ClientStep::Failed(err("malformed MS-CHAPv2 request")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::DeterministicRandom;

    fn run(
        client_pw: &str,
        server_pw: &str,
    ) -> (Result<SecretBytes, EapError>, Result<SecretBytes, EapError>) {
        let mut rng = DeterministicRandom::new(5);
        let (mut srv, mut req) = EapServer::start(&mut rng, "vpn.example.org");
        let mut cli = EapClient::new("alice", Zeroizing::new(client_pw.to_string()));
        let pw = server_pw.to_string();
        let lookup = move |u: &str| (u == "alice").then(|| Zeroizing::new(pw.clone()));
        for _ in 0..8 {
            let resp = match cli.handle(&req, &mut rng) {
                ClientStep::Send(p) => p,
                ClientStep::Done(m) => return (Ok(m), Err(err("server result lost"))),
                ClientStep::Failed(e) => return (Err(e), Err(err("client failed first"))),
            };
            match srv.handle(&resp, &lookup) {
                ServerStep::Send(p) => req = p,
                ServerStep::Success(p, msk, user) => {
                    assert_eq!(user, "alice");
                    let c = match cli.handle(&p, &mut rng) {
                        ClientStep::Done(m) => Ok(m),
                        ClientStep::Failed(e) => Err(e),
                        ClientStep::Send(_) => Err(err("unexpected send")),
                    };
                    return (c, Ok(msk));
                }
                ServerStep::Failure(p, e) => {
                    let c = match cli.handle(&p, &mut rng) {
                        ClientStep::Failed(e) => Err(e),
                        _ => Err(err("client did not fail")),
                    };
                    return (c, Err(e));
                }
            }
        }
        panic!("no end");
    }

    #[test]
    fn both_sides_agree_on_the_msk() {
        let (c, s) = run("p4ss", "p4ss");
        let (c, s) = (c.unwrap(), s.unwrap());
        assert_eq!(c, s);
        assert_eq!(c.len(), 64);
    }

    #[test]
    fn wrong_password_fails_on_both_sides() {
        let (c, s) = run("wrong", "p4ss");
        assert!(c.is_err());
        assert!(s.unwrap_err().0.contains("wrong password"));
    }

    #[test]
    fn hostile_packets_do_not_panic() {
        let mut rng = DeterministicRandom::new(9);
        let (mut srv, _) = EapServer::start(&mut rng, "x");
        let lookup = |_: &str| None;
        for d in [
            vec![],
            vec![2],
            vec![2, 0, 0, 5, 49],
            vec![2, 0, 0, 5, 49, 1, 2, 3],
        ] {
            let _ = srv.handle(
                &response(srv.id, EapPacket::TYPE_MSCHAPV2, d.clone()),
                &lookup,
            );
            let mut cli = EapClient::new("a", Zeroizing::new("b".into()));
            let _ = cli.handle(&request(1, EapPacket::TYPE_MSCHAPV2, d), &mut rng);
        }
    }
}
