//! TLS with rustls (ring provider), verifying the server as libpq does for
//! each `sslmode`:
//!
//! | sslmode | certificate chain | host name |
//! |---|---|---|
//! | `allow`, `prefer`, `require` | checked only when root certificates are at hand: `sslrootcert` given, or `~/.postgresql/root.crt` exists (libpq's compatibility rule) | no |
//! | `verify-ca` | checked against `sslrootcert`, default `~/.postgresql/root.crt` (must exist) | no |
//! | `verify-full` | same, or the system's roots with `sslrootcert=system` | yes |
//!
//! Differences from libpq, on purpose: an `sslrootcert` file that was named
//! but does not exist is an error in every mode (libpq silently skips
//! verification unless `verify-*`); a server certificate that is itself one
//! of the root certificates (a self-signed server certificate used as its
//! own root) is trusted as is, since webpki would refuse it as a CA used as
//! an end entity. Host names are matched against subjectAltName only
//! (webpki has no fallback to the subject's common name).

use super::DbError;
use super::settings::{RootCert, Settings, SslMode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The TLS connector for these settings. Fails when the settings ask for
/// verification that cannot be set up (no root certificate file, ...).
pub(crate) fn connector(settings: &Settings) -> Result<MakeRustlsConnect, DbError> {
    let verifier = verifier(settings)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(settings, format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // PostgreSQL 17 checks the ALPN of direct TLS connections; older
    // servers ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(MakeRustlsConnect::new(config))
}

fn tls_error(settings: &Settings, message: String) -> DbError {
    DbError::Tls {
        target: settings.describe(),
        message,
    }
}

/// What the server's certificate is checked against.
pub(crate) fn verifier(settings: &Settings) -> Result<Verifier, DbError> {
    let provider = rustls::crypto::ring::default_provider();
    let verify_full = settings.ssl_mode == SslMode::VerifyFull;
    let verify = matches!(settings.ssl_mode, SslMode::VerifyCa | SslMode::VerifyFull);
    let roots = match &settings.ssl_root_cert {
        RootCert::System => Some(system_roots(settings)?),
        RootCert::File(path) => {
            if !path.exists() {
                return Err(tls_error(
                    settings,
                    format!(
                        "root certificate file \"{}\" does not exist",
                        path.display()
                    ),
                ));
            }
            Some(file_roots(settings, path)?)
        }
        RootCert::Default(Some(path)) if path.exists() => Some(file_roots(settings, path)?),
        RootCert::Default(path) if verify => {
            let message = match path {
                Some(path) => format!(
                    "root certificate file \"{}\" does not exist",
                    path.display()
                ),
                None => {
                    "no home folder to find the root certificate file ~/.postgresql/root.crt in"
                        .to_owned()
                }
            };
            return Err(tls_error(
                settings,
                format!(
                    "{message}; either provide the file (sslrootcert=PATH), use the system's trusted roots \
                     with sslrootcert=system, or change sslmode to disable server certificate verification"
                ),
            ));
        }
        RootCert::Default(_) => None,
    };
    Ok(Verifier {
        roots,
        check_name: verify_full,
        algorithms: provider.signature_verification_algorithms,
    })
}

fn file_roots(settings: &Settings, path: &Path) -> Result<Roots, DbError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        tls_error(
            settings,
            format!(
                "cannot read root certificate file \"{}\": {e}",
                path.display()
            ),
        )
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if certs.is_empty() {
        return Err(unreadable(&"it holds no PEM certificate"));
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store.add(cert.clone()).map_err(|e| unreadable(&e))?;
    }
    Ok(Roots {
        store,
        pinned: certs,
    })
}

fn system_roots(settings: &Settings) -> Result<Roots, DbError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(tls_error(
            settings,
            format!(
                "sslrootcert=system: no trusted root certificates found on this system{why}; \
                 install them (ca-certificates) or name a file with sslrootcert=PATH"
            ),
        ));
    }
    Ok(Roots {
        store,
        pinned: Vec::new(),
    })
}

#[derive(Debug)]
pub(crate) struct Roots {
    store: RootCertStore,
    /// The certificates of the root file, trusted as server certificates too.
    pinned: Vec<CertificateDer<'static>>,
}

