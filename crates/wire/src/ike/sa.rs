//! Security Association payload contents: proposals, transforms and transform attributes
//! (RFC 7296 §3.3).

use crate::WireError;

/// Transform attribute type Key Length (RFC 7296 §3.3.5), TV format, in bits.
pub const ATTR_KEY_LENGTH: u16 = 14;

/// Protocol ID of a proposal (RFC 7296 §3.3.1) and of Notify/Delete payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolId(pub u8);

impl ProtocolId {
    /// No protocol (Notify about the IKE SA as a whole).
    pub const NONE: Self = Self(0);
    /// IKE.
    pub const IKE: Self = Self(1);
    /// AH.
    pub const AH: Self = Self(2);
    /// ESP.
    pub const ESP: Self = Self(3);
}

/// A transform attribute (RFC 7296 §3.3.5). `tv` attributes carry a 2-octet value in the
/// header (AF bit set); TLV attributes carry variable-length data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Attribute type (15 bits).
    pub attr_type: u16,
    /// True for the TV (fixed, AF=1) format.
    pub tv: bool,
    /// The value: 2 octets for TV, any length (< 65536) for TLV.
    pub value: Vec<u8>,
}

/// A transform substructure (RFC 7296 §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transform {
    /// Transform type (1 ENCR, 2 PRF, 3 INTEG, 4 KE, 5 ESN).
    pub transform_type: u8,
    /// Transform ID.
    pub transform_id: u16,
    /// Attributes in wire order.
    pub attributes: Vec<Attribute>,
}

impl Transform {
    /// A transform without attributes.
    pub fn new(transform_type: u8, transform_id: u16) -> Self {
        Self {
            transform_type,
            transform_id,
            attributes: Vec::new(),
        }
    }
    /// The same transform with a Key Length attribute (bits).
    pub fn with_key_length(mut self, bits: u16) -> Self {
        self.attributes.push(Attribute {
            attr_type: ATTR_KEY_LENGTH,
            tv: true,
            value: bits.to_be_bytes().to_vec(),
        });
        self
    }
    /// The Key Length attribute, if present and well formed.
    pub fn key_length(&self) -> Option<u16> {
        self.attributes
            .iter()
            .find(|a| a.attr_type == ATTR_KEY_LENGTH && a.tv)
            .and_then(|a| <[u8; 2]>::try_from(a.value.as_slice()).ok())
            .map(u16::from_be_bytes)
    }
    /// True when the transform carries an attribute other than Key Length: RFC 7296 §3.3.6
    /// says such a transform must be rejected when the attribute is not understood.
    pub fn has_unknown_attributes(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| a.attr_type != ATTR_KEY_LENGTH || !a.tv)
    }

    fn parse(buf: &[u8]) -> Result<Self, WireError> {
        // Transform header: last(1) reserved(1) length(2) type(1) reserved(1) id(2).
        let transform_type = *buf.get(4).ok_or(WireError::Truncated("transform"))?;
        let id = buf.get(6..8).ok_or(WireError::Truncated("transform"))?;
        let transform_id = u16::from_be_bytes([id[0], id[1]]);
        let mut attributes = Vec::new();
        let mut rest = buf.get(8..).unwrap_or_default();
        while !rest.is_empty() {
            let h = rest
                .get(..4)
                .ok_or(WireError::Truncated("transform attribute"))?;
            let af = h[0] & 0x80 != 0;
            let attr_type = u16::from_be_bytes([h[0] & 0x7f, h[1]]);
            if af {
                attributes.push(Attribute {
                    attr_type,
                    tv: true,
                    value: h[2..4].to_vec(),
                });
                rest = &rest[4..];
            } else {
                let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
                let value = rest
                    .get(4..4 + len)
                    .ok_or(WireError::BadLength("transform attribute"))?;
                attributes.push(Attribute {
                    attr_type,
                    tv: false,
                    value: value.to_vec(),
                });
                rest = &rest[4 + len..];
            }
        }
        Ok(Self {
            transform_type,
            transform_id,
            attributes,
        })
    }

    fn emit(&self, last: bool, out: &mut Vec<u8>) -> Result<(), WireError> {
        let start = out.len();
        out.extend_from_slice(&[if last { 0 } else { 3 }, 0, 0, 0]);
        out.push(self.transform_type);
        out.push(0);
        out.extend_from_slice(&self.transform_id.to_be_bytes());
        for a in &self.attributes {
            let t = a.attr_type & 0x7fff;
            if a.tv {
                let v: [u8; 2] = a
                    .value
                    .as_slice()
                    .try_into()
                    .map_err(|_| WireError::BadLength("TV attribute"))?;
                out.extend_from_slice(&(t | 0x8000).to_be_bytes());
                out.extend_from_slice(&v);
            } else {
                let len =
                    u16::try_from(a.value.len()).map_err(|_| WireError::BadLength("attribute"))?;
                out.extend_from_slice(&t.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&a.value);
            }
        }
        let len =
            u16::try_from(out.len() - start).map_err(|_| WireError::BadLength("transform"))?;
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }
}

