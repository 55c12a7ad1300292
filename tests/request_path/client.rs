//! A deliberately small HTTP/1.1 client over `std::net::TcpStream`: the tests need exact
//! control of what goes on the wire (Content-Length vs chunked, `Expect: 100-continue`, two
//! requests on one connection) and to see interim (1xx) answers, which general clients hide.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// No single read may block longer than this: a hung gateway fails the test, not the run.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// One answer, body de-chunked.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }
}

/// One client connection; several requests may be sent on it in turn.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            reader: BufReader::new(stream),
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let s = self.reader.get_mut();
        s.write_all(bytes).unwrap();
        s.flush().unwrap();
    }

    /// The status line and headers of the next answer (interim or final).
    pub fn read_head(&mut self) -> (u16, Vec<(String, String)>) {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("reading the status line: {e}"));
        assert!(
            line.starts_with("HTTP/1.1 "),
            "not an HTTP/1.1 status line: {line:?}"
        );
        let status: u16 = line[9..12].parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end_matches(['\r', '\n']);
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').expect("header line");
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        (status, headers)
    }

    /// The next final answer, its body read whole (interim answers are skipped).
    pub fn read_response(&mut self) -> Response {
        loop {
            let (status, headers) = self.read_head();
            if (100..200).contains(&status) {
                continue;
            }
            let body = self.read_body(status, &headers);
            return Response {
                status,
                headers,
                body,
            };
        }
    }

    fn read_body(&mut self, status: u16, headers: &[(String, String)]) -> Vec<u8> {
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        if status == 204 || status == 304 {
            return Vec::new();
        }
        if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            let mut body = Vec::new();
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).unwrap();
                let size = size.trim_end_matches(['\r', '\n']);
                let size = size.split(';').next().unwrap_or("");
                let n = usize::from_str_radix(size.trim(), 16)
                    .unwrap_or_else(|e| panic!("chunk size {size:?}: {e}"));
                if n == 0 {
                    // Trailers (none expected) end with an empty line.
                    loop {
                        let mut t = String::new();
                        self.reader.read_line(&mut t).unwrap();
                        if t == "\r\n" || t.is_empty() {
                            break;
                        }
                    }
                    return body;
                }
                let start = body.len();
                body.resize(start + n, 0);
                self.reader.read_exact(&mut body[start..]).unwrap();
                let mut crlf = [0u8; 2];
                self.reader.read_exact(&mut crlf).unwrap();
                assert_eq!(&crlf, b"\r\n", "chunk not followed by CRLF");
            }
        }
        if let Some(n) = get("content-length") {
            let mut body = vec![0; n.parse().unwrap()];
            self.reader.read_exact(&mut body).unwrap();
            return body;
        }
        let mut body = Vec::new();
        self.reader.read_to_end(&mut body).unwrap();
        body
    }

    /// Send one request and read its final answer.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.write(&head(method, path, headers, Some(body.len())));
        self.write(body);
        self.read_response()
    }
}

/// A request head; `content_length` adds the header.
pub fn head(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
) -> Vec<u8> {
    let mut h = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = content_length {
        h.push_str(&format!("content-length: {n}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// One request on a fresh connection.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    Conn::open(port).request(method, path, headers, body)
}

pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Response {
    request(port, "GET", path, headers, b"")
}

/// `POST /v1/chat/completions` with a JSON body.
pub fn chat(port: u16, body: &Value) -> Response {
    request(
        port,
        "POST",
        "/v1/chat/completions",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
}
