//! One file per exchange (RFC 7296 §1.2–§1.4), plus helpers to read payload lists.

mod auth;
mod child;
mod config_payload;
mod create_child;
mod eap_auth;
mod info;
mod init;
mod mobike;

use wire::ike::{NotifyType, Payload, Proposal};

/// Data of every Notify of type `t`.
pub(crate) fn notifies(payloads: &[Payload], t: NotifyType) -> impl Iterator<Item = &[u8]> {
    payloads.iter().filter_map(move |p| match p {
        Payload::Notify(n) if n.notify_type == t.0 => Some(n.data.as_slice()),
        _ => None,
    })
}

/// Data of the first Notify of type `t`.
pub(crate) fn notify_data(payloads: &[Payload], t: NotifyType) -> Option<&[u8]> {
    notifies(payloads, t).next()
}

/// True when a Notify of type `t` is present.
pub(crate) fn has_notify(payloads: &[Payload], t: NotifyType) -> bool {
    notify_data(payloads, t).is_some()
}

/// The first error notify (type < 16384, RFC 7296 §3.10.1), known or not.
pub(crate) fn error_notify(payloads: &[Payload]) -> Option<NotifyType> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if NotifyType(n.notify_type).is_error() => {
            Some(NotifyType(n.notify_type))
        }
        _ => None,
    })
}

/// Error notifies that concern only the Child SA of an IKE_AUTH exchange: the IKE SA is still
/// established (RFC 7296 §1.2, §2.21.2).
pub(crate) fn is_child_error(t: NotifyType) -> bool {
    [
        NotifyType::NO_PROPOSAL_CHOSEN,
        NotifyType::TS_UNACCEPTABLE,
        NotifyType::SINGLE_PAIR_REQUIRED,
        NotifyType::INTERNAL_ADDRESS_FAILURE,
        NotifyType::FAILED_CP_REQUIRED,
        NotifyType::NO_ADDITIONAL_SAS,
        NotifyType::INVALID_SELECTORS,
    ]
    .contains(&t)
}

/// Human-readable list of received proposals, for logs (AH ones marked `AH:`).
pub(crate) fn describe_proposals(props: &[Proposal]) -> String {
    props
        .iter()
        .map(|p| {
            let prefix = if p.protocol == wire::ike::ProtocolId::AH {
                "AH:"
            } else {
                ""
            };
            let transforms = p
                .transforms
                .iter()
                .map(|t| {
                    let name = match t.transform_type {
                        1 => crypto::EncrId::from_u16(t.transform_id)
                            .map(|e| crypto::EncrAlg::new(e, t.key_length()).to_string()),
                        2 => crypto::PrfId::from_u16(t.transform_id).map(|x| x.to_string()),
                        3 => crypto::IntegId::from_u16(t.transform_id).map(|x| x.to_string()),
                        4 => crypto::KeId::from_u16(t.transform_id).map(|x| x.to_string()),
                        5 => crypto::EsnId::from_u16(t.transform_id).map(|x| x.to_string()),
                        _ => None,
                    };
                    name.unwrap_or_else(|| format!("{}:{}", t.transform_type, t.transform_id))
                })
                .collect::<Vec<_>>()
                .join("/");
            format!("{prefix}{transforms}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
