//! HTTP/1.1 chunked transfer decoding as a synchronous state machine: bytes in (the connection's
//! read buffer), body bytes out, split anywhere. Chunk extensions and trailers are read past.

use bytes::{Bytes, BytesMut};

/// Longest chunk-size line (size, extensions, CRLF) or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// After a chunk's data, expecting its CRLF.
    DataEnd,
    /// After the last (zero-size) chunk: trailer lines until an empty one.
    Trailer,
    /// The body is complete.
    Done,
}

/// A broken chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkError(pub(crate) &'static str);

/// The decoder for one body.
#[derive(Debug)]
pub(crate) struct Chunked {
    state: State,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked { state: State::Size }
    }
}

impl Chunked {
    /// Whether the terminating chunk and trailers have been read.
    pub(crate) fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Take the next body bytes out of `buf`: `Ok(Some)` data, `Ok(None)` when `buf` holds no
    /// more (read more, unless [`Chunked::done`]). Framing bytes are consumed as they go.
    pub(crate) fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, ChunkError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Data(left) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok(Some(buf.split_to(n).freeze()));
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ChunkError("chunk data not followed by CRLF"));
                    }
                    let _ = buf.split_to(2);
                    self.state = State::Size;
                }
                State::Size => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(None);
                    };
                    let size = parse_size(&line)?;
                    self.state = if size == 0 {
                        State::Trailer
                    } else {
                        State::Data(size)
                    };
                }
                State::Trailer => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(None);
                    };
                    if line.len() == 2 {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}

/// One CRLF-terminated line (with its CRLF) off the front of `buf`, if whole.
fn take_line(buf: &mut BytesMut) -> Result<Option<BytesMut>, ChunkError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && buf[i - 1] == b'\r' && i < MAX_LINE => Ok(Some(buf.split_to(i + 1))),
        Some(_) => Err(ChunkError("malformed chunk line")),
        None if buf.len() >= MAX_LINE => Err(ChunkError("chunk line too long")),
        None => Ok(None),
    }
}

/// The size of a chunk-size line (hex, optional `;extensions`, CRLF).
fn parse_size(line: &[u8]) -> Result<u64, ChunkError> {
    match httparse::parse_chunk_size(line) {
        Ok(httparse::Status::Complete((_, size))) => Ok(size),
        _ => Err(ChunkError("invalid chunk size")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `wire` to a decoder in pieces split at `cuts`; the body and whether it completed.
    fn decode(wire: &[u8], cuts: &[usize]) -> Result<(Vec<u8>, bool), ChunkError> {
        let mut d = Chunked::default();
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut at = 0;
        for &end in cuts.iter().chain(std::iter::once(&wire.len())) {
            buf.extend_from_slice(&wire[at..end]);
            at = end;
            while let Some(data) = d.next(&mut buf)? {
                body.extend_from_slice(&data);
            }
        }
        Ok((body, d.done()))
    }

    const WIRE: &[u8] =
        b"5\r\nhello\r\n1;ext=1\r\n \r\n10\r\n0123456789abcdef\r\n0\r\nx-trailer: 1\r\n\r\n";

    #[test]
    fn every_split_gives_the_same_body() {
        let whole = decode(WIRE, &[]).unwrap();
        assert_eq!(whole, (b"hello 0123456789abcdef".to_vec(), true));
        for cut in 0..=WIRE.len() {
            assert_eq!(decode(WIRE, &[cut]).unwrap(), whole, "split at {cut}");
        }
        let bytewise: Vec<usize> = (1..WIRE.len()).collect();
        assert_eq!(decode(WIRE, &bytewise).unwrap(), whole);
    }

    #[test]
    fn bytes_after_the_body_are_left_in_the_buffer() {
        let mut d = Chunked::default();
        let mut buf = BytesMut::from(&b"2\r\nok\r\n0\r\n\r\nHTTP/1.1"[..]);
        assert_eq!(d.next(&mut buf).unwrap().as_deref(), Some(&b"ok"[..]));
        assert_eq!(d.next(&mut buf).unwrap(), None);
        assert!(d.done());
        assert_eq!(&buf[..], b"HTTP/1.1");
    }

    #[test]
    fn an_unfinished_body_is_not_done() {
        assert_eq!(decode(b"5\r\nhel", &[]).unwrap(), (b"hel".to_vec(), false));
        assert!(!decode(b"5\r\nhello\r\n0\r\n", &[]).unwrap().1);
    }

    #[test]
    fn broken_framing_is_an_error() {
        for bad in [
            &b"zz\r\nhello\r\n"[..],
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\nhello\r\n",
            b"ffffffffffffffffffff\r\n",
        ] {
            assert!(
                decode(bad, &[]).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = vec![b'1'; MAX_LINE + 1];
        assert_eq!(decode(&long, &[]), Err(ChunkError("chunk line too long")));
    }
}
