//! A scripted Bedrock stand-in: a std TCP server on 127.0.0.1 that answers
//! `POST /model/<id>/<op>` with exact bytes chosen by the model id, so each test picks its
//! upstream behaviour through the `model` it sends (routes `script-*` and `hang-*`). Every
//! answer closes the connection, so the gateway never pools one and each request gets a fresh
//! script run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Fixture file bytes (`tests/fixtures/stream/<name>`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stream")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Start the server on a free port (the listener is kept: no port race).
pub fn start() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream));
        }
    });
    port
}

/// Held open by the `script-gate` model until the test releases it.
pub struct Gate {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

pub static GATE: Gate = Gate {
    state: Mutex::new((0, false)),
    changed: Condvar::new(),
};

impl Gate {
    /// Wait (up to `limit`) until `n` requests have arrived at the gate.
    pub fn wait_arrived(&self, n: usize, limit: Duration) {
        let guard = self.state.lock().unwrap();
        let (guard, timeout) = self
            .changed
            .wait_timeout_while(guard, limit, |s| s.0 < n)
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "only {} request(s) reached the gate",
            guard.0
        );
    }

    /// Let every held request (and later ones) through.
    pub fn release(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }

    fn pass(&self) {
        let mut s = self.state.lock().unwrap();
        s.0 += 1;
        self.changed.notify_all();
        let _ = self
            .changed
            .wait_timeout_while(s, Duration::from_secs(10), |s| !s.1)
            .unwrap();
    }
}

/// A Converse answer with one text block.
pub fn converse_json(text: &str) -> String {
    serde_json::json!({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
        "metrics": {"latencyMs": 1},
    })
    .to_string()
}

fn serve(mut stream: TcpStream) {
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    // `/model/<id>/<op>`: the ids used here need no percent-decoding.
    let model = path
        .strip_prefix("/model/")
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
        .to_owned();
    let json = |status: &str, extra: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    match model.as_str() {
        "script-unknown-exception" => {
            let answer = json(
                "500 Internal Server Error",
                "x-amzn-errortype: BrandNewException:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n",
                r#"{"message":"a brand new failure"}"#,
            );
            let _ = stream.write_all(answer.as_bytes());
        }
        "script-empty-json" => {
            let _ = stream.write_all(json("200 OK", "", "{}").as_bytes());
        }
        "script-early-hints" => {
            early_hints(&mut stream);
            let answer = json("200 OK", "", &converse_json("after early hints"));
            let _ = stream.write_all(answer.as_bytes());
        }
        "script-stream-early-hints" => {
            early_hints(&mut stream);
            chunked_in_odd_pieces(&mut stream, &fixture("text_usage.eventstream"));
        }
        "script-gate" => {
            GATE.pass();
            let answer = json("200 OK", "", &converse_json("through the gate"));
            let _ = stream.write_all(answer.as_bytes());
        }
        "script-stream-text" => {
            chunked_in_odd_pieces(&mut stream, &fixture("text_usage.eventstream"));
        }
        "script-stream-exception" => chunked_in_odd_pieces(
            &mut stream,
            &fixture("exception_throttlingException.eventstream"),
        ),
        "script-stream-cut" => {
            // The first frame whole, then 10 bytes of the second; the body is delimited by
            // the connection closing (no content-length, not chunked).
            let frames = fixture("text_usage.eventstream");
            let first = u32::from_be_bytes(frames[..4].try_into().unwrap()) as usize;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\nconnection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&frames[..first + 10]);
        }
        m if m.starts_with("hang-") => {
            // Never answer; hold the connection until the gateway gives up and closes it.
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut byte = [0u8; 1];
            while Instant::now() < deadline {
                match reader.read(&mut byte) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            return;
        }
        _ => {
            let answer = json(
                "404 Not Found",
                "x-amzn-errortype: UnknownOperationException\r\n",
                r#"{"message":"no script for this model"}"#,
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Let the gateway read to the end before the socket is dropped (no RST on unread input).
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

/// An interim `103 Early Hints` answer, sent on its own before the final one.
fn early_hints(stream: &mut TcpStream) {
    let hints = "HTTP/1.1 103 Early Hints\r\nlink: </hint.css>; rel=preload\r\n\r\n";
    let _ = stream.write_all(hints.as_bytes());
    let _ = stream.flush();
    thread::sleep(Duration::from_millis(20));
}

/// A 200 event-stream answer, chunked, its body written in pieces of 1, 7 and 13 bytes in
/// turn (each its own HTTP chunk and TCP segment, 1 ms apart), so frames and even their
/// prelude arrive split.
fn chunked_in_odd_pieces(stream: &mut TcpStream, body: &[u8]) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut at = 0;
    for size in [1usize, 7, 13].into_iter().cycle() {
        if at >= body.len() {
            break;
        }
        let piece = &body[at..(at + size).min(body.len())];
        at += piece.len();
        let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
        chunk.extend_from_slice(piece);
        chunk.extend_from_slice(b"\r\n");
        if stream.write_all(&chunk).is_err() {
            return;
        }
        let _ = stream.flush();
        thread::sleep(Duration::from_millis(1));
    }
    let _ = stream.write_all(b"0\r\n\r\n");
}
