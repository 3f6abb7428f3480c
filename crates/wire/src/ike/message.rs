//! Whole IKEv2 messages: the payload chain (RFC 7296 §3.2) and the Encrypted payload's
//! layout (RFC 7296 §3.14, RFC 5282 §5 for AEAD).

use core::ops::Range;

use super::header::{Header, HEADER_LEN};
use super::payload::{Payload, PayloadType, GENERIC_HEADER_LEN};
use crate::WireError;

/// Fragment Number and Total Fragments after the SKF generic header (RFC 7383 §2.5).
pub const SKF_EXTRA_LEN: usize = 4;

/// Where the Encrypted (SK) payload lies in a received message. Its next-payload field names
/// the first payload inside; its body is IV | ciphertext | ICV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkPayload {
    /// Type of the first payload inside the encrypted chain.
    pub first_inner: u8,
    /// Offset of the SK payload's generic header in the message. Everything before
    /// `header_offset + 4` is the associated data (AEAD) / start of the integrity-covered bytes.
    pub header_offset: usize,
    /// The SK payload body (IV | encrypted | ICV) as a range of the message.
    pub body: Range<usize>,
    /// For an Encrypted Fragment payload (SKF, RFC 7383 §2.5): (Fragment Number, Total
    /// Fragments).
    pub fragment: Option<(u16, u16)>,
}

impl SkPayload {
    /// End of the associated data: the message bytes `..aad_end` precede the IV.
    pub fn aad_end(&self) -> usize {
        // SKF: the associated data also covers Fragment Number and Total Fragments
        // (RFC 7383 §2.5.3).
        let extra = if self.fragment.is_some() {
            SKF_EXTRA_LEN
        } else {
            0
        };
        self.header_offset + GENERIC_HEADER_LEN + extra
    }

    /// Splits the body into IV, ciphertext and ICV ranges for a cipher with these lengths.
    /// Fails when the body is too short or the ciphertext is not a multiple of `block_len`.
    pub fn split(
        &self,
        iv_len: usize,
        icv_len: usize,
        block_len: usize,
    ) -> Result<SkRanges, WireError> {
        let b = self.body.clone();
        let ct_start = b
            .start
            .checked_add(iv_len)
            .ok_or(WireError::BadLength("SK"))?;
        let ct_end = b
            .end
            .checked_sub(icv_len)
            .ok_or(WireError::Truncated("SK"))?;
        if ct_start >= ct_end {
            // At least the Pad Length octet must be there.
            return Err(WireError::Truncated("SK payload"));
        }
        if block_len > 1 && (ct_end - ct_start) % block_len != 0 {
            return Err(WireError::BadLength("SK ciphertext"));
        }
        Ok(SkRanges {
            iv: b.start..ct_start,
            ciphertext: ct_start..ct_end,
            icv: ct_end..b.end,
        })
    }
}

/// The parts of a received SK payload body, as ranges of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkRanges {
    /// Initialization vector.
    pub iv: Range<usize>,
    /// Encrypted inner chain, padding and pad length.
    pub ciphertext: Range<usize>,
    /// Integrity checksum (or AEAD tag).
    pub icv: Range<usize>,
}

/// A parsed message: header, the unencrypted payloads, and the SK payload if present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The header.
    pub header: Header,
    /// Payloads outside the Encrypted payload (all of them in IKE_SA_INIT).
    pub payloads: Vec<Payload>,
    /// The Encrypted payload, still encrypted.
    pub sk: Option<SkPayload>,
}

impl Message {
    /// Parses a message (one UDP datagram without the non-ESP marker).
    pub fn parse(buf: &[u8]) -> Result<Self, WireError> {
        let header = Header::parse(buf)?;
        let (payloads, sk) = parse_chain_at(header.next_payload, buf, HEADER_LEN)?;
        Ok(Message {
            header,
            payloads,
            sk,
        })
    }

    /// Emits an unencrypted message; the header's next-payload and length are filled in.
    pub fn emit(header: &Header, payloads: &[Payload]) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::with_capacity(512);
        let mut h = *header;
        h.next_payload = payloads.first().map_or(0, Payload::payload_type);
        h.emit(&mut out);
        emit_payload_chain(payloads, &mut out)?;
        let len = u32::try_from(out.len()).map_err(|_| WireError::BadLength("message"))?;
        out[24..28].copy_from_slice(&len.to_be_bytes());
        Ok(out)
    }

    /// The first unencrypted payload matching `f`.
    pub fn find<'a, T>(&'a self, f: impl Fn(&'a Payload) -> Option<T>) -> Option<T> {
        self.payloads.iter().find_map(f)
    }
}

