//! EAP packets carried in the IKEv2 EAP payload (RFC 7296 §3.16, RFC 3748 §4).

use crate::WireError;

/// An EAP packet. Requests and Responses carry a method type and its data; Success and Failure
/// carry nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EapPacket {
    /// Code: 1 Request, 2 Response, 3 Success, 4 Failure.
    pub code: u8,
    /// Identifier, matching a Response to its Request.
    pub identifier: u8,
    /// Method type (Requests and Responses): 1 Identity, 3 Nak, 26 MS-CHAP-V2, ...
    pub method: Option<u8>,
    /// Type-Data.
    pub data: Vec<u8>,
}

#[allow(missing_docs)]
impl EapPacket {
    pub const REQUEST: u8 = 1;
    pub const RESPONSE: u8 = 2;
    pub const SUCCESS: u8 = 3;
    pub const FAILURE: u8 = 4;
    pub const TYPE_IDENTITY: u8 = 1;
    pub const TYPE_NAK: u8 = 3;
    pub const TYPE_MSCHAPV2: u8 = 26;

    /// Parses one packet; the Length field must match the bytes exactly.
    pub fn parse(b: &[u8]) -> Result<Self, WireError> {
        let h = b.get(..4).ok_or(WireError::Truncated("EAP packet"))?;
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if len != b.len() {
            return Err(WireError::BadLength("EAP packet"));
        }
        let code = h[0];
        match code {
            Self::REQUEST | Self::RESPONSE => {
                let method = *b.get(4).ok_or(WireError::Truncated("EAP type"))?;
                Ok(Self {
                    code,
                    identifier: h[1],
                    method: Some(method),
                    data: b[5..].to_vec(),
                })
            }
            Self::SUCCESS | Self::FAILURE if len == 4 => Ok(Self {
                code,
                identifier: h[1],
                method: None,
                data: Vec::new(),
            }),
            _ => Err(WireError::Invalid("EAP code")),
        }
    }

    /// The packet's bytes.
    pub fn emit(&self) -> Result<Vec<u8>, WireError> {
        let mut out = vec![self.code, self.identifier, 0, 0];
        if let Some(m) = self.method {
            out.push(m);
            out.extend_from_slice(&self.data);
        }
        let len = u16::try_from(out.len()).map_err(|_| WireError::BadLength("EAP packet"))?;
        out[2..4].copy_from_slice(&len.to_be_bytes());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checks() {
        let p = EapPacket {
            code: 1,
            identifier: 7,
            method: Some(1),
            data: b"".to_vec(),
        };
        let b = p.emit().unwrap();
        assert_eq!(b, vec![1, 7, 0, 5, 1]);
        assert_eq!(EapPacket::parse(&b).unwrap(), p);
        let s = EapPacket {
            code: 3,
            identifier: 9,
            method: None,
            data: vec![],
        };
        assert_eq!(EapPacket::parse(&s.emit().unwrap()).unwrap(), s);
        assert!(
            EapPacket::parse(&[1, 7, 0, 9, 1]).is_err(),
            "length mismatch"
        );
        assert!(
            EapPacket::parse(&[3, 7, 0, 5, 1]).is_err(),
            "success with data"
        );
        assert!(EapPacket::parse(&[9, 7, 0, 4]).is_err());
        assert!(EapPacket::parse(&[1, 7, 0]).is_err());
    }
}
