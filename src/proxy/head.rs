//! Scanning a request head as its bytes arrive (pure, no I/O): where it ends, and whether it
//! breaks a limit — `maxHeaderBytes` (431), [`MAX_HEADER_COUNT`] header lines (431), a request
//! line over [`MAX_REQUEST_LINE`] bytes (414). Used by the connection guard ([`super::conn`]).

/// Longest request line (method, URL, version) accepted; past it 414.
pub(crate) const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Most header lines one request head may carry; past it 431.
pub(crate) const MAX_HEADER_COUNT: usize = 100;

/// Scans a request head as its bytes arrive: where it ends, how long the request line is, how
/// many header lines it has.
#[derive(Debug, Default)]
pub(crate) struct HeadScan {
    bytes: usize,
    line_len: usize,
    lines: usize,
    seen_content: bool,
    blank: bool,
}

/// Why a head is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The head is larger than `maxHeaderBytes` (431).
    TooLarge,
    /// More than [`MAX_HEADER_COUNT`] header lines (431).
    TooManyHeaders,
    /// The request line is too long (414).
    UriTooLong,
}

impl HeadScan {
    /// Feed bytes; `Ok(Some(n))` when the head ends after the first `n` of them.
    pub(crate) fn feed(
        &mut self,
        bytes: &[u8],
        max_bytes: usize,
    ) -> Result<Option<usize>, Refusal> {
        for (i, &b) in bytes.iter().enumerate() {
            self.bytes += 1;
            if self.bytes > max_bytes {
                // A request line that alone fills the head limit is a URI too long.
                return Err(if self.lines == 0 {
                    Refusal::UriTooLong
                } else {
                    Refusal::TooLarge
                });
            }
            match b {
                b'\n' => {
                    if self.blank && self.seen_content {
                        return Ok(Some(i + 1));
                    }
                    if self.seen_content {
                        self.lines += 1;
                        if self.lines > MAX_HEADER_COUNT + 1 {
                            return Err(Refusal::TooManyHeaders);
                        }
                    }
                    self.blank = true;
                    self.line_len = 0;
                }
                b'\r' => {}
                _ => {
                    self.blank = false;
                    self.seen_content = true;
                    self.line_len += 1;
                    if self.lines == 0 && self.line_len > MAX_REQUEST_LINE {
                        return Err(Refusal::UriTooLong);
                    }
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(chunks: &[&[u8]], max: usize) -> Result<Option<usize>, Refusal> {
        let mut s = HeadScan::default();
        let mut last = Ok(None);
        for c in chunks {
            last = s.feed(c, max);
            if !matches!(last, Ok(None)) {
                return last;
            }
        }
        last
    }

    #[test]
    fn finds_the_end_of_a_head_split_anywhere() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";
        assert_eq!(scan_all(&[head], 1024), Ok(Some(head.len() - 4)));
        for cut in 1..head.len() - 4 {
            let (a, b) = head.split_at(cut);
            let r = scan_all(&[a, b], 1024);
            assert_eq!(r, Ok(Some(head.len() - 4 - cut)), "cut at {cut}");
        }
        assert_eq!(
            scan_all(&[b"GET / HTTP/1.1\nHost: x\n\n"], 1024),
            Ok(Some(24))
        );
    }

    #[test]
    fn leading_blank_lines_do_not_end_a_head() {
        assert_eq!(
            scan_all(&[b"\r\n\r\n\r\nGET / HTTP/1.1\r\n"], 1024),
            Ok(None)
        );
    }

    #[test]
    fn refuses_large_heads_many_headers_and_long_request_lines() {
        let big = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; 2000]].concat();
        assert_eq!(scan_all(&[&big], 1024), Err(Refusal::TooLarge));
        let long_line = [b"GET /".as_slice(), &[b'a'; 2000]].concat();
        assert_eq!(scan_all(&[&long_line], 1024), Err(Refusal::UriTooLong));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADER_COUNT {
            many.extend(format!("X-{i}: 1\r\n").as_bytes());
        }
        assert_eq!(scan_all(&[&many, b"\r\n"], 1 << 20), Ok(Some(2)));
        many.extend(b"X-last: 1\r\n");
        assert_eq!(scan_all(&[&many], 1 << 20), Err(Refusal::TooManyHeaders));
        let long = [b"GET /".as_slice(), &[b'a'; MAX_REQUEST_LINE]].concat();
        assert_eq!(scan_all(&[&long], 1 << 20), Err(Refusal::UriTooLong));
        let ok = [b"GET /".as_slice(), &[b'a'; 100], b" HTTP/1.1\r\n\r\n"].concat();
        assert!(matches!(scan_all(&[&ok], 1 << 20), Ok(Some(_))));
    }
}
