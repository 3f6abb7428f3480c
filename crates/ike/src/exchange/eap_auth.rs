//! EAP inside IKE_AUTH (RFC 7296 §2.16): the server authenticates with its certificate in the
//! first IKE_AUTH response and runs EAP (Identity, then MS-CHAPv2) over further IKE_AUTH
//! exchanges; at the end both sides send AUTH payloads keyed with the EAP method's MSK, and the
//! Child SA and configuration payloads of the client's first request are answered.

use std::str::FromStr;
use std::time::Instant;

use eap::{ClientStep, EapClient, EapServer, ServerStep};
use wire::ike::{AuthPayload, EapPacket, ExchangeType, Payload};
use wire::Identity;

use crate::auth::psk_auth;
use crate::credentials::LocalCert;
use crate::engine::Engine;
use crate::sa::{EapPhase, IkeSa, RequestKind};

/// How long a client may take for the whole EAP conversation (a user typing a password).
const EAP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

fn eap_payload(payloads: &[Payload]) -> Option<&EapPacket> {
    payloads.iter().find_map(|p| match p {
        Payload::Eap(e) => Some(e),
        _ => None,
    })
}

fn auth_payload(payloads: &[Payload]) -> Option<&AuthPayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Auth(a) => Some(a),
        _ => None,
    })
}

/// The identity an EAP user name stands for (pools and uniqueness key on it).
fn eap_identity(user: &str) -> Identity {
    Identity::from_str(user).unwrap_or_else(|_| Identity::KeyId(user.as_bytes().to_vec()))
}

impl Engine {
    /// MSK-keyed AUTH data of one side (RFC 7296 §2.16: like a PSK, with the MSK as the key).
    fn msk_auth(&self, sa: &IkeSa, msk: &[u8], ours: bool, id: &Identity) -> Option<Vec<u8>> {
        let keys = sa.keys.as_ref()?;
        // Our own AUTH covers our first message; the peer's covers its first message.
        let initiator_side = sa.initiator == ours;
        let (message, nonce, sk_p) = if initiator_side {
            (&sa.init_request, &sa.nr, &keys.sk_pi)
        } else {
            (&sa.init_response, &sa.ni, &keys.sk_pr)
        };
        Some(
            psk_auth(keys.prf, msk, message, nonce, sk_p.as_slice(), id)
                .as_slice()
                .to_vec(),
        )
    }

