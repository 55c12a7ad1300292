//! The client connection against a scripted server on loopback.

use super::*;
use pingora::protocols::l4::stream::Stream as L4Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A connection to a server that reads one request and answers `pieces`, pausing between them
/// so each arrives in its own read; the server's copy of the request comes back on `rx`.
async fn scripted(pieces: Vec<&'static [u8]>) -> (Conn, tokio::sync::oneshot::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut req = vec![0u8; 1 << 16];
        let n = s.read(&mut req).await.unwrap();
        req.truncate(n);
        let _ = tx.send(req);
        for p in pieces {
            s.write_all(p).await.unwrap();
            s.flush().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    (Conn::new(Box::new(L4Stream::from(tcp))), rx)
}

#[tokio::test]
async fn head_and_body_arrive_together_and_a_length_body_is_read_whole() {
    let (mut c, rx) = scripted(vec![
        b"HTTP/1.1 200 OK\r\nX-Amzn-RequestId: abc\r\ncontent-length: 11\r\n\r\nhello",
        b" world",
    ])
    .await;
    c.send(b"POST /x HTTP/1.1\r\ncontent-length: 4\r\n\r\n", b"body")
        .await
        .unwrap();
    let head = c.read_head().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("x-amzn-requestid"), Some("abc"));
    assert_eq!(head.header("retry-after"), None);
    assert_eq!(&c.read_to_end(1 << 20).await.unwrap()[..], b"hello world");
    assert!(c.reusable());
    assert_eq!(
        rx.await.unwrap(),
        b"POST /x HTTP/1.1\r\ncontent-length: 4\r\n\r\nbody".to_vec()
    );
}

#[tokio::test]
async fn a_chunked_stream_comes_piece_by_piece_after_informational_heads() {
    let (mut c, _rx) = scripted(vec![
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc",
        b"\r\n2\r\nde\r\n",
        b"0\r\n\r\n",
    ])
    .await;
    c.send(b"POST / HTTP/1.1\r\n\r\n", b"").await.unwrap();
    assert_eq!(c.read_head().await.unwrap().status(), 200);
    let mut pieces = Vec::new();
    while let Some(p) = c.read_body().await.unwrap() {
        pieces.push(p);
    }
    assert_eq!(pieces.concat(), b"abcde");
    assert!(pieces.len() >= 2, "{pieces:?}");
    assert!(c.reusable());
}

#[tokio::test]
async fn close_framing_and_stray_bytes_are_not_reused() {
    let (mut c, _rx) = scripted(vec![
        b"HTTP/1.1 500 Oops\r\nconnection: close\r\ncontent-length: 2\r\n\r\nno",
    ])
    .await;
    c.send(b"GET / HTTP/1.1\r\n\r\n", b"").await.unwrap();
    assert_eq!(c.read_head().await.unwrap().status(), 500);
    assert_eq!(&c.read_to_end(100).await.unwrap()[..], b"no");
    assert!(!c.reusable());

    let (mut c, _rx) = scripted(vec![b"HTTP/1.1 200 OK\r\n\r\nuntil close"]).await;
    c.send(b"GET / HTTP/1.1\r\n\r\n", b"").await.unwrap();
    c.read_head().await.unwrap();
    // The server keeps the socket open after its answer here, so read what arrived only.
    assert_eq!(&c.take_body().unwrap().unwrap()[..], b"until close");
    assert!(!c.reusable());

    let (mut c, _rx) = scripted(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA"]).await;
    c.send(b"GET / HTTP/1.1\r\n\r\n", b"").await.unwrap();
    c.read_head().await.unwrap();
    assert_eq!(&c.read_to_end(100).await.unwrap()[..], b"ok");
    assert!(!c.reusable(), "bytes after the body");
}

#[tokio::test]
async fn broken_answers_are_errors() {
    for (wire, max) in [
        (&b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n"[..], 100),
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            100,
        ),
        (b"NOT HTTP\r\n\r\n", 100),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            100,
        ),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 200\r\n\r\n", 100),
    ] {
        let (mut c, _rx) = scripted(vec![wire]).await;
        c.send(b"GET / HTTP/1.1\r\n\r\n", b"").await.unwrap();
        let r = match c.read_head().await {
            Ok(_) => c.read_to_end(max).await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(r.is_err(), "{}", String::from_utf8_lossy(wire));
    }
}

#[tokio::test]
async fn a_close_before_the_end_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut req = [0u8; 1024];
        let _ = s.read(&mut req).await;
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort")
            .await
            .unwrap();
    });
    let mut c = Conn::new(Box::new(L4Stream::from(
        TcpStream::connect(addr).await.unwrap(),
    )));
    c.send(b"GET / HTTP/1.1\r\n\r\n", b"").await.unwrap();
    c.read_head().await.unwrap();
    let e = c.read_to_end(100).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn tokens_in_field_values() {
    assert!(has_token(b"keep-alive, Close", b"close"));
    assert!(has_token(b"gzip, chunked", b"chunked"));
    assert!(!has_token(b"notchunked", b"chunked"));
}

#[tokio::test]
async fn chunks_that_arrived_together_are_taken_without_waiting() {
    let (mut c, _rx) = scripted(vec![
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        b"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n",
    ])
    .await;
    c.send(b"POST / HTTP/1.1\r\n\r\n", b"").await.unwrap();
    c.read_head().await.unwrap();
    assert_eq!(&c.read_body().await.unwrap().unwrap()[..], b"a");
    // What the same read brought is there at once; then nothing until the next read.
    assert_eq!(&c.take_body().unwrap().unwrap()[..], b"b");
    assert_eq!(&c.take_body().unwrap().unwrap()[..], b"c");
    assert_eq!(c.take_body().unwrap(), None);
}
