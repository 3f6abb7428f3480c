//! Encapsulating Security Payload packet format (RFC 4303 §2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               Security Parameters Index (SPI)                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Sequence Number                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Payload Data* (variable)                   |
//! ~                 (IV | encrypted payload ...)                  ~
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               |     Padding (0-255 bytes)                     |
//! +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |  Pad Length   | Next Header   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Integrity Check Value-ICV   (variable)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! This module handles the cleartext header ([`EspPacket`] view, [`EspHeader`] repr) and the
//! trailer that sits inside the encryption (padding, Pad Length, Next Header: [`pad_len`],
//! [`emit_trailer`], [`parse_trailer`]). IV, ciphertext and ICV belong to the cipher.

use crate::WireError;

/// IP protocol number of ESP (RFC 4303 §2).
pub const IPPROTO_ESP: u8 = 50;
/// Length of the cleartext ESP header: SPI and Sequence Number (RFC 4303 §2.1, §2.2).
pub const ESP_HEADER_LEN: usize = 8;
/// Length of the fixed trailer fields: Pad Length and Next Header (RFC 4303 §2.5, §2.6).
pub const ESP_TRAILER_LEN: usize = 2;
/// ESP requires the ciphertext (payload, padding, trailer) to end on a 4-byte boundary
/// (RFC 4303 §2.4).
pub const ESP_ALIGN: usize = 4;
/// Next Header value of a tunnelled IPv4 packet (IP-in-IP, RFC 4303 §2.6).
pub const NEXT_HEADER_IPV4: u8 = 4;
/// Next Header value of a tunnelled IPv6 packet (RFC 4303 §2.6).
pub const NEXT_HEADER_IPV6: u8 = 41;
/// "No Next Header": a dummy (traffic flow confidentiality) packet to be discarded
/// (RFC 4303 §2.6).
pub const NEXT_HEADER_NONE: u8 = 59;
/// SPIs 1..=255 are reserved by IANA and 0 for local use; none of them may appear on the wire
/// (RFC 4303 §2.1).
pub const SPI_MIN: u32 = 256;

/// A read (and, with a mutable buffer, write) view of an ESP packet: the cleartext header
/// followed by the opaque protected part (RFC 4303 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EspPacket<T> {
    /// Wraps `buffer` after checking it holds at least the 8-byte header.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < ESP_HEADER_LEN {
            return Err(WireError::Truncated("ESP header"));
        }
        Ok(Self { buffer })
    }

    fn word(&self, at: usize) -> u32 {
        let b = self.buffer.as_ref();
        match b.get(at..at + 4) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0, // unreachable after new_checked; never panics
        }
    }

    /// Security Parameters Index (RFC 4303 §2.1).
    pub fn spi(&self) -> u32 {
        self.word(0)
    }

    /// Sequence Number: the low 32 bits of the counter (RFC 4303 §2.2).
    pub fn sequence_number(&self) -> u32 {
        self.word(4)
    }

    /// Everything after the header: IV, ciphertext and ICV.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(ESP_HEADER_LEN..).unwrap_or(&[])
    }

    /// The header bytes (the AAD of an AEAD cipher without ESN, RFC 4106 §5).
    pub fn header(&self) -> &[u8] {
        self.buffer.as_ref().get(..ESP_HEADER_LEN).unwrap_or(&[])
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EspPacket<T> {
    fn set_word(&mut self, at: usize, v: u32) {
        if let Some(dst) = self.buffer.as_mut().get_mut(at..at + 4) {
            dst.copy_from_slice(&v.to_be_bytes());
        }
    }

    /// Sets the SPI.
    pub fn set_spi(&mut self, spi: u32) {
        self.set_word(0, spi);
    }

    /// Sets the Sequence Number.
    pub fn set_sequence_number(&mut self, seq: u32) {
        self.set_word(4, seq);
    }

    /// Everything after the header, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(ESP_HEADER_LEN..)
            .unwrap_or(&mut [])
    }
}

/// The cleartext ESP header (RFC 4303 §2.1, §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EspHeader {
    /// Security Parameters Index.
    pub spi: u32,
    /// Sequence Number (low 32 bits).
    pub sequence_number: u32,
}

impl EspHeader {
    /// Reads the header at the start of `buf`. The SPI is not judged here (see [`SPI_MIN`]).
    pub fn parse(buf: &[u8]) -> Result<Self, WireError> {
        let p = EspPacket::new_checked(buf)?;
        Ok(Self {
            spi: p.spi(),
            sequence_number: p.sequence_number(),
        })
    }

