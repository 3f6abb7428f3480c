//! PEM (RFC 7468) key files: picks the key block out of a file that may hold several blocks or
//! explanatory text (OpenSSL writes `EC PARAMETERS` before `EC PRIVATE KEY`), and writes PKCS#8
//! / SubjectPublicKeyInfo PEM. Decoded bytes are zeroized on drop.

use der::pem::{Decoder, LineEnding};
use zeroize::Zeroizing;

use crate::CryptoError;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// The most PEM blocks we look at in one file.
const MAX_BLOCKS: usize = 16;

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let tail = haystack.get(from..)?;
    tail.windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Every PEM block in `text`, as (label, the block's bytes from BEGIN to the end of END).
fn blocks(text: &[u8]) -> Vec<(&str, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while out.len() < MAX_BLOCKS {
        let Some(start) = find(text, BEGIN, pos) else {
            break;
        };
        let label_start = start + BEGIN.len();
        let Some(label_end) = find(text, DASHES, label_start) else {
            break;
        };
        let Some(label) = text
            .get(label_start..label_end)
            .and_then(|l| core::str::from_utf8(l).ok())
        else {
            break;
        };
        let mut end_line = END.to_vec();
        end_line.extend_from_slice(label.as_bytes());
        end_line.extend_from_slice(DASHES);
        let Some(end) = find(text, &end_line, label_end) else {
            break;
        };
        let block_end = end + end_line.len();
        if let Some(block) = text.get(start..block_end) {
            out.push((label, block));
        }
        pos = block_end;
    }
    out
}

/// The first block of `text` whose label is one of `labels`: (its label, its decoded DER).
/// Encrypted private keys are refused with a message that says so.
pub(super) fn decode_first(
    text: &[u8],
    labels: &[&'static str],
) -> Result<(&'static str, Zeroizing<Vec<u8>>), CryptoError> {
    let all = blocks(text);
    if all.iter().any(|(l, _)| *l == "ENCRYPTED PRIVATE KEY") {
        return Err(CryptoError::InvalidKey(
            "encrypted PEM private keys are not supported (decrypt the key first)".into(),
        ));
    }
    let Some((label, block)) = all
        .iter()
        .find_map(|(l, b)| labels.iter().find(|x| *x == l).map(|x| (*x, *b)))
    else {
        let found: Vec<&str> = all.iter().map(|(l, _)| *l).collect();
        return Err(CryptoError::InvalidKey(format!(
            "no PEM block labelled {} (found: {})",
            labels.join(" or "),
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            }
        )));
    };
    let bad = |_| CryptoError::InvalidKey(format!("malformed PEM block {label}"));
    let mut decoder = Decoder::new_detect_wrap(block).map_err(bad)?;
    let mut buf = Zeroizing::new(vec![0u8; decoder.remaining_len()]);
    let len = decoder.decode(&mut buf).map_err(bad)?.len();
    buf.truncate(len);
    Ok((label, buf))
}

/// `der` as a PEM block labelled `label` (64-column lines, LF endings).
pub(super) fn encode(label: &str, der: &[u8]) -> Result<Zeroizing<String>, CryptoError> {
    der::pem::encode_string(label, LineEnding::LF, der)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Backend)
}
