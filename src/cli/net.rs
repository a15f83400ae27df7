//! What `hsts get` and `hsts audit` share: `--resolve`, `--connect-to`,
//! `--cacert`, and the text of an error chain.

use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use super::CliError;

/// The largest `--cacert` file read.
const MAX_CACERT_LEN: u64 = 4 << 20;

/// One `--resolve` entry.
#[derive(Debug, Clone)]
pub(crate) struct Resolve {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) addr: IpAddr,
}

/// A host name of the command line, canonical; `None` when it is not a
/// domain name.
fn domain(host: &str) -> Option<String> {
    match hsts::host::canonicalize(host) {
        Ok(hsts::Host::Domain(d)) => Some(d.into_string()),
        _ => None,
    }
}

/// `HOST:PORT:ADDR`, as curl takes it.
pub(crate) fn parse_resolve(s: &str) -> Result<Resolve, CliError> {
    let bad = |why: &str| CliError::Usage(format!("--resolve {s:?}: {why} (HOST:PORT:ADDR)"));
    let (host, rest) = s.split_once(':').ok_or_else(|| bad("no port"))?;
    let (port, addr) = rest.split_once(':').ok_or_else(|| bad("no address"))?;
    let port: u16 = port.parse().map_err(|_| bad("bad port"))?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let addr: IpAddr = addr.parse().map_err(|_| bad("bad address"))?;
    let host = domain(host).ok_or_else(|| bad("bad host name"))?;
    Ok(Resolve { host, port, addr })
}

/// One `--connect-to` entry: requests for HOST:PORT connect to
/// HOST2:PORT2 instead. An empty field matches any host or port, or keeps
/// it, as in curl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectTo {
    host: Option<String>,
    port: Option<u16>,
    to_host: Option<String>,
    to_port: Option<u16>,
}

/// `HOST:PORT:HOST2:PORT2`, as curl takes it (`[::1]` for an IPv6 HOST2).
pub(crate) fn parse_connect_to(s: &str) -> Result<ConnectTo, CliError> {
    let bad = |why: &str| {
        CliError::Usage(format!(
            "--connect-to {s:?}: {why} (HOST:PORT:HOST2:PORT2, each may be empty)"
        ))
    };
    let port = |p: &str| -> Result<Option<u16>, CliError> {
        if p.is_empty() {
            Ok(None)
        } else {
            p.parse().map(Some).map_err(|_| bad("bad port"))
        }
    };
    let (host, rest) = s.split_once(':').ok_or_else(|| bad("too few fields"))?;
    let (port1, rest) = rest.split_once(':').ok_or_else(|| bad("too few fields"))?;
    let (host2, port2) = if let Some(v6) = rest.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(|| bad("no closing ]"))?;
        let p = after
            .strip_prefix(':')
            .ok_or_else(|| bad("too few fields"))?;
        addr.parse::<IpAddr>().map_err(|_| bad("bad address"))?;
        (addr.to_owned(), p)
    } else {
        let (h, p) = rest.split_once(':').ok_or_else(|| bad("too few fields"))?;
        if p.contains(':') {
            return Err(bad("too many fields (an IPv6 address goes in [ ])"));
        }
        (h.to_owned(), p)
    };
    let host = match host {
        "" => None,
        h => Some(domain(h).ok_or_else(|| bad("bad host name"))?),
    };
    let to_host = match host2.as_str() {
        "" => None,
        h if h.parse::<IpAddr>().is_ok() => Some(h.to_owned()),
        h => Some(domain(h).ok_or_else(|| bad("bad host name"))?),
    };
    Ok(ConnectTo {
        host,
        port: port(port1)?,
        to_host,
        to_port: port(port2)?,
    })
}

/// How long a name look-up made here may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Looks `host` up with the system's resolver, within [`LOOKUP_TIMEOUT`].
pub(crate) fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_owned();
    std::thread::spawn(move || {
        let r = (name.as_str(), port)
            .to_socket_addrs()
            .map(|a| a.collect::<Vec<_>>());
        let _ = tx.send(r);
    });
    match rx.recv_timeout(LOOKUP_TIMEOUT) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(format!("{host}: no address")),
        Ok(Err(e)) => Err(format!("{host}: {e}")),
        Err(_) => Err(format!(
            "{host}: the look-up took longer than {} s",
            LOOKUP_TIMEOUT.as_secs()
        )),
    }
}

