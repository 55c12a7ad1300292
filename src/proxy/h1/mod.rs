//! basalt's own HTTP/1.1 client connection to a backend. The request head and body leave in one
//! vectored write (Pingora's client session flushes them separately), and the answer is read
//! through one small buffer that grows only as a read needs it (Pingora's gives every body
//! reader a fixed 64 KiB buffer: most of the memory of an open stream).

pub(crate) mod chunked;

use bytes::{Bytes, BytesMut};
use chunked::Chunked;
use pingora::protocols::Stream;
use std::io::{self, IoSlice};
use std::ops::Range;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What one read asks the buffer to have room for (and the buffer's first size).
const READ_SIZE: usize = 4096;
/// A response head longer than this is a broken upstream.
const MAX_HEAD: usize = 64 * 1024;
/// Header fields read per response head.
const MAX_HEADERS: usize = 64;
/// Informational answers read past before the final one; more is a broken upstream.
const MAX_INFORMATIONAL: usize = 8;

/// How the rest of the response body is framed.
#[derive(Debug)]
enum Body {
    /// No head read yet.
    Unread,
    /// This many bytes left (`content-length`).
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked(Chunked),
    /// Neither: the body ends when the server closes.
    UntilClose,
    /// The whole body has been read.
    Done,
}

/// A final response head: the bytes as received and where each field is in them.
#[derive(Debug)]
pub(crate) struct Head {
    status: u16,
    raw: Bytes,
    fields: Vec<(Range<usize>, Range<usize>)>,
    keep_alive: bool,
}

impl Head {
    /// The status code.
    pub(crate) fn status(&self) -> u16 {
        self.status
    }

    /// The first value of the named field (case-insensitive), if it is text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| self.raw[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .and_then(|(_, v)| std::str::from_utf8(&self.raw[v.clone()]).ok())
    }
}

/// One connection to a backend, one exchange at a time.
pub(crate) struct Conn {
    stream: Stream,
    buf: BytesMut,
    head: Option<Head>,
    body: Body,
}

