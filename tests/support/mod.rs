//! A loopback test server speaking both HTTPS and plain HTTP on one port.
//!
//! The first byte of each connection decides: 0x16 (a TLS handshake) is
//! served over rustls with a self-signed certificate for the given names
//! (or one issued by a fresh test CA: `start_with_ca`),
//! anything else as plain HTTP. Separate counters record how many requests
//! arrived each way, so a test can prove that nothing went out in plain
//! text. Routes:
//! - `/sts/N`: 200 with `Strict-Transport-Security: max-age=N`
//! - `/to-http/REST`, `/to-https/REST`: 302 to `http(s)://HOST/REST` (same host and port)
//! - `/to-host/NAME/REST`: 302 to `https://NAME:PORT/REST` (another origin)
//! - `/redirect/CODE/REST`: a CODE (301, 302, 303, 307, 308) redirect to `/REST`
//! - `/echo`: 200 with body `METHOD auth|no-auth BODY` (whether an
//!   `Authorization` header came, and the request body)
//! - anything else: 200 `ok`
#![allow(dead_code)]

#[cfg(feature = "dns")]
pub mod dns;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct TestServer {
    pub port: u16,
    pub cert_der: Vec<u8>,
    /// The same certificate in PEM, for a `--cacert` file.
    pub cert_pem: String,
    plain: Arc<AtomicUsize>,
    tls: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

/// Stops the server at the end of the test: the accept loop ends, and each
/// connection thread ends with its connection (or its 5 s I/O timeout).
impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

impl TestServer {
    /// A server with a self-signed certificate for `names`; `cert_der` is
    /// that certificate (`cert_pem` in PEM).
    pub fn start(names: &[&str]) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = rcgen::generate_simple_self_signed(
            names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        Self::serve_with(vec![cert.cert.der().clone()], key, &cert.cert)
    }

    /// A server whose certificate for `names` is issued by a fresh test CA;
    /// `cert_der` is the CA's certificate, the root to trust.
    pub fn start_with_ca(names: &[&str]) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hsts test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        Self::serve_with(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            key,
            &ca_cert,
        )
    }

    fn serve_with(
        chain: Vec<rustls::pki_types::CertificateDer<'static>>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
        root: &rcgen::Certificate,
    ) -> TestServer {
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut server = TestServer {
            port,
            cert_der: root.der().to_vec(),
            cert_pem: root.pem(),
            plain: Arc::default(),
            tls: Arc::default(),
            log: Arc::default(),
            stop: Arc::default(),
            accept: None,
        };
        let (plain, tls, log) = (server.plain.clone(), server.tls.clone(), server.log.clone());
        let stop = server.stop.clone();
        server.accept = Some(std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let (config, plain, tls, log) =
                    (config.clone(), plain.clone(), tls.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, config, &plain, &tls, &log);
                });
            }
        }));
        server
    }

    /// Requests that arrived in plain text.
    pub fn plain_requests(&self) -> usize {
        self.plain.load(Ordering::SeqCst)
    }

    /// Requests that arrived over TLS.
    pub fn tls_requests(&self) -> usize {
        self.tls.load(Ordering::SeqCst)
    }

    /// "http /path" or "https /path" for each request, in order.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    plain: &AtomicUsize,
    tls: &AtomicUsize,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut first = [0u8; 1];
    if stream.peek(&mut first)? == 0 {
        return Ok(());
    }
    if first[0] == 0x16 {
        let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
        let mut s = rustls::StreamOwned::new(conn, stream);
        handle(&mut s, "https", tls, log)
    } else {
        let mut s = stream;
        handle(&mut s, "http", plain, log)
    }
}

fn handle<S: Read + Write>(
    s: &mut S,
    scheme: &str,
    counter: &AtomicUsize,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *s);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut host = String::new();
    let mut content_length = 0usize;
    let mut authorization = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("host:") {
            host = v.trim().to_owned();
        }
        if lower.starts_with("authorization:") {
            authorization = true;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0).min(1 << 20);
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    drop(reader);
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    counter.fetch_add(1, Ordering::SeqCst);
    log.lock().unwrap().push(format!("{scheme} {path}"));
    let method = request_line.split_whitespace().next().unwrap_or("");
    let mut answer = "ok".to_owned();
    let (status, extra) = if let Some(age) = path.strip_prefix("/sts/") {
        (
            "200 OK",
            format!("Strict-Transport-Security: max-age={age}\r\n"),
        )
    } else if let Some(rest) = path.strip_prefix("/to-http/") {
        ("302 Found", format!("Location: http://{host}/{rest}\r\n"))
    } else if let Some(rest) = path.strip_prefix("/to-https/") {
        ("302 Found", format!("Location: https://{host}/{rest}\r\n"))
    } else if let Some((name, rest)) = path
        .strip_prefix("/to-host/")
        .and_then(|r| r.split_once('/'))
    {
        let port = host.rsplit_once(':').map_or("", |(_, p)| p);
        (
            "302 Found",
            format!("Location: https://{name}:{port}/{rest}\r\n"),
        )
    } else if let Some((code, rest)) = path
        .strip_prefix("/redirect/")
        .and_then(|r| r.split_once('/'))
    {
        let status = match code {
            "301" => "301 Moved Permanently",
            "302" => "302 Found",
            "303" => "303 See Other",
            "307" => "307 Temporary Redirect",
            _ => "308 Permanent Redirect",
        };
        (status, format!("Location: /{rest}\r\n"))
    } else {
        if path == "/echo" {
            let auth = if authorization { "auth" } else { "no-auth" };
            answer = format!("{method} {auth} {}", String::from_utf8_lossy(&body));
        }
        ("200 OK", String::new())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    s.write_all(response.as_bytes())?;
    s.flush()
}

/// A ureq resolver that sends every name to 127.0.0.1, keeping the URL's port.
#[cfg(feature = "ureq")]
#[derive(Debug)]
pub struct Loopback;

#[cfg(feature = "ureq")]
impl ureq::unversioned::resolver::Resolver for Loopback {
    fn resolve(
        &self,
        uri: &http::Uri,
        _: &ureq::config::Config,
        _: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let mut v = self.empty();
        v.push(std::net::SocketAddr::from((
            std::net::Ipv4Addr::LOCALHOST,
            port,
        )));
        Ok(v)
    }
}

/// A ureq agent that trusts the server's certificate, resolves to loopback
/// and follows no redirects itself.
#[cfg(feature = "ureq")]
pub fn ureq_agent(
    server: &TestServer,
    middleware: Option<impl ureq::middleware::Middleware>,
) -> ureq::Agent {
    let cert = ureq::tls::Certificate::from_der(&server.cert_der).to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::from(vec![cert]))
        .build();
    let mut config = ureq::Agent::config_builder()
        .tls_config(tls)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)));
    if let Some(m) = middleware {
        config = config.middleware(m);
    }
    ureq::Agent::with_parts(
        config.build(),
        ureq::unversioned::transport::DefaultConnector::new(),
        Loopback,
    )
}