/// Parses a payload chain that starts with type `first` and fills `buf` exactly (the decrypted
/// contents of an SK payload, without padding). An SK payload inside is an error.
pub fn parse_payload_chain(first: u8, buf: &[u8]) -> Result<Vec<Payload>, WireError> {
    let (p, sk) = parse_chain_at(first, buf, 0)?;
    if sk.is_some() {
        return Err(WireError::Invalid("nested Encrypted payload"));
    }
    Ok(p)
}

fn parse_chain_at(
    first: u8,
    buf: &[u8],
    mut off: usize,
) -> Result<(Vec<Payload>, Option<SkPayload>), WireError> {
    let mut next = first;
    let mut out = Vec::new();
    while next != PayloadType::NONE.0 {
        let h = buf
            .get(off..off + GENERIC_HEADER_LEN)
            .ok_or(WireError::Truncated("payload header"))?;
        let this = next;
        next = h[0];
        let critical = h[1] & 0x80 != 0;
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if len < GENERIC_HEADER_LEN || off + len > buf.len() {
            return Err(WireError::BadLength("payload"));
        }
        if this == PayloadType::SK.0 || this == PayloadType::SKF.0 {
            // RFC 7296 §3.14: the Encrypted payload is the last one; its next-payload field
            // names the first payload inside.
            if off + len != buf.len() {
                return Err(WireError::BadLength("Encrypted payload not last"));
            }
            let mut body_start = off + GENERIC_HEADER_LEN;
            let mut fragment = None;
            if this == PayloadType::SKF.0 {
                // RFC 7383 §2.5: Fragment Number and Total Fragments, both at least 1,
                // number <= total.
                let f = buf
                    .get(body_start..body_start + SKF_EXTRA_LEN)
                    .filter(|_| len >= GENERIC_HEADER_LEN + SKF_EXTRA_LEN)
                    .ok_or(WireError::Truncated("Encrypted Fragment payload"))?;
                let num = u16::from_be_bytes([f[0], f[1]]);
                let total = u16::from_be_bytes([f[2], f[3]]);
                if num == 0 || total == 0 || num > total {
                    return Err(WireError::Invalid("fragment number"));
                }
                fragment = Some((num, total));
                body_start += SKF_EXTRA_LEN;
            }
            return Ok((
                out,
                Some(SkPayload {
                    first_inner: next,
                    header_offset: off,
                    body: body_start..off + len,
                    fragment,
                }),
            ));
        }
        out.push(Payload::parse(
            this,
            critical,
            &buf[off + GENERIC_HEADER_LEN..off + len],
        )?);
        off += len;
    }
    if off != buf.len() {
        return Err(WireError::BadLength("trailing bytes after last payload"));
    }
    Ok((out, None))
}

