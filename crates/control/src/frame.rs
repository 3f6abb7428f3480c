//! Framing (docs/control.md "Framing"): a 4-byte big-endian length N, then N bytes of UTF-8
//! JSON. N is at most [`MAX_FRAME`].

use serde::Serialize;

/// Largest frame payload accepted or sent: 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;

/// Length of the frame header.
pub const HEADER_LEN: usize = 4;

/// Framing failures.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A frame announces (or would need) more than the limit. The connection must be closed
    /// after answering `too_large`: the stream cannot be resynchronised.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The announced or needed length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The message could not be encoded as JSON.
    #[error("cannot encode message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Encodes `msg` as one frame (header + JSON). Fails when the JSON exceeds [`MAX_FRAME`].
pub fn encode_frame(msg: &impl Serialize) -> Result<Vec<u8>, FrameError> {
    let mut out = vec![0u8; HEADER_LEN];
    serde_json::to_writer(&mut out, msg)?;
    let len = out.len() - HEADER_LEN;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_FRAME,
        });
    }
    let n = u32::try_from(len).map_err(|_| FrameError::TooLarge {
        len,
        max: MAX_FRAME,
    })?;
    out[..HEADER_LEN].copy_from_slice(&n.to_be_bytes());
    Ok(out)
}

/// Reassembles frames from a byte stream fed in arbitrary pieces.
///
/// ```
/// use control::FrameDecoder;
/// let mut d = FrameDecoder::new();
/// d.push(&[0, 0, 0, 2, b'{']);
/// assert!(d.next_frame().unwrap().is_none());
/// d.push(b"}");
/// assert_eq!(d.next_frame().unwrap().as_deref(), Some(&b"{}"[..]));
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    max: usize,
    failed: Option<usize>,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder with the protocol's limit, [`MAX_FRAME`].
    pub fn new() -> Self {
        Self::with_max(MAX_FRAME)
    }

    /// A decoder with another limit (tests, or a stricter server).
    pub fn with_max(max: usize) -> Self {
        FrameDecoder {
            buf: Vec::new(),
            max,
            failed: None,
        }
    }

    /// Appends bytes read from the stream. Once a frame was too large, further bytes are
    /// dropped (the stream cannot be resynchronised).
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes buffered but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame's payload, `Ok(None)` when more bytes are needed, or
    /// `TooLarge` as soon as a header announces more than the limit (and from then on).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if let Some(len) = self.failed {
            return Err(FrameError::TooLarge { len, max: self.max });
        }
        let Some(header) = self.buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(header);
        let len = u32::from_be_bytes(h) as usize;
        if len > self.max {
            self.failed = Some(len);
            self.buf = Vec::new();
            return Err(FrameError::TooLarge { len, max: self.max });
        }
        let Some(end) = HEADER_LEN.checked_add(len) else {
            return Ok(None);
        };
        if self.buf.len() < end {
            return Ok(None);
        }
        let frame = self.buf.get(HEADER_LEN..end).unwrap_or(&[]).to_vec();
        self.buf.drain(..end);
        Ok(Some(frame))
    }
}
