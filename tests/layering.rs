//! The layering rule of `src/lib.rs`, checked on the source text: the pure core imports no
//! Pingora, tokio, clock, environment or file system; only `proxy` and `server` import Pingora;
//! no module imports from a layer above its own.

// A test fails by panicking: unwrap, expect and panic are its assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// Layers, bottom up. A module may use `crate::X` only for X in its own layer or below.
const LAYERS: &[&[&str]] = &[
    &["json", "redact", "secret", "wire"],
    &["anthropic", "bedrock", "error", "openai", "translate"],
    &[
        "auth",
        "config",
        "credentials",
        "logging",
        "metrics",
        "ratelimit",
        "sim",
    ],
    &["proxy", "server"],
];

/// What the pure core (layers 0 and 1) must not touch.
const IMPURE: &[&str] = &[
    "pingora::",
    "tokio::",
    "SystemTime::now",
    "Instant::now",
    "std::env",
    "env::var",
    "std::fs",
    "std::net::TcpStream",
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a source file belongs to (`src/proxy/chat.rs` → `proxy`).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_owned())
}

/// The code of a file without its test module and comments.
fn code(text: &str) -> String {
    let until_tests = text.split("#[cfg(test)]").next().unwrap_or(text);
    until_tests
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every rule the file breaks.
fn violations(module: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(own) = layer(module) else {
        return vec![format!(
            "module `{module}` is in no layer of tests/layering.rs"
        )];
    };
    let code = code(text);
    if own <= 1 {
        for word in IMPURE {
            if code.contains(word) {
                out.push(format!("pure module `{module}` uses `{word}`"));
            }
        }
    }
    if own < 3 && code.contains("pingora::") {
        out.push(format!(
            "`{module}` uses Pingora (only proxy and server may)"
        ));
    }
    for (i, _) in code.match_indices("crate::") {
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        match layer(&name) {
            Some(l) if l > own => {
                out.push(format!("`{module}` imports `{name}` from a layer above"))
            }
            _ => {}
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_source_tree_keeps_the_layering_rule() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let Some(module) = module_of(rel) else {
            continue;
        };
        if ["lib", "main", "bin"].contains(&module.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for v in violations(&module, &text) {
            broken.push(format!("{}: {v}", rel.display()));
        }
    }
    assert!(files.len() > 30, "found only {} source files", files.len());
    assert!(
        broken.is_empty(),
        "layering rule broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_catches_each_kind_of_break() {
    let v = violations(
        "translate",
        "use pingora::prelude::*;\nfn f() { tokio::spawn(g()); }",
    );
    assert!(v.iter().any(|m| m.contains("`pingora::`")), "{v:?}");
    assert!(v.iter().any(|m| m.contains("`tokio::`")), "{v:?}");
    let v = violations(
        "error",
        "let t = std::time::SystemTime::now(); let e = std::env::var(\"X\");",
    );
    assert_eq!(v.len(), 3, "{v:?}"); // SystemTime::now, std::env, env::var
    let v = violations("metrics", "use pingora::apps::http_app::ServeHttp;");
    assert_eq!(v, ["`metrics` uses Pingora (only proxy and server may)"]);
    let v = violations("openai", "use crate::proxy::respond;");
    assert_eq!(v, ["`openai` imports `proxy` from a layer above"]);
    // Tests and comments do not count.
    assert!(violations("json", "// tokio\n#[cfg(test)]\nmod t { use tokio; }").is_empty());
    assert!(violations(
        "server",
        "use pingora::prelude::*; use crate::proxy::Gateway;"
    )
    .is_empty());
}