/// Appends `payloads` as a chain (generic headers linked by next-payload, the last one 0).
pub fn emit_payload_chain(payloads: &[Payload], out: &mut Vec<u8>) -> Result<(), WireError> {
    for (i, p) in payloads.iter().enumerate() {
        let next = payloads.get(i + 1).map_or(0, Payload::payload_type);
        let start = out.len();
        out.extend_from_slice(&[next, if p.critical() { 0x80 } else { 0 }, 0, 0]);
        p.emit_body(out)?;
        let len = u16::try_from(out.len() - start).map_err(|_| WireError::BadLength("payload"))?;
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

/// Where to put what in a message being encrypted (see [`encode_sk_message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkLayout {
    /// The associated data / integrity-covered prefix: `..aad_end`.
    pub aad_end: usize,
    /// The IV (zero-filled; the caller writes it).
    pub iv: Range<usize>,
    /// The plaintext (inner chain | padding | pad length), to be encrypted in place.
    pub plaintext: Range<usize>,
    /// The ICV (zero-filled; the caller writes it).
    pub icv: Range<usize>,
}

/// Builds a message whose payloads are all inside an Encrypted payload (RFC 7296 §3.14), ready
/// to be encrypted in place: header (length and next-payload filled in), SK header, a zero IV
/// of `iv_len`, the inner chain with padding to a multiple of `block_len` (the pad octets are
/// zero, the Pad Length octet last), and a zero ICV of `icv_len`.
pub fn encode_sk_message(
    header: &Header,
    inner: &[Payload],
    iv_len: usize,
    block_len: usize,
    icv_len: usize,
) -> Result<(Vec<u8>, SkLayout), WireError> {
    let mut out = Vec::with_capacity(256);
    let mut h = *header;
    h.next_payload = PayloadType::SK.0;
    h.emit(&mut out);
    let sk_start = out.len();
    let first = inner.first().map_or(0, Payload::payload_type);
    out.extend_from_slice(&[first, 0, 0, 0]);
    let iv_start = out.len();
    out.resize(iv_start + iv_len, 0);
    let pt_start = out.len();
    emit_payload_chain(inner, &mut out)?;
    let inner_len = out.len() - pt_start;
    let block = block_len.max(1);
    let pad = (block - (inner_len + 1) % block) % block;
    out.resize(out.len() + pad, 0);
    out.push(u8::try_from(pad).map_err(|_| WireError::BadLength("padding"))?);
    let pt_end = out.len();
    out.resize(pt_end + icv_len, 0);
    let sk_len = u16::try_from(out.len() - sk_start).map_err(|_| WireError::BadLength("SK"))?;
    out[sk_start + 2..sk_start + 4].copy_from_slice(&sk_len.to_be_bytes());
    let len = u32::try_from(out.len()).map_err(|_| WireError::BadLength("message"))?;
    out[24..28].copy_from_slice(&len.to_be_bytes());
    Ok((
        out,
        SkLayout {
            aad_end: sk_start + GENERIC_HEADER_LEN,
            iv: iv_start..pt_start,
            plaintext: pt_start..pt_end,
            icv: pt_end..pt_end + icv_len,
        },
    ))
}

/// Builds one Encrypted Fragment message (RFC 7383 §2.5) carrying `chunk`, a piece of the
/// serialized inner payload chain, ready to be encrypted in place like [`encode_sk_message`].
/// `first_inner` is the first inner payload's type for fragment 1 and 0 for the others.
#[allow(clippy::too_many_arguments)]
pub fn encode_skf_message(
    header: &Header,
    first_inner: u8,
    number: u16,
    total: u16,
    chunk: &[u8],
    iv_len: usize,
    block_len: usize,
    icv_len: usize,
) -> Result<(Vec<u8>, SkLayout), WireError> {
    if number == 0 || number > total {
        return Err(WireError::Invalid("fragment number"));
    }
    let mut out = Vec::with_capacity(HEADER_LEN + 8 + iv_len + chunk.len() + block_len + icv_len);
    let mut h = *header;
    h.next_payload = PayloadType::SKF.0;
    h.emit(&mut out);
    let sk_start = out.len();
    out.extend_from_slice(&[first_inner, 0, 0, 0]);
    out.extend_from_slice(&number.to_be_bytes());
    out.extend_from_slice(&total.to_be_bytes());
    let iv_start = out.len();
    out.resize(iv_start + iv_len, 0);
    let pt_start = out.len();
    out.extend_from_slice(chunk);
    let block = block_len.max(1);
    let pad = (block - (chunk.len() + 1) % block) % block;
    out.resize(out.len() + pad, 0);
    out.push(u8::try_from(pad).map_err(|_| WireError::BadLength("padding"))?);
    let pt_end = out.len();
    out.resize(pt_end + icv_len, 0);
    let sk_len = u16::try_from(out.len() - sk_start).map_err(|_| WireError::BadLength("SKF"))?;
    out[sk_start + 2..sk_start + 4].copy_from_slice(&sk_len.to_be_bytes());
    let len = u32::try_from(out.len()).map_err(|_| WireError::BadLength("message"))?;
    out[24..28].copy_from_slice(&len.to_be_bytes());
    Ok((
        out,
        SkLayout {
            aad_end: iv_start,
            iv: iv_start..pt_start,
            plaintext: pt_start..pt_end,
            icv: pt_end..pt_end + icv_len,
        },
    ))
}

/// Strips the padding from decrypted SK contents: returns the inner chain bytes
/// (RFC 7296 §3.14: the last octet is the Pad Length).
pub fn strip_sk_padding(plaintext: &[u8]) -> Result<&[u8], WireError> {
    let (&pad, rest) = plaintext
        .split_last()
        .ok_or(WireError::Truncated("SK plaintext"))?;
    let keep = rest
        .len()
        .checked_sub(usize::from(pad))
        .ok_or(WireError::BadLength("SK padding"))?;
    Ok(&rest[..keep])
}
