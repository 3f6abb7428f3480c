//! UDP encapsulation of ESP and IKE on port 4500 (RFC 3948).
//!
//! Three things share the port: ESP packets (first four bytes = a nonzero SPI, §2.1), IKE
//! messages behind a four-byte zero non-ESP marker (§2.2), and one-byte NAT-keepalives
//! (0xFF, §2.3). [`classify`] tells them apart.

/// The UDP port for IKE and ESP-in-UDP after NAT detection (RFC 3948 §2, RFC 7296 §2.23).
pub const NATT_PORT: u16 = 4500;
/// The non-ESP marker in front of an IKE message on port 4500 (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// The single byte of a NAT-keepalive packet (RFC 3948 §2.3).
pub const NATT_KEEPALIVE: u8 = 0xff;
/// Smallest ESP packet [`classify`] accepts: SPI and Sequence Number (RFC 4303 §2).
pub const MIN_ESP_LEN: usize = 8;
/// Smallest IKE message [`classify`] accepts: the IKE header (RFC 7296 §3.1).
pub const MIN_IKE_LEN: usize = 28;

/// What a UDP payload received on port 4500 is (RFC 3948 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NattPayload<'a> {
    /// A NAT-keepalive: exactly one byte 0xFF (§2.3). Ignore it.
    Keepalive,
    /// An IKE message; the slice starts after the non-ESP marker (§2.2).
    Ike(&'a [u8]),
    /// An ESP packet, starting with its (nonzero) SPI (§2.1).
    Esp(&'a [u8]),
    /// Anything else: too short for ESP or IKE, or a one-byte payload other than 0xFF.
    Invalid,
}

/// Classifies a UDP payload received on port 4500 (RFC 3948 §3.1.2 / §2). Never panics.
pub fn classify(payload: &[u8]) -> NattPayload<'_> {
    match payload {
        [NATT_KEEPALIVE] => NattPayload::Keepalive,
        [0, 0, 0, 0, ike @ ..] if ike.len() >= MIN_IKE_LEN => NattPayload::Ike(ike),
        [0, 0, 0, 0, ..] => NattPayload::Invalid,
        esp if esp.len() >= MIN_ESP_LEN => NattPayload::Esp(esp),
        _ => NattPayload::Invalid,
    }
}

/// Appends the non-ESP marker and `ike_message` to `out`: the UDP payload for an IKE message on
/// port 4500 (RFC 3948 §2.2).
pub fn emit_ike(ike_message: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&NON_ESP_MARKER);
    out.extend_from_slice(ike_message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(classify(&[0xff]), NattPayload::Keepalive);
        assert_eq!(classify(&[0xfe]), NattPayload::Invalid);
        assert_eq!(classify(&[]), NattPayload::Invalid);
        assert_eq!(classify(&[0xff, 0xff]), NattPayload::Invalid);
        let mut ike = vec![0u8; 4];
        ike.extend_from_slice(&[0x11; 28]);
        assert_eq!(classify(&ike), NattPayload::Ike(&[0x11; 28]));
        assert_eq!(classify(&ike[..31]), NattPayload::Invalid);
        let esp = [0xc1, 0xa2, 0xb3, 0xc4, 0, 0, 0, 1];
        assert_eq!(classify(&esp), NattPayload::Esp(&esp));
        assert_eq!(classify(&esp[..7]), NattPayload::Invalid);
        // An SPI with some zero bytes is still ESP.
        let esp0 = [0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(classify(&esp0), NattPayload::Esp(&esp0));
        let mut out = Vec::new();
        emit_ike(&[0x11; 28], &mut out);
        assert_eq!(out, ike);
    }

    proptest! {
        #[test]
        fn ike_round_trip(msg in proptest::collection::vec(any::<u8>(), 28..100)) {
            let mut out = Vec::new();
            emit_ike(&msg, &mut out);
            prop_assert_eq!(classify(&out), NattPayload::Ike(&msg));
        }

        #[test]
        fn classify_total(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            match classify(&bytes) {
                NattPayload::Esp(e) => {
                    prop_assert_eq!(e, &bytes[..]);
                    prop_assert_ne!(&bytes[..4], &NON_ESP_MARKER[..]);
                }
                NattPayload::Ike(i) => prop_assert_eq!(i, &bytes[4..]),
                NattPayload::Keepalive => prop_assert_eq!(&bytes[..], &[0xff][..]),
                NattPayload::Invalid => {}
            }
        }
    }
}
