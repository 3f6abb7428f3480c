//! Child SA keys from a charon log: strongSwan prints the KEYMAT it derives (RFC 7296 §2.17) at
//! level 4 of its `chd` subsystem ([`crate::CharonOptions::other_level`] = 4) as hex dumps:
//!
//! ```text
//! Nov 27 08:54:11 11[CHD] encryption initiator key => 36 bytes @ 0x7f9a6400c230
//! Nov 27 08:54:11 11[CHD]    0: 8B 6C D7 FD D4 78 DA 68 E2 78 AB 4A BD C4 8C A9  .l...x.h.x.J....
//! Nov 27 08:54:11 11[CHD]   16: 90 B3 B9 43 06 E8 69 8F E5 A8 BB EA 42 7C 16 48  ...C..i.....B|.H
//! Nov 27 08:54:11 11[CHD]   32: F3 EE 3E B2                                      ..>.
//! ```
//!
//! Tests use them to play a peer's data plane (e.g. to send what a well-behaved sender never
//! would). Only ever for throw-away SAs of a test.

/// The key dumped last under `label` (`"encryption initiator key"`, `"encryption responder
/// key"`, `"integrity initiator key"`, `"integrity responder key"`), or `None` when the log has
/// none or the dump is incomplete (fewer bytes than its header announces).
pub fn last_key(log: &str, label: &str) -> Option<Vec<u8>> {
    let header = format!("[CHD] {label} => ");
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.iter().rposition(|l| l.contains(&header))?;
    let head = lines.get(start)?;
    let after = head.split(&header).nth(1)?;
    let len: usize = after.split_whitespace().next()?.parse().ok()?;
    let mut key = Vec::with_capacity(len);
    for l in lines.get(start + 1..)? {
        if key.len() >= len {
            break;
        }
        let Some(row) = l.split("[CHD]").nth(1) else {
            break;
        };
        // "   16: 90 B3 ...  ascii": the offset, then 16 columns of "XX " (48 characters).
        let Some((offset, rest)) = row.split_once(": ") else {
            break;
        };
        if offset.trim().parse::<usize>().ok() != Some(key.len()) {
            break;
        }
        let hex: String = rest.chars().take(48).collect();
        for tok in hex.split_whitespace() {
            key.push(u8::from_str_radix(tok, 16).ok()?);
        }
    }
    (key.len() == len).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
Nov 27 08:54:11 11[CHD] encryption initiator key => 36 bytes @ 0x7f9a6400c230
Nov 27 08:54:11 11[CHD]    0: 8B 6C D7 FD D4 78 DA 68 E2 78 AB 4A BD C4 8C A9  .l...x.h.x.J....
Nov 27 08:54:11 11[CHD]   16: 90 B3 B9 43 06 E8 69 8F E5 A8 BB EA 42 7C 16 48  ...C..i.....B|.H
Nov 27 08:54:11 11[CHD]   32: F3 EE 3E B2                                      ..>.
Nov 27 08:54:11 11[CHD] encryption responder key => 4 bytes @ 0x7f9a640032e0
Nov 27 08:54:11 11[CHD]    0: 1A 17 69 81                                      AB C
Nov 27 08:54:11 11[CHD] adding inbound ESP SA
";

    #[test]
    fn reads_a_dump_across_lines() {
        let k = last_key(LOG, "encryption initiator key").unwrap();
        assert_eq!(k.len(), 36);
        assert_eq!(&k[..3], &[0x8b, 0x6c, 0xd7]);
        assert_eq!(&k[32..], &[0xf3, 0xee, 0x3e, 0xb2]);
    }

    #[test]
    fn ascii_column_is_not_read_as_hex() {
        assert_eq!(
            last_key(LOG, "encryption responder key").unwrap(),
            [0x1a, 0x17, 0x69, 0x81]
        );
    }

    #[test]
    fn missing_or_truncated_dumps_are_none() {
        assert_eq!(last_key(LOG, "integrity initiator key"), None);
        let cut: String = LOG.lines().take(3).map(|l| format!("{l}\n")).collect();
        assert_eq!(last_key(&cut, "encryption initiator key"), None);
    }
}