    /// Server: the client asked for EAP (no AUTH in its first IKE_AUTH request). We answer with
    /// our identity, certificate and signature, and the first EAP request.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_eap_server(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        mid: u32,
        req1: &[Payload],
        idi: Identity,
        our_id: Identity,
        our_cert: Option<LocalCert>,
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        if our_cert.is_none() {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: EAP needs a server certificate (local auth = pubkey); sending AUTHENTICATION_FAILED");
            return self.refuse_auth(sa, mid);
        }
        let (certs, auth) = match self.our_auth(sa, &our_id, our_cert.as_ref(), Some(&idi)) {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: cannot authenticate ourselves: {e}; sending AUTHENTICATION_FAILED");
                return self.refuse_auth(sa, mid);
            }
        };
        let (server, first) = EapServer::start(self.rng.as_mut(), &our_id.to_string());
        tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: '{idi}' asks for EAP; starting EAP-Identity");
        let mut resp = vec![Payload::IdR(our_id.clone())];
        resp.extend(certs);
        resp.push(Payload::Auth(auth));
        resp.push(Payload::Eap(first));
        sa.local_id = Some(our_id.clone());
        sa.eap = Some(Box::new(EapPhase::Server {
            server,
            req1: req1.to_vec(),
            idi,
            our_id,
        }));
        sa.half_open_deadline = Some(now + EAP_TIMEOUT);
        self.send_response(sa, ExchangeType::IkeAuth, mid, &resp);
        true
    }

    /// Server: the next IKE_AUTH request of an EAP conversation.
    pub(crate) fn responder_eap(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        mid: u32,
        inner: &[Payload],
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        match sa.eap.take().map(|b| *b) {
            Some(EapPhase::Server {
                mut server,
                req1,
                idi,
                our_id,
            }) => {
                let Some(pkt) = eap_payload(inner) else {
                    tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: IKE_AUTH request without EAP payload during EAP; sending AUTHENTICATION_FAILED");
                    return self.refuse_auth(sa, mid);
                };
                let creds = &self.creds;
                let step = server.handle(pkt, &|u: &str| creds.eap_password(u));
                match step {
                    ServerStep::Send(p) => {
                        sa.eap = Some(Box::new(EapPhase::Server {
                            server,
                            req1,
                            idi,
                            our_id,
                        }));
                        self.send_response(sa, ExchangeType::IkeAuth, mid, &[Payload::Eap(p)]);
                        true
                    }
                    ServerStep::Success(p, msk, user) => {
                        tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: EAP-MSCHAPv2 authentication of '{user}' successful");
                        sa.eap = Some(Box::new(EapPhase::ServerDone {
                            msk,
                            req1,
                            idi,
                            our_id,
                            user,
                        }));
                        self.send_response(sa, ExchangeType::IkeAuth, mid, &[Payload::Eap(p)]);
                        true
                    }
                    ServerStep::Failure(p, e) => {
                        tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: {e}; sending EAP-Failure (AUTHENTICATION_FAILED)");
                        self.send_response(sa, ExchangeType::IkeAuth, mid, &[Payload::Eap(p)]);
                        self.fail(sa, "AUTHENTICATION_FAILED");
                        false
                    }
                }
            }
            Some(EapPhase::ServerDone {
                msk,
                req1,
                idi,
                our_id,
                user,
            }) => {
                let expected = self.msk_auth(sa, msk.as_slice(), false, &idi);
                let ok = match (auth_payload(inner), expected) {
                    (Some(a), Some(want)) if a.method == AuthPayload::SHARED_KEY_MIC => {
                        crypto::ct_eq(&a.data, &want)
                    }
                    _ => false,
                };
                if !ok {
                    tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: AUTH after EAP from '{user}' does not match the MSK; sending AUTHENTICATION_FAILED");
                    return self.refuse_auth(sa, mid);
                }
                let Some(ours) = self.msk_auth(sa, msk.as_slice(), true, &our_id) else {
                    return false;
                };
                let head = vec![Payload::Auth(AuthPayload {
                    method: AuthPayload::SHARED_KEY_MIC,
                    data: ours,
                })];
                // The authenticated identity is the EAP user's.
                let who = eap_identity(&user);
                let _ = idi;
                sa.half_open_deadline = None;
                self.complete_responder_auth(sa, now, mid, &req1, who, our_id, head)
            }
            other => {
                sa.eap = other.map(Box::new);
                self.refuse_auth(sa, mid)
            }
        }
    }

    /// Client: prepares EAP for our first IKE_AUTH request (no AUTH payload). Returns our IKE
    /// identity.
    pub(crate) fn start_eap_client(&mut self, sa: &mut IkeSa) -> Result<Identity, String> {
        let our_id = sa.cfg.our_identity(sa.local.ip());
        let user = sa.cfg.eap_id.clone().unwrap_or_else(|| our_id.to_string());
        let password = self
            .creds
            .eap_password(&user)
            .ok_or_else(|| format!("no EAP password for '{user}'"))?;
        sa.eap = Some(Box::new(EapPhase::Client {
            client: EapClient::new(&user, password),
        }));
        Ok(our_id)
    }

    /// Client: an IKE_AUTH response during EAP. The first one also carries the server's
    /// identity, certificate and AUTH, which must verify before we answer any EAP request.
    pub(crate) fn client_eap_round(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        inner: &[Payload],
        mut client: EapClient,
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        if sa.remote_id.is_none() {
            let idr = inner.iter().find_map(|p| match p {
                Payload::IdR(i) => Some(i.clone()),
                _ => None,
            });
            let certs: Vec<Vec<u8>> = inner
                .iter()
                .filter_map(|p| match p {
                    Payload::Cert { encoding: 4, data } => Some(data.clone()),
                    _ => None,
                })
                .collect();
            let (Some(idr), Some(auth)) = (idr, auth_payload(inner)) else {
                return self.initiator_refuses(
                    sa,
                    now,
                    "the server sent no IDr or AUTH before EAP",
                );
            };
            let our_id = sa
                .local_id
                .clone()
                .unwrap_or_else(|| sa.cfg.our_identity(sa.local.ip()));
            let id_ok = sa.cfg.remote_id.as_ref().is_none_or(|r| r.matches(&idr));
            let verdict = if id_ok {
                self.check_peer_auth(sa, &idr, &our_id, auth, &certs)
            } else {
                Err(format!("server identity '{idr}' is not the configured one"))
            };
            if let Err(why) = verdict {
                return self.initiator_refuses(sa, now, &why);
            }
            sa.remote_id = Some(idr);
        }
        let Some(pkt) = eap_payload(inner) else {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: IKE_AUTH response without EAP payload");
            self.fail(sa, "malformed IKE_AUTH response");
            return false;
        };
        match client.handle(pkt, self.rng.as_mut()) {
            ClientStep::Send(p) => {
                sa.eap = Some(Box::new(EapPhase::Client { client }));
                self.send_request(
                    sa,
                    now,
                    RequestKind::Auth,
                    ExchangeType::IkeAuth,
                    &[Payload::Eap(p)],
                );
                true
            }
            ClientStep::Done(msk) => {
                let our_id = sa
                    .local_id
                    .clone()
                    .unwrap_or_else(|| sa.cfg.our_identity(sa.local.ip()));
                let Some(data) = self.msk_auth(sa, msk.as_slice(), true, &our_id) else {
                    return false;
                };
                tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: EAP-MSCHAPv2 succeeded; sending AUTH");
                sa.eap = Some(Box::new(EapPhase::ClientDone { msk }));
                let a = Payload::Auth(AuthPayload {
                    method: AuthPayload::SHARED_KEY_MIC,
                    data,
                });
                self.send_request(sa, now, RequestKind::Auth, ExchangeType::IkeAuth, &[a]);
                true
            }
            ClientStep::Failed(e) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: EAP failed: {e} (AUTHENTICATION_FAILED)");
                self.fail(sa, "AUTHENTICATION_FAILED");
                false
            }
        }
    }

    /// Client: the last IKE_AUTH response: the server's MSK-keyed AUTH, the Child SA and the
    /// configuration payloads.
    pub(crate) fn client_eap_final(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        inner: &[Payload],
        msk: &crypto::SecretBytes,
    ) -> bool {
        let Some(idr) = sa.remote_id.clone() else {
            return false;
        };
        let expected = self.msk_auth(sa, msk.as_slice(), false, &idr);
        let ok = match (auth_payload(inner), expected) {
            (Some(a), Some(want)) => crypto::ct_eq(&a.data, &want),
            _ => false,
        };
        if !ok {
            return self.initiator_refuses(
                sa,
                now,
                "the server's AUTH after EAP does not match the MSK",
            );
        }
        let our_id = sa
            .local_id
            .clone()
            .unwrap_or_else(|| sa.cfg.our_identity(sa.local.ip()));
        self.complete_initiator_auth(sa, now, inner, idr, our_id)
    }
}