/// Checks the chain when it has roots, the name when asked to, and always
/// the handshake signature (so the server holds the key of the certificate
/// it shows).
#[derive(Debug)]
pub(crate) struct Verifier {
    roots: Option<Roots>,
    check_name: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl Verifier {
    #[cfg(test)]
    pub(crate) fn checks_chain(&self) -> bool {
        self.roots.is_some()
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = ParsedCertificate::try_from(end_entity)?;
        let pinned = roots
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref());
        if !pinned {
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                &roots.store,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        if self.check_name {
            verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The rustls error behind a client error, if there is one.
fn rustls_error(error: &postgres::Error) -> Option<&rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = cause.source();
    }
    None
}

/// True when `error` is a failure of the TLS handshake itself (as opposed
/// to the server refusing the login), the case where libpq's `prefer`
/// retries without TLS.
pub(crate) fn is_handshake_failure(error: &postgres::Error) -> bool {
    error.as_db_error().is_none()
        && (rustls_error(error).is_some()
            || error
                .to_string()
                .starts_with("error performing TLS handshake"))
}

/// A sentence that tells what to do about a refused server certificate.
pub(crate) fn certificate_hint(settings: &Settings, error: &postgres::Error) -> Option<String> {
    use rustls::CertificateError as E;
    let rustls::Error::InvalidCertificate(problem) = rustls_error(error)? else {
        return None;
    };
    let roots = match &settings.ssl_root_cert {
        RootCert::File(path) | RootCert::Default(Some(path)) => {
            format!("the root certificates in \"{}\"", path.display())
        }
        RootCert::System | RootCert::Default(None) => {
            "the system's trusted root certificates".to_owned()
        }
    };
    Some(match problem {
        E::UnknownIssuer | E::BadSignature => {
            format!("the server's certificate is not signed by any of {roots}")
        }
        E::NotValidForName | E::NotValidForNameContext { .. } => "the server's certificate is not issued for this host \
             name: connect with a name it lists, or use sslmode=verify-ca to skip the host name check"
            .to_owned(),
        E::Expired | E::ExpiredContext { .. } => "the server's certificate has expired".to_owned(),
        E::NotValidYet | E::NotValidYetContext { .. } => "the server's certificate is not valid yet".to_owned(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::machine::Machine;
    use std::path::PathBuf;

    fn settings(url: &str, home: &Path) -> Settings {
        let home = home.to_owned();
        let env = move |name: &str| (name == "HOME").then(|| home.display().to_string());
        Settings::resolve_on(
            Some(url),
            &Machine {
                env: &env,
                account: &|| Some(("u".to_owned(), None)),
                socket_dir: &|_| PathBuf::from("/tmp"),
            },
        )
        .unwrap()
    }

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn no_roots_means_no_chain_check_except_for_verify_modes() {
        let home = tempfile::tempdir().unwrap();
        for mode in ["allow", "prefer", "require"] {
            let v = verifier(&settings(
                &format!("postgres://h/d?sslmode={mode}"),
                home.path(),
            ))
            .unwrap();
            assert!(!v.checks_chain(), "{mode}");
        }
        for mode in ["verify-ca", "verify-full"] {
            let err = verifier(&settings(
                &format!("postgres://h/d?sslmode={mode}"),
                home.path(),
            ))
            .unwrap_err();
            let text = err.to_string();
            assert!(text.contains("root.crt\" does not exist"), "{text}");
            assert!(text.contains("sslrootcert=system"), "{text}");
            assert!(err.is_configuration());
        }
    }

    #[test]
    fn default_root_file_turns_on_chain_checks() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".postgresql")).unwrap();
        std::fs::write(home.path().join(".postgresql/root.crt"), ca_pem()).unwrap();
        for mode in ["prefer", "require", "verify-ca", "verify-full"] {
            let v = verifier(&settings(
                &format!("postgres://h/d?sslmode={mode}"),
                home.path(),
            ))
            .unwrap();
            assert!(v.checks_chain(), "{mode}");
            assert_eq!(v.check_name, mode == "verify-full");
        }
    }

    #[test]
    fn named_root_file_must_exist_and_hold_certificates() {
        let home = tempfile::tempdir().unwrap();
        let missing = home.path().join("missing.pem");
        let url = format!(
            "postgres://h/d?sslmode=require&sslrootcert={}",
            missing.display()
        );
        let err = verifier(&settings(&url, home.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.pem\" does not exist"), "{err}");
        let empty = home.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let url = format!(
            "postgres://h/d?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        );
        let err = verifier(&settings(&url, home.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");
        let good = home.path().join("ca.pem");
        std::fs::write(&good, ca_pem()).unwrap();
        let url = format!(
            "postgres://h/d?sslmode=require&sslrootcert={}",
            good.display()
        );
        assert!(
            verifier(&settings(&url, home.path()))
                .unwrap()
                .checks_chain()
        );
    }

    #[test]
    fn connector_builds_with_ring() {
        let home = tempfile::tempdir().unwrap();
        connector(&settings("postgres://h/d?sslmode=require", home.path())).unwrap();
    }
}
