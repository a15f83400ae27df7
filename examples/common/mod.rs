//! What the three client examples share: a loopback server and the store
//! file.
//!
//! The server speaks HTTPS (rustls, a self-signed rcgen certificate for
//! [`NAME`]) and plain HTTP on one port, told apart by the first byte of
//! each connection, and counts the requests that arrive each way. Over
//! https it answers with `Strict-Transport-Security: max-age=600`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hsts::{SaveOptions, SharedHstsStore, StoreConfig};

/// The server's name; each example's client resolves it to 127.0.0.1.
pub const NAME: &str = "hsts-example.test";

pub struct Loopback {
    pub port: u16,
    cert: rustls::pki_types::CertificateDer<'static>,
    plain: Arc<AtomicUsize>,
    tls: Arc<AtomicUsize>,
}

impl Loopback {
    /// Starts the server on an ephemeral port; it runs until the process ends.
    pub fn start() -> Result<Loopback, Box<dyn std::error::Error>> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = rcgen::generate_simple_self_signed(vec![NAME.to_owned()])?;
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(vec![cert.cert.der().clone()], key)?,
        );
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let server = Loopback {
            port: listener.local_addr()?.port(),
            cert: cert.cert.der().clone(),
            plain: Arc::default(),
            tls: Arc::default(),
        };
        let (plain, tls) = (server.plain.clone(), server.tls.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (config, plain, tls) = (config.clone(), plain.clone(), tls.clone());
                std::thread::spawn(move || serve(stream, config, &plain, &tls));
            }
        });
        Ok(server)
    }

    /// The roots a client needs to trust this server: its certificate.
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.clone()).expect("a valid certificate");
        roots
    }

    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{NAME}:{}{path}", self.port)
    }

    /// (plain http, https) requests received so far.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.plain.load(Ordering::SeqCst),
            self.tls.load(Ordering::SeqCst),
        )
    }
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    plain: &AtomicUsize,
    tls: &AtomicUsize,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut first = [0u8; 1];
    let _ = match stream.peek(&mut first) {
        Ok(1) if first[0] == 0x16 => match rustls::ServerConnection::new(config) {
            Ok(conn) => respond(
                &mut rustls::StreamOwned::new(conn, stream),
                tls,
                "Strict-Transport-Security: max-age=600\r\n",
            ),
            Err(e) => Err(std::io::Error::other(e)),
        },
        Ok(1) => respond(&mut { stream }, plain, ""),
        _ => Ok(()),
    };
}

/// Reads one request head and answers `200 ok`.
fn respond<S: Read + Write>(s: &mut S, counter: &AtomicUsize, extra: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *s);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    drop(reader);
    counter.fetch_add(1, Ordering::SeqCst);
    write!(
        s,
        "HTTP/1.1 200 OK\r\n{extra}Content-Length: 3\r\nConnection: close\r\n\r\nok\n"
    )?;
    s.flush()
}

/// The store file: the first argument, else one in the temporary
/// directory, named after the example (so a second run finds it).
pub fn store_path(example: &str) -> PathBuf {
    std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("hsts-{example}.bin")))
}

/// The shared store kept in `path` (an absent file is an empty store),
/// saved when the last handle is dropped; and whether it knows [`NAME`].
pub fn open_store(path: &Path) -> Result<(SharedHstsStore, bool), hsts::persist::PersistError> {
    let options = SaveOptions {
        every_changes: None,
        on_drop: true,
    };
    let store = SharedHstsStore::open(path, StoreConfig::default(), options)?;
    let known = store.lookup(NAME).ok().flatten().is_some();
    println!(
        "store {}: {NAME} {}",
        path.display(),
        if known {
            "is known from the file"
        } else {
            "is not known yet"
        }
    );
    Ok((store, known))
}

/// Prints one request's outcome.
pub fn show(asked: &str, sent: &str, server: &Loopback) {
    let how = if asked == sent {
        "as it was"
    } else {
        "upgraded"
    };
    let (plain, tls) = server.counts();
    println!("GET {asked} -> {sent} ({how}; server so far: {plain} plain, {tls} https)");
}

/// Prints what the store holds for [`NAME`]: the note taken from the
/// response's Strict-Transport-Security header.
pub fn show_note(store: &SharedHstsStore) {
    match store.lookup(NAME).ok().flatten() {
        Some(entry) => println!("noted {NAME}: {entry:?}"),
        None => println!("{NAME} is not noted"),
    }
}

/// What a run saw, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Whether the store file already knew the host.
    pub known_at_start: bool,
    /// (plain http, https) requests the server received.
    pub counts: (usize, usize),
    /// Whether the host is known at the end.
    pub known_at_end: bool,
}

/// Saves the store, prints how to see the upgrade from the file, and sums
/// up the run.
pub fn finish(
    store: &SharedHstsStore,
    path: &Path,
    server: &Loopback,
    known_at_start: bool,
) -> Result<Summary, Box<dyn std::error::Error>> {
    store.save()?;
    println!(
        "saved {}; run again and the first http request is upgraded from the file",
        path.display()
    );
    Ok(Summary {
        known_at_start,
        counts: server.counts(),
        known_at_end: store.lookup(NAME)?.is_some(),
    })
}
