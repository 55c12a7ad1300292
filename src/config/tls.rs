//! PEM files checked at load, the way the runtime will use them, so that a bad listener
//! certificate, key or backend CA bundle fails `--check` instead of the start.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{version, Error as RusTlsError, RootCertStore, ServerConfig};
use rustls_pemfile::Item;
use std::path::Path;

/// Read a PEM bundle of CA certificates: the DER bytes of each certificate, in file order.
/// Fails (naming the file) when it cannot be read, is not PEM, holds no certificate, or holds
/// one that is not valid X.509 or not usable as a trust anchor.
pub(crate) fn load_ca_pem(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let certs = read_certs(path)?;
    for (i, der) in certs.iter().enumerate() {
        let n = i + 1;
        check_x509(der).map_err(|e| format!("{}: certificate {n}: {e}", path.display()))?;
        RootCertStore::empty()
            .add(CertificateDer::from(der.as_slice()))
            .map_err(|e| {
                format!(
                    "{}: certificate {n} is not usable as a CA: {e}",
                    path.display()
                )
            })?;
    }
    Ok(certs)
}

/// Check a listener's certificate chain and private key as the TLS listener loads them at
/// start (the same PEM reading and the same rustls `with_single_cert`, which also checks that
/// the key belongs to the certificate). Errors are pushed as `{path}.certFile: ...` /
/// `{path}.keyFile: ...`, where `path` is the `tls` block's key path.
pub(crate) fn check_listener_tls(
    cert_file: &Path,
    key_file: &Path,
    path: &str,
    errors: &mut Vec<String>,
) {
    let certs = read_certs(cert_file).and_then(|certs| {
        for (i, der) in certs.iter().enumerate() {
            check_x509(der)
                .map_err(|e| format!("{}: certificate {}: {e}", cert_file.display(), i + 1))?;
        }
        Ok(certs)
    });
    let certs = certs.map_err(|e| errors.push(format!("{path}.certFile: {e}")));
    let key = read_key(key_file).map_err(|e| errors.push(format!("{path}.keyFile: {e}")));
    let (Ok(certs), Ok(key)) = (certs, key) else {
        return;
    };
    // The provider Pingora installs for the listeners (ring).
    let _ =
        rustls::crypto::CryptoProvider::install_default(rustls::crypto::ring::default_provider());
    let chain = certs.into_iter().map(CertificateDer::from).collect();
    if let Err(e) =
        ServerConfig::builder_with_protocol_versions(&[&version::TLS12, &version::TLS13])
            .with_no_client_auth()
            .with_single_cert(chain, key)
    {
        let why = match e {
            RusTlsError::InconsistentKeys(_) => {
                "the key does not belong to the first certificate".to_owned()
            }
            other => other.to_string(),
        };
        errors.push(format!(
            "{path}.keyFile: {} cannot be used with certFile {}: {why}",
            key_file.display(),
            cert_file.display()
        ));
    }
}

/// Load a listener's certificate chain and key as rustls serves them, checking that the key
/// belongs to the first certificate. Used at start-up and whenever the files change.
pub(crate) fn load_certified_key(
    cert_file: &Path,
    key_file: &Path,
) -> Result<rustls::sign::CertifiedKey, String> {
    let certs = read_certs(cert_file)?;
    for (i, der) in certs.iter().enumerate() {
        check_x509(der)
            .map_err(|e| format!("{}: certificate {}: {e}", cert_file.display(), i + 1))?;
    }
    let key = read_key(key_file)?;
    let chain = certs.into_iter().map(CertificateDer::from).collect();
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
        RusTlsError::InconsistentKeys(_) => format!(
            "{} does not belong to the first certificate of {}",
            key_file.display(),
            cert_file.display()
        ),
        other => format!("{}: {other}", key_file.display()),
    })
}

/// Every PEM item of a file; any malformed section is an error (as when the listener loads it).
fn read_items(path: &Path) -> Result<Vec<Item>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    rustls_pemfile::read_all(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a valid PEM file: {e}", path.display()))
}

