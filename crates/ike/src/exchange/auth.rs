//! IKE_AUTH (RFC 7296 §1.2): identities, PSK authentication (§2.15), and the first Child SA
//! with traffic-selector narrowing (§2.9) and its keys (§2.17).

use std::time::Instant;

use crypto::proposal::Protocol;
use crypto::SecretBytes;
use wire::ike::{AuthPayload, ExchangeType, Notify, NotifyType, Payload, TsPayload};
use wire::{Identity, TrafficSelector};

use super::child::{spi_bytes, spi_from, ts_list, NewChild};
use super::{describe_proposals, error_notify, has_notify, is_child_error};
use crate::auth::{psk_auth, sign_auth, signed_octets, verify_auth};
use crate::config::{AuthKind, IkeConfig};
use crate::credentials::{CertUsage, LocalCert};
use crate::engine::Engine;
use crate::event::Event;
use crate::sa::{EapPhase, IkeSa, IkeState, PendingChild, RequestKind};
use crate::{proposal, ts};

/// The payloads of an IKE_AUTH message we look at.
#[derive(Default)]
struct AuthMsg<'a> {
    idi: Option<&'a Identity>,
    idr: Option<&'a Identity>,
    auth: Option<&'a AuthPayload>,
    sa: Option<&'a [wire::ike::Proposal]>,
    tsi: Option<&'a [TrafficSelector]>,
    tsr: Option<&'a [TrafficSelector]>,
    /// X.509 certificates (encoding 4), end entity first (RFC 7296 §3.6).
    certs: Vec<Vec<u8>>,
}

/// CERT encoding "X.509 Certificate - Signature" (RFC 7296 §3.6).
const CERT_X509: u8 = 4;

impl<'a> AuthMsg<'a> {
    fn read(payloads: &'a [Payload]) -> Self {
        let mut m = AuthMsg::default();
        for p in payloads {
            match p {
                Payload::IdI(i) => m.idi = m.idi.or(Some(i)),
                Payload::IdR(i) => m.idr = m.idr.or(Some(i)),
                Payload::Auth(a) => m.auth = m.auth.or(Some(a)),
                Payload::Sa(s) => m.sa = m.sa.or(Some(s)),
                Payload::TsI(TsPayload { selectors }) => m.tsi = m.tsi.or(Some(selectors)),
                Payload::TsR(TsPayload { selectors }) => m.tsr = m.tsr.or(Some(selectors)),
                Payload::Cert { encoding, data } if *encoding == CERT_X509 => {
                    m.certs.push(data.clone())
                }
                _ => {}
            }
        }
        m
    }
}

impl Engine {
    fn psk_for(&self, local: &Identity, remote: Option<&Identity>) -> Option<SecretBytes> {
        self.creds.psk(local, remote)
    }

    /// Our identity and, with public-key authentication, our certificate.
    fn our_credentials(&self, sa: &IkeSa) -> Result<(Identity, Option<LocalCert>), String> {
        if sa.cfg.local_auth != AuthKind::Pubkey {
            return Ok((sa.cfg.our_identity(sa.local.ip()), None));
        }
        let cert = self
            .creds
            .local_cert(sa.cfg.local_id.as_ref())
            .ok_or_else(|| {
                format!(
                    "no certificate and key for {}",
                    sa.cfg
                        .local_id
                        .as_ref()
                        .map_or("this connection".to_string(), |i| format!("'{i}'"))
                )
            })?;
        let id = sa
            .cfg
            .local_id
            .clone()
            .unwrap_or_else(|| cert.identity.clone());
        Ok((id, Some(cert)))
    }