/// A proposal substructure (RFC 7296 §3.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Proposal number (first is 1, consecutive).
    pub num: u8,
    /// IKE, AH or ESP.
    pub protocol: ProtocolId,
    /// The SPI: empty in IKE_SA_INIT, 8 octets for an IKE rekey, 4 for ESP/AH.
    pub spi: Vec<u8>,
    /// The transforms.
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// Parses the proposals of an SA payload body.
    pub fn parse_all(body: &[u8]) -> Result<Vec<Proposal>, WireError> {
        let mut out = Vec::new();
        let mut rest = body;
        loop {
            let h = rest.get(..8).ok_or(WireError::Truncated("proposal"))?;
            let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
            if len < 8 || len > rest.len() {
                return Err(WireError::BadLength("proposal"));
            }
            let num = h[4];
            let protocol = ProtocolId(h[5]);
            let spi_size = usize::from(h[6]);
            let n_transforms = h[7];
            let p = &rest[..len];
            let spi = p
                .get(8..8 + spi_size)
                .ok_or(WireError::BadLength("proposal SPI"))?
                .to_vec();
            let mut tr = &p[8 + spi_size..];
            let mut transforms = Vec::new();
            // The Last Substruc fields are redundant with the counts and lengths; like most
            // implementations we rely on the latter.
            for _ in 0..n_transforms {
                let th = tr.get(..8).ok_or(WireError::Truncated("transform"))?;
                let tlen = usize::from(u16::from_be_bytes([th[2], th[3]]));
                if tlen < 8 || tlen > tr.len() {
                    return Err(WireError::BadLength("transform"));
                }
                transforms.push(Transform::parse(&tr[..tlen])?);
                tr = &tr[tlen..];
            }
            if !tr.is_empty() {
                return Err(WireError::BadLength("proposal transforms"));
            }
            out.push(Proposal {
                num,
                protocol,
                spi,
                transforms,
            });
            rest = &rest[len..];
            if rest.is_empty() {
                return Ok(out);
            }
        }
    }

    /// Appends the proposals as an SA payload body.
    pub fn emit_all(proposals: &[Proposal], out: &mut Vec<u8>) -> Result<(), WireError> {
        for (i, p) in proposals.iter().enumerate() {
            let last = i + 1 == proposals.len();
            let start = out.len();
            let spi_size = u8::try_from(p.spi.len()).map_err(|_| WireError::BadLength("SPI"))?;
            let n = u8::try_from(p.transforms.len())
                .map_err(|_| WireError::BadLength("transform count"))?;
            out.extend_from_slice(&[if last { 0 } else { 2 }, 0, 0, 0, p.num, p.protocol.0]);
            out.push(spi_size);
            out.push(n);
            out.extend_from_slice(&p.spi);
            for (j, t) in p.transforms.iter().enumerate() {
                t.emit(j + 1 == p.transforms.len(), out)?;
            }
            let len =
                u16::try_from(out.len() - start).map_err(|_| WireError::BadLength("proposal"))?;
            out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(())
    }
}
