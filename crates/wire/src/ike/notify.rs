//! Notify message types (RFC 7296 §3.10.1 and the IANA registry). Types below 16384 are
//! errors; 16384 and above are status notifications.

/// A Notify Message Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotifyType(pub u16);

#[allow(missing_docs)]
impl NotifyType {
    pub const UNSUPPORTED_CRITICAL_PAYLOAD: Self = Self(1);
    pub const INVALID_IKE_SPI: Self = Self(4);
    pub const INVALID_MAJOR_VERSION: Self = Self(5);
    pub const INVALID_SYNTAX: Self = Self(7);
    pub const INVALID_MESSAGE_ID: Self = Self(9);
    pub const INVALID_SPI: Self = Self(11);
    pub const NO_PROPOSAL_CHOSEN: Self = Self(14);
    pub const INVALID_KE_PAYLOAD: Self = Self(17);
    pub const AUTHENTICATION_FAILED: Self = Self(24);
    pub const SINGLE_PAIR_REQUIRED: Self = Self(34);
    pub const NO_ADDITIONAL_SAS: Self = Self(35);
    pub const INTERNAL_ADDRESS_FAILURE: Self = Self(36);
    pub const FAILED_CP_REQUIRED: Self = Self(37);
    pub const TS_UNACCEPTABLE: Self = Self(38);
    pub const INVALID_SELECTORS: Self = Self(39);
    pub const TEMPORARY_FAILURE: Self = Self(43);
    pub const CHILD_SA_NOT_FOUND: Self = Self(44);
    pub const UNACCEPTABLE_ADDRESSES: Self = Self(40);
    pub const UNEXPECTED_NAT_DETECTED: Self = Self(41);
    pub const INITIAL_CONTACT: Self = Self(16384);
    pub const SET_WINDOW_SIZE: Self = Self(16385);
    pub const ADDITIONAL_TS_POSSIBLE: Self = Self(16386);
    pub const IPCOMP_SUPPORTED: Self = Self(16387);
    pub const NAT_DETECTION_SOURCE_IP: Self = Self(16388);
    pub const NAT_DETECTION_DESTINATION_IP: Self = Self(16389);
    pub const COOKIE: Self = Self(16390);
    pub const USE_TRANSPORT_MODE: Self = Self(16391);
    pub const HTTP_CERT_LOOKUP_SUPPORTED: Self = Self(16392);
    pub const REKEY_SA: Self = Self(16393);
    pub const ESP_TFC_PADDING_NOT_SUPPORTED: Self = Self(16394);
    pub const NON_FIRST_FRAGMENTS_ALSO: Self = Self(16395);
    pub const MOBIKE_SUPPORTED: Self = Self(16396);
    pub const ADDITIONAL_IP4_ADDRESS: Self = Self(16397);
    pub const ADDITIONAL_IP6_ADDRESS: Self = Self(16398);
    pub const NO_ADDITIONAL_ADDRESSES: Self = Self(16399);
    pub const UPDATE_SA_ADDRESSES: Self = Self(16400);
    pub const COOKIE2: Self = Self(16401);
    pub const NO_NATS_ALLOWED: Self = Self(16402);
    pub const MULTIPLE_AUTH_SUPPORTED: Self = Self(16404);
    pub const REDIRECT_SUPPORTED: Self = Self(16406);
    pub const EAP_ONLY_AUTHENTICATION: Self = Self(16417);
    pub const CHILDLESS_IKEV2_SUPPORTED: Self = Self(16418);
    pub const IKEV2_FRAGMENTATION_SUPPORTED: Self = Self(16430);
    pub const SIGNATURE_HASH_ALGORITHMS: Self = Self(16431);

    /// True for error types (below 16384).
    pub fn is_error(self) -> bool {
        self.0 < 16384
    }
}

const NAMES: &[(u16, &str)] = &[
    (1, "UNSUPPORTED_CRITICAL_PAYLOAD"),
    (4, "INVALID_IKE_SPI"),
    (5, "INVALID_MAJOR_VERSION"),
    (7, "INVALID_SYNTAX"),
    (9, "INVALID_MESSAGE_ID"),
    (11, "INVALID_SPI"),
    (14, "NO_PROPOSAL_CHOSEN"),
    (17, "INVALID_KE_PAYLOAD"),
    (24, "AUTHENTICATION_FAILED"),
    (34, "SINGLE_PAIR_REQUIRED"),
    (35, "NO_ADDITIONAL_SAS"),
    (36, "INTERNAL_ADDRESS_FAILURE"),
    (37, "FAILED_CP_REQUIRED"),
    (38, "TS_UNACCEPTABLE"),
    (39, "INVALID_SELECTORS"),
    (43, "TEMPORARY_FAILURE"),
    (40, "UNACCEPTABLE_ADDRESSES"),
    (41, "UNEXPECTED_NAT_DETECTED"),
    (44, "CHILD_SA_NOT_FOUND"),
    (16384, "INITIAL_CONTACT"),
    (16385, "SET_WINDOW_SIZE"),
    (16386, "ADDITIONAL_TS_POSSIBLE"),
    (16387, "IPCOMP_SUPPORTED"),
    (16388, "NAT_DETECTION_SOURCE_IP"),
    (16389, "NAT_DETECTION_DESTINATION_IP"),
    (16390, "COOKIE"),
    (16391, "USE_TRANSPORT_MODE"),
    (16392, "HTTP_CERT_LOOKUP_SUPPORTED"),
    (16393, "REKEY_SA"),
    (16394, "ESP_TFC_PADDING_NOT_SUPPORTED"),
    (16395, "NON_FIRST_FRAGMENTS_ALSO"),
    (16396, "MOBIKE_SUPPORTED"),
    (16397, "ADDITIONAL_IP4_ADDRESS"),
    (16398, "ADDITIONAL_IP6_ADDRESS"),
    (16399, "NO_ADDITIONAL_ADDRESSES"),
    (16400, "UPDATE_SA_ADDRESSES"),
    (16401, "COOKIE2"),
    (16402, "NO_NATS_ALLOWED"),
    (16404, "MULTIPLE_AUTH_SUPPORTED"),
    (16406, "REDIRECT_SUPPORTED"),
    (16417, "EAP_ONLY_AUTHENTICATION"),
    (16418, "CHILDLESS_IKEV2_SUPPORTED"),
    (16430, "IKEV2_FRAGMENTATION_SUPPORTED"),
    (16431, "SIGNATURE_HASH_ALGORITHMS"),
];

/// The RFC name of a notify type, if known.
pub fn notify_name(t: u16) -> Option<&'static str> {
    NAMES.iter().find(|(v, _)| *v == t).map(|(_, n)| *n)
}

impl core::fmt::Display for NotifyType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match notify_name(self.0) {
            Some(n) => f.write_str(n),
            None => write!(f, "NOTIFY({})", self.0),
        }
    }
}
