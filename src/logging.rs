//! The process logger: `BASALT_LOG` (RUST_LOG syntax, default `info`) to stderr, with two guards
//! so that no secret (client keys, Bedrock API key, AWS signature, session token) reaches a log.
//!
//! 1. **Caps** (`CAPS`): the dependencies that dump HTTP headers or request/response bodies at
//!    `debug`/`trace` are held at a fixed maximum level. The cap is enforced by the logger itself,
//!    after the `BASALT_LOG` filter, so no directive can lift it (an env-filter directive would
//!    not do: a longer one such as `pingora_core::protocols=trace` overrides a shorter one).
//! 2. **Redaction** (`redact`): every formatted message, ours and every dependency's, has the
//!    values of `authorization`, `x-api-key`, `x-amz-security-token`, `cookie` and AWS
//!    `Signature=` / `Credential=` fragments replaced by `<redacted>`. This catches what the caps
//!    cannot know about (a new dependency, an error message that echoes a header); it is a
//!    textual heuristic, so it errs on the side of hiding too much (an unquoted header value is
//!    hidden up to the end of the line).

use crate::redact::redact;
use log::{LevelFilter, Log, Metadata, Record};
use std::borrow::Cow;

/// Highest level at which each header-dumping dependency may log, whatever `BASALT_LOG` says.
/// A name covers the crate of that name and every crate named `<name>_…` (`pingora` covers
/// `pingora_core`, `pingora_proxy`, …; `aws` covers every `aws_*` crate).
pub(crate) const CAPS: &[(&str, LevelFilter)] = &[
    // pingora_core::protocols::http::v1::client traces "Writing request header: {to_wire:?}"
    // (the signed upstream request: `authorization`, `x-amz-security-token`) and debugs
    // "Response header"; pingora_proxy traces "Request header: {:?}" (the client's key) and
    // debugs "Sending header to upstream {:?}"; pingora_cache debugs cached headers.
    // Their info/warn/error lines print no header.
    ("pingora", LevelFilter::Info),
    // rustls traces whole handshake messages (ClientHello, tickets, certificates); its debug
    // lines (suite chosen, resumption) are safe and useful for TLS problems.
    ("rustls", LevelFilter::Debug),
    // The crates below log through `tracing`. Today nothing of theirs reaches this logger (no
    // tracing subscriber is installed and tracing's `log` feature is off), but one dependency
    // enabling that feature would bridge them, so they are capped in advance:
    // aws_smithy_runtime traces "transmitting request" / "received response" with every header
    // and the STS/SSO answers (temporary credentials); aws_sigv4 traces the request being signed;
    // aws_config debugs profile and credential-process details.
    ("aws", LevelFilter::Info),
    // h2 debugs every frame sent (HEADERS included); hyper/hyper_util trace connection I/O.
    ("h2", LevelFilter::Info),
    ("hyper", LevelFilter::Info),
    // Not in the dependency tree today; HTTP clients that dump headers at debug/trace.
    ("reqwest", LevelFilter::Info),
    ("ureq", LevelFilter::Info),
    // Span enter/exit records of the tracing→log bridge carry span fields (requests, operations).
    ("tracing", LevelFilter::Info),
];

/// Install the logger: `BASALT_LOG` (RUST_LOG syntax), default `info`; logs go to stderr, with
/// `CAPS` applied and every line passed through `redact`. A second call does nothing.
pub fn init() {
    let env = env_logger::Env::new().filter_or("BASALT_LOG", "info");
    let inner = env_logger::Builder::from_env(env)
        .target(env_logger::Target::Stderr)
        .build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(Guarded { inner })).is_ok() {
        log::set_max_level(max);
    }
}

/// env_logger behind the caps and the redaction.
struct Guarded {
    inner: env_logger::Logger,
}

/// The cap for a log target, if its crate is one of [`CAPS`].
fn cap(target: &str) -> Option<LevelFilter> {
    let krate = target.split("::").next().unwrap_or(target);
    CAPS.iter()
        .find(|(name, _)| {
            krate
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
        })
        .map(|&(_, level)| level)
}

fn allowed(metadata: &Metadata<'_>) -> bool {
    cap(metadata.target()).is_none_or(|max| metadata.level() <= max)
}

impl Log for Guarded {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        allowed(metadata) && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text: Cow<'_, str> = match record.args().as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(record.args().to_string()),
        };
        let clean = redact(&text);
        self.inner.log(
            &Record::builder()
                .metadata(record.metadata().clone())
                .args(format_args!("{clean}"))
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[test]
    fn caps_cover_the_header_dumping_crates() {
        assert_eq!(
            cap("pingora_core::protocols::http::v1::client"),
            Some(LevelFilter::Info)
        );
        assert_eq!(cap("pingora_proxy"), Some(LevelFilter::Info));
        assert_eq!(
            cap("aws_smithy_runtime::client::orchestrator"),
            Some(LevelFilter::Info)
        );
        assert_eq!(
            cap("aws_sigv4::http_request::sign"),
            Some(LevelFilter::Info)
        );
        assert_eq!(cap("hyper_util::client"), Some(LevelFilter::Info));
        assert_eq!(cap("rustls::client::hs"), Some(LevelFilter::Debug));
        assert_eq!(cap("tracing::span"), Some(LevelFilter::Info));
        assert_eq!(cap("basalt::access"), None);
        assert_eq!(cap("h2o"), None);
        assert_eq!(cap("awsome"), None);
    }

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_logger_caps_and_redacts_whatever_the_filter_says() {
        let sink = Sink::default();
        let inner = env_logger::Builder::new()
            .parse_filters("trace,pingora_core::protocols=trace")
            .target(env_logger::Target::Pipe(Box::new(sink.clone())))
            .build();
        let logger = Guarded { inner };
        let emit = |target: &str, level: log::Level, text: &str| {
            logger.log(
                &Record::builder()
                    .target(target)
                    .level(level)
                    .args(format_args!("{text}"))
                    .build(),
            )
        };
        emit(
            "pingora_core::protocols::http::v1::client",
            log::Level::Trace,
            "Writing request header: secret-1",
        );
        emit(
            "pingora_proxy",
            log::Level::Debug,
            "Request header: secret-2",
        );
        emit(
            "pingora_core::server",
            log::Level::Info,
            "Bootstrap starting",
        );
        emit(
            "basalt::proxy",
            log::Level::Trace,
            "sent {\"authorization\": \"Bearer secret-3\"}",
        );
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(!out.contains("secret-"), "{out}");
        assert!(out.contains("Bootstrap starting"), "{out}");
        assert!(
            out.contains("sent {\"authorization\": \"<redacted>\"}"),
            "{out}"
        );
        let capped = Metadata::builder()
            .target("aws_sigv4::sign")
            .level(log::Level::Trace)
            .build();
        assert!(!logger.enabled(&capped));
    }
}