    /// Writes the 8 header bytes at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let dst = buf
            .get_mut(..ESP_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        dst[..4].copy_from_slice(&self.spi.to_be_bytes());
        dst[4..].copy_from_slice(&self.sequence_number.to_be_bytes());
        Ok(())
    }

    /// The header as bytes.
    pub fn to_bytes(&self) -> [u8; ESP_HEADER_LEN] {
        let mut b = [0u8; ESP_HEADER_LEN];
        b[..4].copy_from_slice(&self.spi.to_be_bytes());
        b[4..].copy_from_slice(&self.sequence_number.to_be_bytes());
        b
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The alignment ESP's ciphertext must have: a multiple of both the cipher's block length and
/// 4 bytes (RFC 4303 §2.4). `block_len` 0 or 1 means a stream/AEAD cipher (4 bytes).
pub fn alignment(block_len: usize) -> usize {
    let b = block_len.max(1);
    // lcm(b, 4) without overflow for any realistic block length.
    (b / gcd(b, ESP_ALIGN)).saturating_mul(ESP_ALIGN)
}

/// Number of padding bytes to append to a payload of `payload_len` bytes so that
/// `payload_len + padding + 2` (Pad Length, Next Header) is a multiple of [`alignment`]
/// (RFC 4303 §2.4). Fails when the alignment needs more than 255 bytes of padding.
pub fn pad_len(payload_len: usize, block_len: usize) -> Result<u8, WireError> {
    let align = alignment(block_len);
    let used = (payload_len % align + ESP_TRAILER_LEN) % align;
    let pad = (align - used) % align;
    u8::try_from(pad).map_err(|_| WireError::Invalid("ESP alignment needs >255 padding bytes"))
}

/// Writes padding `1, 2, 3, ...` (RFC 4303 §2.4 default), Pad Length and Next Header into
/// `buf`, which must be exactly `pad_len + 2` bytes.
pub fn emit_trailer(buf: &mut [u8], pad_len: u8, next_header: u8) -> Result<(), WireError> {
    if buf.len() != usize::from(pad_len) + ESP_TRAILER_LEN {
        return Err(WireError::BufferTooSmall);
    }
    let (padding, fixed) = buf.split_at_mut(usize::from(pad_len));
    for (i, b) in padding.iter_mut().enumerate() {
        // i < 255, so i + 1 fits in a u8.
        *b = (i as u8).wrapping_add(1);
    }
    fixed[0] = pad_len;
    fixed[1] = next_header;
    Ok(())
}

/// The decrypted ESP trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EspTrailer {
    /// Length of the payload (the inner packet) that precedes the padding.
    pub payload_len: usize,
    /// Pad Length (RFC 4303 §2.5).
    pub pad_len: u8,
    /// Next Header (RFC 4303 §2.6).
    pub next_header: u8,
}

/// Reads the trailer at the end of a decrypted ESP payload (`payload | padding | Pad Length |
/// Next Header`, ICV already removed) and checks that the padding holds the default sequence
/// `1, 2, 3, ...` (RFC 4303 §2.4: the receiver inspects the padding; packets failing the check
/// are dropped). Never panics.
pub fn parse_trailer(plaintext: &[u8]) -> Result<EspTrailer, WireError> {
    let n = plaintext.len();
    let fixed = n
        .checked_sub(ESP_TRAILER_LEN)
        .and_then(|at| plaintext.get(at..))
        .ok_or(WireError::Truncated("ESP trailer"))?;
    let (pad_len, next_header) = match fixed {
        &[p, h] => (p, h),
        _ => return Err(WireError::Truncated("ESP trailer")),
    };
    let payload_len = n
        .checked_sub(ESP_TRAILER_LEN + usize::from(pad_len))
        .ok_or(WireError::BadLength("ESP pad length"))?;
    let padding = plaintext
        .get(payload_len..n - ESP_TRAILER_LEN)
        .ok_or(WireError::BadLength("ESP pad length"))?;
    let monotonic = padding
        .iter()
        .enumerate()
        .all(|(i, &b)| usize::from(b) == i + 1);
    if !monotonic {
        return Err(WireError::Invalid("ESP padding"));
    }
    Ok(EspTrailer {
        payload_len,
        pad_len,
        next_header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_view_and_repr() {
        let bytes = hex::decode("c1a2b3c400000001deadbeef").unwrap();
        let p = EspPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.spi(), 0xc1a2_b3c4);
        assert_eq!(p.sequence_number(), 1);
        assert_eq!(p.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(p.header(), &bytes[..8]);
        assert_eq!(
            EspHeader::parse(&bytes).unwrap(),
            EspHeader {
                spi: 0xc1a2_b3c4,
                sequence_number: 1
            }
        );
        for n in 0..ESP_HEADER_LEN {
            assert_eq!(
                EspPacket::new_checked(&bytes[..n]),
                Err(WireError::Truncated("ESP header"))
            );
        }
        let mut buf = [0u8; 7];
        assert_eq!(
            EspHeader {
                spi: 1,
                sequence_number: 2
            }
            .emit(&mut buf),
            Err(WireError::BufferTooSmall)
        );
    }

    #[test]
    fn view_setters() {
        let mut buf = vec![0u8; 10];
        let mut p = EspPacket::new_checked(&mut buf[..]).unwrap();
        p.set_spi(0x0102_0304);
        p.set_sequence_number(0x0506_0708);
        p.payload_mut().copy_from_slice(&[9, 10]);
        assert_eq!(buf, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn padding_examples() {
        // AEAD: align to 4. 100 + 2 = 102 -> 104: 2 bytes of padding.
        assert_eq!(pad_len(100, 1), Ok(2));
        assert_eq!(pad_len(102, 1), Ok(0));
        // AES-CBC: align to 16. 84 + 2 = 86 -> 96: 10 bytes.
        assert_eq!(pad_len(84, 16), Ok(10));
        assert_eq!(pad_len(14, 16), Ok(0));
        assert_eq!(pad_len(15, 16), Ok(15));
        assert_eq!(alignment(8), 8);
        assert_eq!(alignment(1), 4);
        assert_eq!(alignment(0), 4);
        assert_eq!(alignment(3), 12);
        assert!(pad_len(0, 1024).is_err());
        let mut t = [0u8; 5];
        emit_trailer(&mut t, 3, 4).unwrap();
        assert_eq!(t, [1, 2, 3, 3, 4]);
        assert!(emit_trailer(&mut t, 4, 4).is_err());
    }

    #[test]
    fn trailer_checks() {
        let ok = [0x45, 0xaa, 1, 2, 3, 3, 4];
        assert_eq!(
            parse_trailer(&ok),
            Ok(EspTrailer {
                payload_len: 2,
                pad_len: 3,
                next_header: 4
            })
        );
        // Padding not 1,2,3.
        assert_eq!(
            parse_trailer(&[0x45, 0xaa, 1, 3, 3, 3, 4]),
            Err(WireError::Invalid("ESP padding"))
        );
        // Pad length larger than the data.
        assert_eq!(
            parse_trailer(&[1, 2, 3, 4, 41]),
            Err(WireError::BadLength("ESP pad length"))
        );
        assert!(parse_trailer(&[]).is_err());
        assert!(parse_trailer(&[4]).is_err());
        assert_eq!(
            parse_trailer(&[0, 59]),
            Ok(EspTrailer {
                payload_len: 0,
                pad_len: 0,
                next_header: NEXT_HEADER_NONE
            })
        );
    }

    proptest! {
        #[test]
        fn header_round_trip(spi: u32, seq: u32, tail in proptest::collection::vec(any::<u8>(), 0..32)) {
            let h = EspHeader { spi, sequence_number: seq };
            let mut buf = vec![0u8; ESP_HEADER_LEN];
            h.emit(&mut buf).unwrap();
            prop_assert_eq!(&buf[..], &h.to_bytes()[..]);
            buf.extend_from_slice(&tail);
            prop_assert_eq!(EspHeader::parse(&buf), Ok(h));
            let view = EspPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(view.payload(), &tail[..]);
        }

        #[test]
        fn trailer_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..300),
                              block in prop::sample::select(vec![1usize, 4, 8, 16]),
                              nh: u8) {
            let pad = pad_len(payload.len(), block).unwrap();
            let total = payload.len() + usize::from(pad) + ESP_TRAILER_LEN;
            prop_assert_eq!(total % alignment(block), 0);
            prop_assert!(usize::from(pad) < alignment(block));
            let mut buf = payload.clone();
            buf.resize(total, 0);
            emit_trailer(&mut buf[payload.len()..], pad, nh).unwrap();
            let t = parse_trailer(&buf).unwrap();
            prop_assert_eq!(t, EspTrailer { payload_len: payload.len(), pad_len: pad, next_header: nh });
            prop_assert_eq!(&buf[..t.payload_len], &payload[..]);
        }

        #[test]
        fn trailer_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(t) = parse_trailer(&bytes) {
                prop_assert_eq!(t.payload_len + usize::from(t.pad_len) + 2, bytes.len());
            }
        }
    }
}