    /// Our AUTH payload and the CERT payloads that go before it. `peer` selects the PSK.
    pub(crate) fn our_auth(
        &self,
        sa: &IkeSa,
        id: &Identity,
        cert: Option<&LocalCert>,
        peer: Option<&Identity>,
    ) -> Result<(Vec<Payload>, AuthPayload), String> {
        let keys = sa.keys.as_ref().ok_or("no keys")?;
        let (message, nonce, sk_p) = if sa.initiator {
            (&sa.init_request, &sa.nr, &keys.sk_pi)
        } else {
            (&sa.init_response, &sa.ni, &keys.sk_pr)
        };
        if let Some(c) = cert {
            let octets = signed_octets(keys.prf, message, nonce, sk_p.as_slice(), id);
            let auth = sign_auth(&c.key, &sa.peer_sig_hashes, &octets, false)?;
            let certs = c
                .chain
                .iter()
                .map(|d| Payload::Cert {
                    encoding: CERT_X509,
                    data: d.clone(),
                })
                .collect();
            return Ok((certs, auth));
        }
        let psk = self.psk_for(id, peer).ok_or_else(|| {
            format!(
                "no pre-shared key for '{id}' - '{}'",
                peer.map_or("%any".to_string(), ToString::to_string)
            )
        })?;
        let data = psk_auth(
            keys.prf,
            psk.as_slice(),
            message,
            nonce,
            sk_p.as_slice(),
            id,
        );
        Ok((
            Vec::new(),
            AuthPayload {
                method: AuthPayload::SHARED_KEY_MIC,
                data: data.as_slice().to_vec(),
            },
        ))
    }

    /// Checks the peer's AUTH payload (RFC 7296 §2.15) the way the connection requires: a PSK
    /// MIC, or a signature by a certificate that chains to a trusted CA and proves the
    /// identity. The error is the log line's reason.
    pub(crate) fn check_peer_auth(
        &self,
        sa: &IkeSa,
        peer: &Identity,
        our_id: &Identity,
        auth: &AuthPayload,
        certs: &[Vec<u8>],
    ) -> Result<(), String> {
        let keys = sa.keys.as_ref().ok_or("no keys")?;
        let (message, nonce, sk_p) = if sa.initiator {
            (&sa.init_response, &sa.ni, &keys.sk_pr)
        } else {
            (&sa.init_request, &sa.nr, &keys.sk_pi)
        };
        match sa.cfg.remote_auth {
            AuthKind::Psk => {
                if auth.method != AuthPayload::SHARED_KEY_MIC {
                    return Err(format!("'{peer}' uses authentication method {}, but the connection expects a pre-shared key", auth.method));
                }
                let psk = self
                    .psk_for(our_id, Some(peer))
                    .ok_or_else(|| format!("no pre-shared key for '{our_id}' - '{peer}'"))?;
                let expected = psk_auth(
                    keys.prf,
                    psk.as_slice(),
                    message,
                    nonce,
                    sk_p.as_slice(),
                    peer,
                );
                if crypto::ct_eq(expected.as_slice(), &auth.data) {
                    Ok(())
                } else {
                    Err(format!("authentication of '{peer}' with pre-shared key failed (AUTH payload does not match our key)"))
                }
            }
            AuthKind::Eap => Err(format!(
                "'{peer}' sent an AUTH payload, but the connection expects EAP"
            )),
            AuthKind::Pubkey => {
                if auth.method == AuthPayload::SHARED_KEY_MIC {
                    return Err(format!(
                        "'{peer}' uses a pre-shared key, but the connection expects a certificate"
                    ));
                }
                if certs.is_empty() {
                    return Err(format!("'{peer}' sent no certificate"));
                }
                let cert = self
                    .creds
                    .verify_peer(peer, certs, Self::cert_usage(sa))
                    .map_err(|e| format!("certificate of '{peer}' refused: {e}"))?;
                let octets = signed_octets(keys.prf, message, nonce, sk_p.as_slice(), peer);
                let scheme = verify_auth(&cert.spki, auth, &octets).map_err(|e| {
                    format!("authentication of '{peer}' with its certificate failed: {e}")
                })?;
                tracing::debug!(ike_sa = %sa.id, "'{peer}' authenticated with certificate '{}' ({scheme:?})", cert.subject);
                Ok(())
            }
        }
    }

