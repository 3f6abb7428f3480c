//! The IKE header (RFC 7296 §3.1).

use crate::WireError;

/// Length of the fixed IKE header.
pub const HEADER_LEN: usize = 28;
/// Major version 2, minor 0, as the version octet.
pub const IKE_VERSION_2: u8 = 0x20;

/// Exchange types (RFC 7296 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExchangeType {
    /// IKE_SA_INIT (34).
    IkeSaInit,
    /// IKE_AUTH (35).
    IkeAuth,
    /// CREATE_CHILD_SA (36).
    CreateChildSa,
    /// INFORMATIONAL (37).
    Informational,
    /// Any other value.
    Other(u8),
}

impl ExchangeType {
    /// From the wire value.
    pub fn from_u8(v: u8) -> Self {
        match v {
            34 => Self::IkeSaInit,
            35 => Self::IkeAuth,
            36 => Self::CreateChildSa,
            37 => Self::Informational,
            o => Self::Other(o),
        }
    }
    /// The wire value.
    pub fn value(self) -> u8 {
        match self {
            Self::IkeSaInit => 34,
            Self::IkeAuth => 35,
            Self::CreateChildSa => 36,
            Self::Informational => 37,
            Self::Other(o) => o,
        }
    }
    /// Name as in the RFC.
    pub fn name(self) -> &'static str {
        match self {
            Self::IkeSaInit => "IKE_SA_INIT",
            Self::IkeAuth => "IKE_AUTH",
            Self::CreateChildSa => "CREATE_CHILD_SA",
            Self::Informational => "INFORMATIONAL",
            Self::Other(_) => "UNKNOWN_EXCHANGE",
        }
    }
}

/// Header flags (RFC 7296 §3.1): bit 3 Initiator, bit 4 Version, bit 5 Response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// I: set by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// V: the sender can speak a higher major version.
    pub const VERSION: u8 = 0x10;
    /// R: this message is a response.
    pub const RESPONSE: u8 = 0x20;

    /// Flags with the given bits.
    pub fn new(initiator: bool, response: bool) -> Self {
        let mut f = 0;
        if initiator {
            f |= Self::INITIATOR;
        }
        if response {
            f |= Self::RESPONSE;
        }
        Self(f)
    }
    /// The Initiator bit.
    pub fn initiator(self) -> bool {
        self.0 & Self::INITIATOR != 0
    }
    /// The Response bit.
    pub fn response(self) -> bool {
        self.0 & Self::RESPONSE != 0
    }
}

/// The fixed IKE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// IKE SA Initiator's SPI.
    pub spi_i: u64,
    /// IKE SA Responder's SPI (zero in the first IKE_SA_INIT request).
    pub spi_r: u64,
    /// Type of the first payload.
    pub next_payload: u8,
    /// Major (high nibble) and minor (low nibble) version.
    pub version: u8,
    /// Exchange type.
    pub exchange: ExchangeType,
    /// Flags.
    pub flags: Flags,
    /// Message ID.
    pub message_id: u32,
    /// Length of the whole message including the header.
    pub length: u32,
}

impl Header {
    /// Parses the header. Checks the length field against the buffer (a datagram carries exactly
    /// one message: the length must equal `buf.len()`), and the major version (2).
    pub fn parse(buf: &[u8]) -> Result<Self, WireError> {
        let b: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(WireError::Truncated("IKE header"))?;
        let h = Self::parse_fixed(b);
        if h.version >> 4 != 2 {
            return Err(WireError::UnsupportedVersion);
        }
        if h.length as usize != buf.len() {
            return Err(WireError::BadLength("IKE header"));
        }
        Ok(h)
    }

    /// Reads the 28 header octets without any check (for answering INVALID_MAJOR_VERSION etc.).
    pub fn parse_fixed(b: &[u8; HEADER_LEN]) -> Self {
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(a)
        };
        Header {
            spi_i: u64_at(0),
            spi_r: u64_at(8),
            next_payload: b[16],
            version: b[17],
            exchange: ExchangeType::from_u8(b[18]),
            flags: Flags(b[19]),
            message_id: u32::from_be_bytes([b[20], b[21], b[22], b[23]]),
            length: u32::from_be_bytes([b[24], b[25], b[26], b[27]]),
        }
    }

    /// Appends the 28 header octets.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.spi_i.to_be_bytes());
        out.extend_from_slice(&self.spi_r.to_be_bytes());
        out.push(self.next_payload);
        out.push(self.version);
        out.push(self.exchange.value());
        out.push(self.flags.0);
        out.extend_from_slice(&self.message_id.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }
}
