//! Incremental decoding of `application/vnd.amazon.eventstream` (ConverseStream) with
//! `aws-smithy-eventstream`: push bytes as they arrive, pull whole frames. Frames split across
//! reads and several frames per read are both fine; CRC failures and oversized frames are errors.
//!
//! Framing (the 4-byte total length) is read here so the size cap applies before any buffering
//! decision, and only whole frames are handed to `aws_smithy_eventstream::frame::read_message_from`
//! (which checks both CRCs). Its stateful `MessageFrameDecoder` would add nothing: it consumes
//! the prelude as soon as 12 bytes are present, which is exactly what this avoids.

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::{Bytes, BytesMut};

/// Largest frame accepted (botocore caps payloads at 24 MiB; Converse events are tiny).
pub(crate) const MAX_FRAME: usize = 16 * 1024 * 1024;

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `:message-type: event` with its `:event-type`.
    Event {
        /// The event name (`messageStart`, `contentBlockDelta`, `metadata`, ...).
        kind: String,
        /// The event's JSON body.
        payload: Bytes,
    },
    /// `:message-type: exception` with its `:exception-type`.
    Exception {
        /// The Bedrock exception name (`throttlingException`, ...), as the stream spells it.
        kind: String,
        /// The exception's JSON body (carries its `message`).
        payload: Bytes,
    },
    /// `:message-type: error` with `:error-code` / `:error-message`.
    Error {
        /// The `:error-code` header.
        code: String,
        /// The `:error-message` header.
        message: String,
    },
}

/// A stream that cannot be decoded (bad length, CRC mismatch, oversized frame); the text says
/// which. The stream cannot continue after one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub(crate) String);

/// Turns the bytes of one ConverseStream response, in whatever chunks they arrive, into frames.
#[derive(Default)]
pub struct Decoder {
    buf: BytesMut,
}

fn header<'m>(m: &'m Message, name: &str) -> Option<&'m str> {
    m.headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

impl Decoder {
    /// A decoder with nothing buffered, for a new response.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append bytes read from the upstream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet decoded (a partial frame).
    pub(crate) fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        if self.buf.len() < 12 {
            return Ok(None);
        }
        let total =
            u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if total > MAX_FRAME {
            return Err(DecodeError(format!(
                "event-stream frame of {total} bytes exceeds the {MAX_FRAME}-byte cap"
            )));
        }
        if total < 16 {
            return Err(DecodeError(format!(
                "invalid event-stream frame length {total}"
            )));
        }
        // Hand the decoder whole frames only (it consumes the prelude as soon as it sees one).
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        let message = read_message_from(frame)
            .map_err(|e| DecodeError(format!("invalid event-stream frame: {e}")))?;
        let message_type = header(&message, ":message-type").unwrap_or("event");
        let frame = match message_type {
            "event" => Frame::Event {
                kind: header(&message, ":event-type").unwrap_or("").to_owned(),
                payload: message.payload().clone(),
            },
            "exception" => Frame::Exception {
                kind: header(&message, ":exception-type").unwrap_or("").to_owned(),
                payload: message.payload().clone(),
            },
            _ => Frame::Error {
                code: header(&message, ":error-code").unwrap_or("").to_owned(),
                message: header(&message, ":error-message").unwrap_or("").to_owned(),
            },
        };
        Ok(Some(frame))
    }
}

/// Encode one frame (used by the simulator and tests).
pub(crate) fn encode(message_type: &str, type_header: &str, kind: &str, payload: &[u8]) -> Vec<u8> {
    use aws_smithy_types::event_stream::Header;
    let message = Message::new(Bytes::copy_from_slice(payload))
        .add_header(Header::new(
            type_header.to_owned(),
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.to_owned().into()),
        ));
    let mut out = Vec::with_capacity(payload.len() + 96);
    // Encoding a well-formed message into a Vec cannot fail.
    let _ = aws_smithy_eventstream::frame::write_message_to(&message, &mut out);
    out
}

/// An event frame (`:event-type`).
pub fn encode_event(kind: &str, payload: &[u8]) -> Vec<u8> {
    encode("event", ":event-type", kind, payload)
}

/// An exception frame (`:exception-type`).
pub fn encode_exception(kind: &str, payload: &[u8]) -> Vec<u8> {
    encode("exception", ":exception-type", kind, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_anywhere_and_batched() {
        let mut stream = encode_event("messageStart", br#"{"role":"assistant"}"#);
        stream.extend(encode_event(
            "contentBlockDelta",
            br#"{"contentBlockIndex":0,"delta":{"text":"hi"}}"#,
        ));
        stream.extend(encode_exception(
            "throttlingException",
            br#"{"message":"slow down"}"#,
        ));
        for cut in 0..=stream.len() {
            let mut d = Decoder::new();
            let mut frames = Vec::new();
            d.push(&stream[..cut]);
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
            d.push(&stream[cut..]);
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
            assert_eq!(frames.len(), 3, "cut at {cut}");
            assert_eq!(d.pending(), 0);
            assert!(
                matches!(&frames[2], Frame::Exception { kind, .. } if kind == "throttlingException")
            );
        }
    }

    #[test]
    fn crc_failure_is_an_error_not_a_panic() {
        let mut frame = encode_event("messageStart", br#"{"role":"assistant"}"#);
        let n = frame.len();
        frame[n - 6] ^= 0xff;
        let mut d = Decoder::new();
        d.push(&frame);
        assert!(d.next_frame().is_err());
        let mut d = Decoder::new();
        d.push(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(d.next_frame().unwrap_err().0.contains("exceeds"));
    }
}