    /// Initiator: sends IKE_AUTH with IDi, [IDr], AUTH, and the first child's SA/TSi/TSr.
    /// Returns false when the SA cannot continue (no key).
    pub(crate) fn send_auth_request(&mut self, sa: &mut IkeSa, now: Instant) -> bool {
        let name = sa.cfg.name.clone();
        let id = sa.id;
        let prepared = if sa.cfg.local_auth == AuthKind::Eap {
            self.start_eap_client(sa)
                .map(|our_id| (our_id, Vec::new(), None))
        } else {
            self.our_credentials(sa).and_then(|(our_id, cert)| {
                self.our_auth(sa, &our_id, cert.as_ref(), sa.cfg.remote_id.as_ref())
                    .map(|(certs, auth)| (our_id, certs, Some(auth)))
            })
        };
        let (our_id, certs, auth) = match prepared {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: cannot authenticate: {e}");
                self.fail(sa, "no credentials");
                return false;
            }
        };
        let mut inner = vec![Payload::IdI(our_id.clone())];
        inner.extend(certs);
        if !self.has_other_sa(sa) {
            inner.push(Payload::Notify(Notify::new(
                NotifyType::INITIAL_CONTACT,
                vec![],
            )));
        }
        if let Some(req) = self.certreq(sa) {
            inner.push(req);
        }
        if let Some(r) = &sa.cfg.remote_id {
            inner.push(Payload::IdR(r.clone()));
        }
        // With EAP the AUTH payload comes after the EAP conversation (RFC 7296 §2.16).
        if let Some(auth) = auth {
            inner.push(Payload::Auth(auth));
        }
        if sa.cfg.mobike {
            inner.push(Payload::Notify(Notify::new(
                NotifyType::MOBIKE_SUPPORTED,
                vec![],
            )));
        }
        if let Some(cp) = Self::vip_request(sa) {
            inner.push(cp);
        }
        let child = match &sa.wanted_child {
            Some(n) => sa.cfg.children.iter().find(|c| &c.name == n).cloned(),
            None => sa.cfg.children.first().cloned(),
        };
        // AH proposals are left out under UDP encapsulation (RFC 3948 is ESP-only); a child
        // left with nothing to offer is not requested (the IKE SA comes up without it).
        let protocols = sa.child_protocols();
        let child = child.filter(|c| {
            let offerable = super::child::child_specs(c, protocols).next().is_some();
            if !offerable {
                let why = super::child::no_ah_reason(sa, c)
                    .unwrap_or_else(|| "it has no proposals".to_string());
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: CHILD_SA {} not established: {why}", c.name);
            }
            offerable
        });
        if let Some(child) = child {
            let spi = self.alloc_esp_spi();
            let tsi = super::child::local_ts(sa, &child.local_ts);
            let tsr = super::child::remote_ts(sa, &child.remote_ts);
            let props = super::child::child_offer(&child, protocols, spi, false);
            inner.extend(super::child::mode_request(&child));
            inner.push(Payload::Sa(props));
            inner.push(Payload::TsI(TsPayload {
                selectors: tsi.clone(),
            }));
            inner.push(Payload::TsR(TsPayload {
                selectors: tsr.clone(),
            }));
            sa.pending_child = Some(Box::new(PendingChild {
                cfg: child,
                spi,
                protocols,
                tsi,
                tsr,
            }));
        }
        sa.local_id = Some(our_id);
        sa.state = IkeState::AuthSent;
        self.send_request(sa, now, RequestKind::Auth, ExchangeType::IkeAuth, &inner);
        true
    }

    /// What the peer's certificate must allow: a client asking us for a virtual IP checks the
    /// server (serverAuth), a server handing out addresses checks its clients (clientAuth),
    /// net-to-net gateways accept either (RFC 4945 §5.1.3.12).
    fn cert_usage(sa: &IkeSa) -> CertUsage {
        if sa.initiator && !sa.cfg.vips.is_empty() {
            CertUsage::Server
        } else if !sa.initiator && !sa.cfg.pools.is_empty() {
            CertUsage::Client
        } else {
            CertUsage::Any
        }
    }

    /// CERTREQ naming our trusted CAs (RFC 7296 §3.7), when the peer must use a certificate.
    pub(crate) fn certreq(&self, sa: &IkeSa) -> Option<Payload> {
        if sa.cfg.remote_auth != AuthKind::Pubkey {
            return None;
        }
        self.certreq_payload()
    }

    /// Responder's CERTREQ in IKE_SA_INIT: when any connection matching the addresses expects
    /// certificates from its peers.
    pub(crate) fn init_certreq(&self, sa: &IkeSa) -> Option<Payload> {
        let any_pubkey = sa.cfg.remote_auth == AuthKind::Pubkey
            || self.conns.iter().any(|c| {
                c.remote_auth == AuthKind::Pubkey && c.matches_addrs(sa.local.ip(), sa.remote.ip())
            });
        if !any_pubkey {
            return None;
        }
        self.certreq_payload()
    }

    fn certreq_payload(&self) -> Option<Payload> {
        let hashes = self.creds.ca_hashes();
        if hashes.is_empty() {
            return None;
        }
        Some(Payload::CertReq {
            encoding: CERT_X509,
            data: hashes.concat(),
        })
    }

    fn has_other_sa(&self, sa: &IkeSa) -> bool {
        self.sas
            .values()
            .any(|o| o.id != sa.id && o.cfg.name == sa.cfg.name && o.state == IkeState::Established)
    }

    /// Responder: the IKE_AUTH request. Returns whether to keep the SA.
    pub(crate) fn responder_auth(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        mid: u32,
        inner: &[Payload],
    ) -> bool {
        if sa.eap.is_some() {
            return self.responder_eap(sa, now, mid, inner);
        }
        let m = AuthMsg::read(inner);
        let id = sa.id;
        let Some(idi) = m.idi else {
            tracing::warn!(ike_sa = %id, "IKE_SA {}[{id}]: IKE_AUTH from {} has no IDi payload; sending AUTHENTICATION_FAILED", sa.cfg.name, sa.remote);
            return self.refuse_auth(sa, mid);
        };
        // Choose the connection by identities and the peer's authentication method (RFC 4301
        // §4.4.3 in its simplest form; no AUTH payload means EAP, RFC 7296 §2.16).
        let peer_auth = match m.auth {
            None => AuthKind::Eap,
            Some(a) if a.method == AuthPayload::SHARED_KEY_MIC => AuthKind::Psk,
            Some(_) => AuthKind::Pubkey,
        };
        let Some(cfg) = self.pick_connection(sa, idi, m.idr, peer_auth) else {
            tracing::warn!(ike_sa = %id, "IKE_SA {}[{id}]: no connection for peer identity '{idi}' authenticating with {}{}; sending AUTHENTICATION_FAILED",
                sa.cfg.name, peer_auth, m.idr.map_or(String::new(), |r| format!(" asking for '{r}'")));
            return self.refuse_auth(sa, mid);
        };
        sa.cfg = cfg;
        let name = sa.cfg.name.clone();
        let prepared = self.our_credentials(sa);
        let (our_id, our_cert) = match prepared {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: cannot authenticate ourselves: {e}; sending AUTHENTICATION_FAILED");
                return self.refuse_auth(sa, mid);
            }
        };
        let Some(auth) = m.auth else {
            if sa.cfg.remote_auth == AuthKind::Eap {
                return self.start_eap_server(sa, now, mid, inner, idi.clone(), our_id, our_cert);
            }
            tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: '{idi}' sent no AUTH payload (EAP) but the connection does not use EAP; sending AUTHENTICATION_FAILED");
            return self.refuse_auth(sa, mid);
        };
        if let Err(why) = self.check_peer_auth(sa, idi, &our_id, auth, &m.certs) {
            tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: {why}; sending AUTHENTICATION_FAILED");
            return self.refuse_auth(sa, mid);
        }
        let (our_certs, our_auth) = match self.our_auth(sa, &our_id, our_cert.as_ref(), Some(idi)) {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: cannot authenticate ourselves: {e}; sending AUTHENTICATION_FAILED");
                return self.refuse_auth(sa, mid);
            }
        };
        let mut head = vec![Payload::IdR(our_id.clone())];
        head.extend(our_certs);
        head.push(Payload::Auth(our_auth));
        self.complete_responder_auth(sa, now, mid, inner, idi.clone(), our_id, head)
    }

    /// The authenticated peer's IKE SA comes up: uniqueness, state, MOBIKE, configuration
    /// payloads and the first Child SA from `req` (the request that carried them), then the
    /// response `head` plus those answers goes out.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn complete_responder_auth(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        mid: u32,
        req: &[Payload],
        idi: Identity,
        our_id: Identity,
        mut resp: Vec<Payload>,
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        let inner = req;
        let m = AuthMsg::read(req);
        let idi = &idi;
        // Uniqueness (keep): an established SA for this identity wins over the newcomer.
        if sa.cfg.unique == crate::config::Unique::Keep
            && !has_notify(inner, NotifyType::INITIAL_CONTACT)
            && self.same_identity(sa, idi).next().is_some()
        {
            tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: '{idi}' already has an IKE SA and uniqueness is 'keep'; sending AUTHENTICATION_FAILED");
            return self.refuse_auth(sa, mid);
        }
        sa.state = IkeState::Established;
        sa.established_at = Some(now);
        sa.rekey_at = self.ike_rekey_at(sa, now);
        sa.half_open_deadline = None;
        if let Some(from) = sa.half_open_from.take() {
            self.half_open.remove(&(from, sa.spi_i));
        }
        sa.local_id = Some(our_id.clone());
        sa.remote_id = Some(idi.clone());
        if sa.nat.local {
            sa.keepalive_deadline = Some(now + self.cfg.keepalive_interval);
        }
        tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}] established between {}[{}]...{}[{}] with {}",
            sa.local, self.creds.describe(&our_id), sa.remote, self.creds.describe(idi), sa.suite.map_or(String::new(), |s| s.to_string()));
        self.stats.ike_established += 1;
        self.events.push_back(Event::IkeSaUp {
            ike_sa: id,
            connection: name.clone(),
        });
        self.enforce_uniqueness(sa, now, has_notify(inner, NotifyType::INITIAL_CONTACT));
        // MOBIKE (RFC 4555 §3.2): answer the announcement when we support it too.
        if sa.cfg.mobike && has_notify(inner, NotifyType::MOBIKE_SUPPORTED) {
            sa.mobike = true;
            resp.push(Payload::Notify(Notify::new(
                NotifyType::MOBIKE_SUPPORTED,
                vec![],
            )));
        }
        let mut cp_failed = false;
        if let Some(req) = super::config_payload::find_cp(inner) {
            match self.answer_cp(sa, req) {
                Ok(Some(reply)) => resp.push(reply),
                Ok(None) => {}
                Err(()) => {
                    cp_failed = true;
                    resp.push(Payload::Notify(Notify::new(
                        NotifyType::INTERNAL_ADDRESS_FAILURE,
                        vec![],
                    )));
                }
            }
        }
        if let (false, Some(props), Some(tsi), Some(tsr)) = (cp_failed, m.sa, m.tsi, m.tsr) {
            let requested = has_notify(inner, NotifyType::USE_TRANSPORT_MODE);
            let chosen = self
                .responder_child(sa, props, tsi, tsr)
                .and_then(|(nc, num)| match super::child::mode_answer(&nc.cfg, requested) {
                    Ok(transport) => Ok((nc, num, transport)),
                    Err(()) => {
                        tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: CHILD_SA {} is transport mode but the peer asked for a tunnel; sending NO_PROPOSAL_CHOSEN", nc.cfg.name);
                        self.esp_spis.remove(&nc.inbound.spi);
                        Err(NotifyType::NO_PROPOSAL_CHOSEN)
                    }
                });
            match chosen {
                Ok((nc, chosen_num, transport)) => {
                    if transport {
                        resp.push(Payload::Notify(Notify::new(
                            NotifyType::USE_TRANSPORT_MODE,
                            vec![],
                        )));
                    }
                    resp.push(Payload::Sa(vec![proposal::suite_to_wire(
                        &nc.suite,
                        chosen_num,
                        spi_bytes(nc.inbound.spi),
                    )]));
                    resp.push(Payload::TsI(TsPayload {
                        selectors: nc.remote_ts.clone(),
                    }));
                    resp.push(Payload::TsR(TsPayload {
                        selectors: nc.local_ts.clone(),
                    }));
                    self.install_child(sa, now, nc);
                }
                Err(n) => resp.push(Payload::Notify(Notify::new(n, vec![]))),
            }
        }
        self.send_response(sa, ExchangeType::IkeAuth, mid, &resp);
        true
    }

    /// Answers AUTHENTICATION_FAILED and drops the half-open SA.
    pub(crate) fn refuse_auth(&mut self, sa: &mut IkeSa, mid: u32) -> bool {
        let n = Notify::new(NotifyType::AUTHENTICATION_FAILED, vec![]);
        self.send_response(sa, ExchangeType::IkeAuth, mid, &[Payload::Notify(n)]);
        self.fail(sa, "AUTHENTICATION_FAILED");
        false
    }

    /// The connection an authenticated peer belongs to: among those matching the addresses,
    /// one whose remote identity (if set) is `idi`, whose local identity matches `idr` (if
    /// sent) and which expects the peer's authentication method (so PSK, certificate and EAP
    /// clients can share a server). The connection chosen at IKE_SA_INIT wins ties.
    fn pick_connection(
        &self,
        sa: &IkeSa,
        idi: &Identity,
        idr: Option<&Identity>,
        peer_auth: AuthKind,
    ) -> Option<std::sync::Arc<IkeConfig>> {
        // The IKE suite is already chosen: another connection must accept it too.
        let suite = sa.suite.map(|s| [proposal::suite_to_wire(&s, 1, vec![])]);
        let ok = |c: &IkeConfig| {
            c.matches_addrs(sa.local.ip(), sa.remote.ip())
                && c.remote_auth == peer_auth
                && c.remote_id.as_ref().is_none_or(|r| r.matches(idi))
                && idr.is_none_or(|r| c.our_identity(sa.local.ip()).matches(r))
                && suite.as_ref().is_some_and(|s| {
                    proposal::check_reply(&c.proposals, s, &[Protocol::Ike], false).is_some()
                })
        };
        if ok(&sa.cfg) {
            return Some(sa.cfg.clone());
        }
        self.conns.iter().find(|c| ok(c)).cloned()
    }

    /// Responder's Child SA choice: the first child whose selectors overlap the proposed ones,
    /// then an ESP proposal. Errors are the notify to send.
    fn responder_child(
        &mut self,
        sa: &IkeSa,
        props: &[wire::ike::Proposal],
        tsi: &[TrafficSelector],
        tsr: &[TrafficSelector],
    ) -> Result<(NewChild, u8), NotifyType> {
        let id = sa.id;
        let name = &sa.cfg.name;
        let Some((child_cfg, remote_ts, local_ts)) = Self::child_for_selectors(sa, tsi, tsr) else {
            tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: traffic selectors {} === {} unacceptable; sending TS_UNACCEPTABLE", ts_list(tsi), ts_list(tsr));
            return Err(NotifyType::TS_UNACCEPTABLE);
        };
        // AH only without UDP encapsulation (RFC 3948 is ESP-only; RFC 7296 §2.23).
        let protocols = sa.child_protocols();
        let Some((suite, p)) = proposal::select(
            super::child::child_specs(&child_cfg, protocols),
            props,
            protocols,
            None,
            true,
        ) else {
            tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: no acceptable proposal for CHILD_SA {}: peer offered {}, we accept {}{}; sending NO_PROPOSAL_CHOSEN",
                child_cfg.name, describe_proposals(props), super::child::accepted_list(&child_cfg, protocols),
                super::child::no_ah_reason(sa, &child_cfg).map_or(String::new(), |r| format!(" ({r})")));
            return Err(NotifyType::NO_PROPOSAL_CHOSEN);
        };
        let Some(peer_spi) = spi_from(&p.spi) else {
            return Err(NotifyType::NO_PROPOSAL_CHOSEN);
        };
        let num = p.num;
        let our_spi = self.alloc_esp_spi();
        let Some((inbound, outbound)) =
            Self::child_keys(sa, &suite, None, &sa.ni, &sa.nr, false, our_spi, peer_spi)
        else {
            self.esp_spis.remove(&our_spi);
            return Err(NotifyType::NO_PROPOSAL_CHOSEN);
        };
        Ok((
            NewChild {
                cfg: child_cfg,
                suite,
                local_ts,
                remote_ts,
                inbound,
                outbound,
                replaces: None,
                outbound_now: true,
            },
            num,
        ))
    }

    /// Other established IKE SAs of this connection with the same peer identity.
    fn same_identity<'a>(
        &'a self,
        sa: &'a IkeSa,
        peer: &'a Identity,
    ) -> impl Iterator<Item = crate::event::IkeSaId> + 'a {
        self.sas_of_peer(peer)
            .filter(move |o| {
                o.id != sa.id
                    && o.cfg.name == sa.cfg.name
                    && o.state == IkeState::Established
                    && o.rekeyed_to.is_none()
                    && o.remote_id.as_ref().is_some_and(|r| r.matches(peer))
            })
            .map(|o| o.id)
    }

    /// IKE SA uniqueness per identity (RFC 4301 §4.4.3 PAD; RFC 7296 §2.4 INITIAL_CONTACT):
    /// after INITIAL_CONTACT the peer has no other SAs, so ours are dropped silently; with
    /// `unique = replace` older SAs are deleted (DELETE sent).
    fn enforce_uniqueness(&mut self, sa: &IkeSa, now: Instant, initial_contact: bool) {
        let Some(peer) = sa.remote_id.clone() else {
            return;
        };
        let others: Vec<_> = self.same_identity(sa, &peer).collect();
        for sid in others {
            if initial_contact {
                if let Some(mut old) = self.sas.remove(&sid) {
                    tracing::info!(ike_sa = %sid, "IKE_SA {}[{sid}]: replaced after INITIAL_CONTACT from the peer", old.cfg.name);
                    self.down(&mut old, "replaced (INITIAL_CONTACT)");
                    self.finish(old, false);
                }
            } else if sa.cfg.unique == crate::config::Unique::Replace {
                tracing::info!(ike_sa = %sid, "IKE_SA {}[{sid}]: replaced by IKE_SA [{}] of the same identity '{peer}'", sa.cfg.name, sa.id);
                self.terminate(now, sid);
            }
        }
    }

    /// Initiator: the IKE_AUTH response. Returns whether to keep the SA.
    pub(crate) fn initiator_auth_response(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        inner: &[Payload],
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        if let Some(n) = error_notify(inner) {
            if !is_child_error(n) {
                if n == NotifyType::AUTHENTICATION_FAILED {
                    let hint = match sa.cfg.local_auth {
                        AuthKind::Psk => "check the pre-shared key and identities",
                        AuthKind::Pubkey => "check our certificate, whether the peer trusts its CA and CRLs, and the identities",
                        AuthKind::Eap => "check the user name and password",
                    };
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer refused our authentication: AUTHENTICATION_FAILED ({hint})");
                } else {
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer answered {n} to IKE_AUTH");
                }
                self.fail(sa, &n.to_string());
                return false;
            }
        }
        match sa.eap.take().map(|b| *b) {
            Some(EapPhase::Client { client }) => {
                return self.client_eap_round(sa, now, inner, client)
            }
            Some(EapPhase::ClientDone { msk }) => {
                return self.client_eap_final(sa, now, inner, &msk)
            }
            Some(other) => sa.eap = Some(Box::new(other)),
            None => {}
        }
        let m = AuthMsg::read(inner);
        let (Some(idr), Some(auth)) = (m.idr, m.auth) else {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: IKE_AUTH response lacks IDr or AUTH");
            self.fail(sa, "malformed IKE_AUTH response");
            return false;
        };
        let our_id = sa
            .local_id
            .clone()
            .unwrap_or_else(|| sa.cfg.our_identity(sa.local.ip()));
        let id_ok = sa.cfg.remote_id.as_ref().is_none_or(|r| r.matches(idr));
        let verdict = if id_ok {
            self.check_peer_auth(sa, idr, &our_id, auth, &m.certs)
        } else {
            Err(format!(
                "peer identity '{idr}' is not the configured '{}'",
                sa.cfg
                    .remote_id
                    .as_ref()
                    .map_or(String::new(), ToString::to_string)
            ))
        };
        if let Err(why) = verdict {
            return self.initiator_refuses(sa, now, &why);
        }
        self.complete_initiator_auth(sa, now, inner, idr.clone(), our_id)
    }

    /// We refuse the responder's authentication: tell it in a separate INFORMATIONAL exchange
    /// (RFC 7296 §2.21.2), then go.
    pub(crate) fn initiator_refuses(&mut self, sa: &mut IkeSa, now: Instant, why: &str) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: {why}; sending AUTHENTICATION_FAILED");
            // RFC 7296 §2.21.2: tell the peer in a separate INFORMATIONAL exchange, then go.
            sa.state = IkeState::Deleting;
            if let Some(p) = sa.pending_child.take() {
                self.esp_spis.remove(&p.spi);
            }
            sa.queued.push_back(RequestKind::AuthFailedNotice);
            self.pump(sa, now);
            if let Some((_, o)) = sa.outstanding.as_mut() {
                // One try is enough: the SA is dead either way.
                o.tries = self.cfg.retransmit_tries;
            }
            true
        }
    }

    /// The responder is authenticated: the IKE SA comes up, then configuration payloads and the
    /// first Child SA from the last IKE_AUTH response.
    pub(crate) fn complete_initiator_auth(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        inner: &[Payload],
        idr: Identity,
        our_id: Identity,
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        let m = AuthMsg::read(inner);
        let idr = &idr;
        sa.state = IkeState::Established;
        sa.established_at = Some(now);
        sa.rekey_at = self.ike_rekey_at(sa, now);
        sa.remote_id = Some(idr.clone());
        sa.mobike = sa.cfg.mobike && has_notify(inner, NotifyType::MOBIKE_SUPPORTED);
        if sa.nat.local {
            sa.keepalive_deadline = Some(now + self.cfg.keepalive_interval);
            if sa.mobike {
                // Learn how the peer sees us on port 4500, to notice mapping changes later
                // (RFC 4555 §3.8): one liveness check with NAT detection.
                sa.queued.push_back(RequestKind::Liveness);
            }
        }
        tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}] established between {}[{}]...{}[{}] with {}",
            sa.local, self.creds.describe(&our_id), sa.remote, self.creds.describe(idr), sa.suite.map_or(String::new(), |s| s.to_string()));
        self.stats.ike_established += 1;
        self.events.push_back(Event::IkeSaUp {
            ike_sa: id,
            connection: name.clone(),
        });
        if let Some(reply) = super::config_payload::find_cp(inner) {
            self.take_cp_reply(sa, reply);
        }
        let Some(pending) = sa.pending_child.take() else {
            return true;
        };
        if let Some(n) = error_notify(inner) {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: CHILD_SA {} not established: peer answered {n}", pending.cfg.name);
            self.esp_spis.remove(&pending.spi);
            return true;
        }
        let (Some(props), Some(tsi), Some(tsr)) = (m.sa, m.tsi, m.tsr) else {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: IKE_AUTH response has no Child SA");
            self.esp_spis.remove(&pending.spi);
            return true;
        };
        let reply = proposal::check_reply(
            super::child::child_specs(&pending.cfg, pending.protocols),
            props,
            pending.protocols,
            true,
        )
        .and_then(|(s, spi)| spi_from(&spi).map(|spi| (s, spi)));
        let Some((suite, peer_spi)) = reply else {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer chose a CHILD_SA proposal we did not offer ({})", describe_proposals(props));
            self.esp_spis.remove(&pending.spi);
            return true;
        };
        // Transport mode across a NAT: the addresses as we see them (RFC 7296 §2.23.1).
        let (tsr, tsi) = super::child::seen_ts(sa, &pending.cfg, tsr, tsi);
        if !ts::is_subset(&tsi, &pending.tsi) || !ts::is_subset(&tsr, &pending.tsr) {
            // RFC 7296 §2.9: the responder may only narrow. Delete what it created.
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer's traffic selectors {} === {} are not inside ours (TS_UNACCEPTABLE); deleting the CHILD_SA",
                ts_list(&tsi), ts_list(&tsr));
            self.send_delete_spis(sa, now, suite.protocol, vec![pending.spi]);
            self.esp_spis.remove(&pending.spi);
            return true;
        }
        if pending.cfg.mode == crate::config::Mode::Transport
            && !has_notify(inner, NotifyType::USE_TRANSPORT_MODE)
        {
            // RFC 7296 §1.3.1: no USE_TRANSPORT_MODE in the answer means tunnel mode, which
            // this child is not configured for.
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer declined transport mode for CHILD_SA {}; deleting it", pending.cfg.name);
            self.send_delete_spis(sa, now, suite.protocol, vec![pending.spi]);
            self.esp_spis.remove(&pending.spi);
            return true;
        }
        let Some((inbound, outbound)) = Self::child_keys(
            sa,
            &suite,
            None,
            &sa.ni,
            &sa.nr,
            true,
            pending.spi,
            peer_spi,
        ) else {
            self.esp_spis.remove(&pending.spi);
            return true;
        };
        self.install_child(
            sa,
            now,
            NewChild {
                cfg: pending.cfg,
                suite,
                local_ts: tsi,
                remote_ts: tsr,
                inbound,
                outbound,
                replaces: None,
                outbound_now: true,
            },
        );
        true
    }
}