/// The DER of every `CERTIFICATE` block, in file order; at least one.
fn read_certs(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let certs: Vec<Vec<u8>> = read_items(path)?
        .into_iter()
        .filter_map(|item| match item {
            Item::X509Certificate(der) => Some(der.to_vec()),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate found", path.display()));
    }
    Ok(certs)
}

/// The first PKCS#1, PKCS#8 or SEC1 private key of a file (the kinds the listener accepts).
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    read_items(path)?
        .into_iter()
        .find_map(|item| match item {
            Item::Pkcs1Key(k) => Some(PrivateKeyDer::from(k)),
            Item::Pkcs8Key(k) => Some(PrivateKeyDer::from(k)),
            Item::Sec1Key(k) => Some(PrivateKeyDer::from(k)),
            _ => None,
        })
        .ok_or_else(|| {
            format!(
                "{}: no PEM private key (PKCS#1, PKCS#8 or SEC1) found",
                path.display()
            )
        })
}

/// Whether DER bytes are one X.509 certificate, as the upstream connector parses it (Pingora's
/// `parse_x509` panics on what fails here).
fn check_x509(der: &[u8]) -> Result<(), String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("not a valid X.509 certificate: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/config/testdata")
            .join(name)
    }

    /// A file under the temp dir with `text`, unique to this process and test.
    fn temp(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("basalt-tls-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn ca_bundle_yields_der_in_file_order() {
        let one = std::fs::read_to_string(fixture("cert.pem")).unwrap();
        let two = temp("two.pem", &format!("{one}{one}"));
        let certs = load_ca_pem(&two).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0], certs[1]);
        assert_eq!(certs[0][0], 0x30, "DER SEQUENCE");
    }

    #[test]
    fn bad_ca_files_are_errors() {
        let missing = load_ca_pem(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            missing.starts_with("cannot read /nonexistent/ca.pem"),
            "{missing}"
        );
        let empty = load_ca_pem(&temp("empty.pem", "hello\n")).unwrap_err();
        assert!(empty.ends_with("no PEM certificate found"), "{empty}");
        let junk = temp(
            "junk.pem",
            "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
        );
        let e = load_ca_pem(&junk).unwrap_err();
        assert!(
            e.contains("certificate 1: not a valid X.509 certificate"),
            "{e}"
        );
        let key_only = load_ca_pem(&fixture("key.pem")).unwrap_err();
        assert!(key_only.ends_with("no PEM certificate found"), "{key_only}");
    }

    #[test]
    fn certified_key_loads_a_matching_pair_only() {
        let (cert, key) = (fixture("cert.pem"), fixture("key.pem"));
        let ck = load_certified_key(&cert, &key).unwrap();
        assert_eq!(ck.cert.len(), 1);
        let e = load_certified_key(&cert, &fixture("other-key.pem")).unwrap_err();
        assert!(
            e.contains("does not belong to the first certificate"),
            "{e}"
        );
        let e = load_certified_key(&key, &key).unwrap_err();
        assert!(e.ends_with("no PEM certificate found"), "{e}");
    }

    #[test]
    fn listener_pair_must_load_and_match() {
        let (cert, key) = (fixture("cert.pem"), fixture("key.pem"));
        let mut errors = Vec::new();
        check_listener_tls(&cert, &key, "listeners[0].tls", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");

        check_listener_tls(&cert, &fixture("other-key.pem"), "l.tls", &mut errors);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("l.tls.keyFile: "), "{errors:?}");
        assert!(
            errors[0].contains("cannot be used with certFile"),
            "{errors:?}"
        );

        errors.clear();
        check_listener_tls(&key, &cert, "l.tls", &mut errors);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("l.tls.certFile: ")
                && errors[0].ends_with("no PEM certificate found")
        );
        assert!(
            errors[1].starts_with("l.tls.keyFile: ") && errors[1].contains("no PEM private key")
        );
    }
}