/// An upstream that broke the protocol.
fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Conn {
    /// A connection over a connected (and, for HTTPS, TLS-established) stream.
    pub(crate) fn new(stream: Stream) -> Self {
        Conn {
            stream,
            buf: BytesMut::new(),
            head: None,
            body: Body::Unread,
        }
    }

    /// Write a request head and body in one vectored write (a plain socket sends both in one
    /// segment when they fit), then flush.
    pub(crate) async fn send(&mut self, head: &[u8], body: &[u8]) -> io::Result<()> {
        let (mut head, mut body) = (head, body);
        while !head.is_empty() || !body.is_empty() {
            let n = self
                .stream
                .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            let from_head = n.min(head.len());
            head = &head[from_head..];
            body = &body[n - from_head..];
        }
        self.stream.flush().await
    }

    /// Read into the buffer; `Ok(0)` when the server closed.
    async fn fill(&mut self, room: usize) -> io::Result<usize> {
        self.buf.reserve(room);
        self.stream.read_buf(&mut self.buf).await
    }

    /// Read response heads until a final (non-1xx) one: `100 Continue` and `103 Early Hints`
    /// carry nothing for Bedrock clients.
    pub(crate) async fn read_head(&mut self) -> io::Result<&Head> {
        for _ in 0..=MAX_INFORMATIONAL {
            let head = loop {
                if let Some(head) = parse_head(&mut self.buf)? {
                    break head;
                }
                if self.buf.len() >= MAX_HEAD {
                    return Err(invalid("response head too long"));
                }
                if self.fill(READ_SIZE).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "closed before a response head",
                    ));
                }
            };
            if (100..200).contains(&head.0.status) && head.0.status != 101 {
                continue;
            }
            let (head, body) = head;
            self.body = body;
            return Ok(self.head.insert(head));
        }
        Err(invalid("too many informational responses"))
    }

    /// The final response head, once read.
    pub(crate) fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// The next piece of the body as it arrives; `None` at its end.
    pub(crate) async fn read_body(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            if let Some(data) = self.take_body()? {
                return Ok(Some(data));
            }
            if matches!(self.body, Body::Done) {
                return Ok(None);
            }
            let room = READ_SIZE.max(self.buf.len());
            if self.fill(room).await? == 0 {
                if matches!(self.body, Body::UntilClose) {
                    self.body = Body::Done;
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed before the end of the response body",
                ));
            }
        }
    }

    /// Body bytes already read from the socket, if any (no waiting): a relay takes every
    /// frame that arrived in one read before it writes to its client once.
    pub(crate) fn take_body(&mut self) -> io::Result<Option<Bytes>> {
        match &mut self.body {
            Body::Unread | Body::Done => Ok(None),
            Body::Length(left) => {
                if *left == 0 {
                    self.body = Body::Done;
                    return Ok(None);
                }
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(self.buf.len());
                *left -= n as u64;
                let data = self.buf.split_to(n).freeze();
                if *left == 0 {
                    self.body = Body::Done;
                }
                Ok(Some(data))
            }
            Body::Chunked(c) => {
                let data = c.next(&mut self.buf).map_err(|e| invalid(e.0))?;
                if c.done() {
                    self.body = Body::Done;
                }
                Ok(data)
            }
            Body::UntilClose => Ok((!self.buf.is_empty()).then(|| self.buf.split().freeze())),
        }
    }

    /// The whole body, at most `max` bytes (`Err` past it). A `content-length` body is read
    /// straight into one buffer of its size.
    pub(crate) async fn read_to_end(&mut self, max: usize) -> io::Result<Bytes> {
        if let Body::Length(len) = self.body {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > max {
                return Err(invalid("answer too large"));
            }
            while self.buf.len() < len {
                let room = len - self.buf.len();
                if self.fill(room).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "closed before the end of the response body",
                    ));
                }
            }
            self.body = Body::Done;
            return Ok(self.buf.split_to(len).freeze());
        }
        let mut whole = BytesMut::new();
        while let Some(data) = self.read_body().await? {
            if whole.len() + data.len() > max {
                return Err(invalid("answer too large"));
            }
            whole.extend_from_slice(&data);
        }
        Ok(whole.freeze())
    }

    /// Whether the exchange is complete and the connection may carry another: the body was
    /// read to its end, nothing stray follows it and the server did not ask to close.
    pub(crate) fn reusable(&self) -> bool {
        matches!(self.body, Body::Done)
            && self.buf.is_empty()
            && self.head.as_ref().is_some_and(|h| h.keep_alive)
    }

    /// The stream, to be pooled for the next exchange.
    pub(crate) fn into_stream(self) -> Stream {
        self.stream
    }
}

/// Parse one response head off the front of `buf`, if it is whole: the head and how its body
/// is framed.
fn parse_head(buf: &mut BytesMut) -> io::Result<Option<(Head, Body)>> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(&format!("invalid response head: {e}"))),
    };
    let status = response.code.unwrap_or(0);
    let http11 = response.version == Some(1);
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let start = s.as_ptr() as usize - base;
        start..start + s.len()
    };
    let mut spans = Vec::with_capacity(response.headers.len());
    let (mut length, mut chunked, mut close, mut keep) = (None, false, false, false);
    for f in response.headers.iter() {
        spans.push((at(f.name.as_bytes()), at(f.value)));
        let value = f.value;
        if f.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| invalid("invalid content-length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(invalid("conflicting content-length"));
            }
            length = Some(n);
        } else if f.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = has_token(value, b"chunked");
        } else if f.name.eq_ignore_ascii_case("connection") {
            close |= has_token(value, b"close");
            keep |= has_token(value, b"keep-alive");
        }
    }
    let raw = buf.split_to(len).freeze();
    let mut keep_alive = if http11 { !close } else { keep && !close };
    let body = if (100..200).contains(&status) || status == 204 || status == 304 {
        Body::Done
    } else if chunked {
        // A content-length beside chunked framing is ignored, and the connection not reused.
        keep_alive &= length.is_none();
        Body::Chunked(Chunked::default())
    } else if let Some(n) = length {
        Body::Length(n)
    } else {
        keep_alive = false;
        Body::UntilClose
    };
    let head = Head {
        status,
        raw,
        fields: spans,
        keep_alive,
    };
    Ok(Some((head, body)))
}

/// Whether a comma-separated field value holds `token` (case-insensitive).
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests;