/// `--resolve` and `--connect-to` together: where a request for a host and
/// port really goes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    pub(crate) resolves: Vec<Resolve>,
    pub(crate) connect_to: Vec<ConnectTo>,
}

impl Routes {
    /// The addresses the command line sends `host:port` to, or `None` when
    /// it says nothing about them (the system's resolver decides). As in
    /// curl, the first matching `--connect-to` entry changes the host and
    /// port to connect to, and `--resolve` then applies to that host and
    /// port exactly.
    pub(crate) fn route(&self, host: &str, port: u16) -> Result<Option<Vec<SocketAddr>>, String> {
        let moved = self.connect_to.iter().find(|c| {
            c.host.as_deref().is_none_or(|h| h == host) && c.port.is_none_or(|p| p == port)
        });
        let (to_host, to_port) = match moved {
            Some(c) => (
                c.to_host.as_deref().unwrap_or(host),
                c.to_port.unwrap_or(port),
            ),
            None => (host, port),
        };
        if let Some(r) = self
            .resolves
            .iter()
            .find(|r| r.host == to_host && r.port == to_port)
        {
            return Ok(Some(vec![SocketAddr::new(r.addr, to_port)]));
        }
        if moved.is_none() {
            return Ok(None);
        }
        let bare = to_host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Some(vec![SocketAddr::new(ip, to_port)]));
        }
        lookup(to_host, to_port).map(Some)
    }
}

/// The roots the strict verifier trusts: the PEM file's, or `None` for
/// Mozilla's.
pub(crate) fn roots(cacert: Option<&Path>) -> Result<Option<rustls::RootCertStore>, CliError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let Some(path) = cacert else {
        return Ok(None);
    };
    let fail = |e: String| CliError::Failed(format!("--cacert {}: {e}", path.display()));
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut pem = Vec::new();
    file.take(MAX_CACERT_LEN + 1)
        .read_to_end(&mut pem)
        .map_err(|e| fail(e.to_string()))?;
    if pem.len() as u64 > MAX_CACERT_LEN {
        return Err(fail(format!("larger than {MAX_CACERT_LEN} bytes")));
    }
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| fail(format!("not a PEM certificate file: {e}")))?;
        store
            .add(cert)
            .map_err(|e| fail(format!("unusable certificate: {e}")))?;
    }
    if store.is_empty() {
        return Err(fail("no certificate in the file".into()));
    }
    Ok(Some(store))
}

/// An error and its causes, joined.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_entries() {
        let r = parse_resolve("Secure.Test:443:127.0.0.1").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("secure.test", 443));
        assert!(parse_resolve("a.test:443:[::1]").is_ok());
        for bad in [
            "a.test",
            "a.test:x:127.0.0.1",
            "a.test:443:nope",
            ":443:127.0.0.1",
        ] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn connect_to_entries() {
        let c = parse_connect_to("A.test:443:127.0.0.1:8443").unwrap();
        assert_eq!(c.host.as_deref(), Some("a.test"));
        assert_eq!((c.port, c.to_port), (Some(443), Some(8443)));
        assert_eq!(c.to_host.as_deref(), Some("127.0.0.1"));
        let c = parse_connect_to("::[::1]:").unwrap();
        assert_eq!((c.host, c.port, c.to_port), (None, None, None));
        assert_eq!(c.to_host.as_deref(), Some("::1"));
        for bad in [
            "a.test:443",
            "a.test:443:b",
            "a.test:x:b:1",
            "a:1:::1:2",
            "a:1:[::1]",
        ] {
            assert!(parse_connect_to(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes_as_curl() {
        let routes = Routes {
            resolves: vec![parse_resolve("b.test:8443:127.0.0.2").unwrap()],
            connect_to: vec![
                parse_connect_to("a.test:443:127.0.0.1:9000").unwrap(),
                parse_connect_to("a.test:80:b.test:8443").unwrap(),
            ],
        };
        let at = |ip: [u8; 4], port| Some(vec![SocketAddr::from((ip, port))]);
        assert_eq!(
            routes.route("a.test", 443).unwrap(),
            at([127, 0, 0, 1], 9000)
        );
        assert_eq!(
            routes.route("a.test", 80).unwrap(),
            at([127, 0, 0, 2], 8443)
        );
        assert_eq!(
            routes.route("b.test", 8443).unwrap(),
            at([127, 0, 0, 2], 8443)
        );
        assert_eq!(routes.route("b.test", 443).unwrap(), None);
        assert_eq!(routes.route("c.test", 443).unwrap(), None);
    }
}
