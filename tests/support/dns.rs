//! A DNS server on loopback for the tests (UDP and TCP on one port),
//! answering HTTPS queries from a fixed zone and counting queries per name.
//!
//! Zone (all under `.test`, HTTPS queries only; `_N._https.NAME` is
//! answered as NAME for every port N of 10000 and up, where test servers
//! listen):
//! - `alias.test`: `HTTPS 0 cdn.test.` (AliasMode), TTL 60
//! - `svc.test`: `HTTPS 1 . mandatory=alpn alpn=h2`, TTL 300
//! - `weird.test`: `HTTPS 1 . mandatory=key65000 key65000`, TTL 300
//! - `h3only.test`: `HTTPS 1 . alpn=h3 no-default-alpn`, TTL 300
//! - `_8080._https.port.test`: `HTTPS 1 .`, TTL 300; `port.test`: no record
//! - `none.test`: NOERROR without an answer, SOA with negative TTL 30
//! - `nx.test`: NXDOMAIN, SOA with negative TTL 30
//! - `fail.test`: SERVFAIL
//! - `slow.test`: never answered
//! - `delayed.test`: as `alias.test`, 100 ms late (the server answers
//!   nothing else meanwhile)
//! - `later.test`: the same, 250 ms late (under hickory's 333 ms floor
//!   for sending a UDP query again)
//! - `big.test`: truncated over UDP; 20 ServiceMode records over TCP
//! - any other name: NXDOMAIN

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::svcb::{Alpn, Mandatory, SvcParamKey, SvcParamValue, Unknown, SVCB};
use hickory_proto::rr::rdata::{HTTPS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hsts::clock::FixedClock;
use hsts::dns::{HttpsRecords, HttpsRrConfig};

// ---------------------------------------------------------------- server

/// Queries by name and transport (`true`: TCP).
type Counts = Arc<Mutex<HashMap<(String, bool), usize>>>;

pub struct DnsServer {
    pub addr: SocketAddr,
    counts: Counts,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl DnsServer {
    pub fn start() -> DnsServer {
        // UDP and TCP on the same port number.
        let (udp, tcp) = (0..20)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let tcp = TcpListener::bind(udp.local_addr().ok()?).ok()?;
                Some((udp, tcp))
            })
            .expect("a loopback port for UDP and TCP");
        let addr = udp.local_addr().unwrap();
        let counts: Counts = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        let udp_thread = {
            let (counts, stop) = (counts.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                        continue;
                    };
                    if let Some(reply) = handle(&buf[..n], false, &counts) {
                        let _ = udp.send_to(&reply, peer);
                    }
                }
            })
        };
        let tcp_thread = {
            let (counts, stop) = (counts.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match tcp.accept() {
                        Ok((conn, _)) => {
                            let counts = counts.clone();
                            std::thread::spawn(move || serve_tcp(conn, &counts));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        DnsServer {
            addr,
            counts,
            stop,
            threads: vec![udp_thread, tcp_thread],
        }
    }

    /// Queries received for `name` (over UDP and TCP).
    pub fn count(&self, name: &str) -> usize {
        self.count_udp(name) + self.count_over(name, true)
    }

    /// Queries received for `name` over UDP: a resolver's first try, not
    /// its retry over TCP.
    pub fn count_udp(&self, name: &str) -> usize {
        self.count_over(name, false)
    }

    fn count_over(&self, name: &str, tcp: bool) -> usize {
        let key = (name.to_owned(), tcp);
        self.counts.lock().unwrap().get(&key).copied().unwrap_or(0)
    }

    pub fn total(&self) -> usize {
        self.counts.lock().unwrap().values().sum()
    }

    pub fn records(&self, clock: Option<Arc<FixedClock>>) -> HttpsRecords {
        let mut config = HttpsRrConfig::default_with_addr(self.addr);
        config.timeout = Duration::from_millis(300);
        if let Some(c) = clock {
            config.clock = c;
        }
        HttpsRecords::new(config).unwrap()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn serve_tcp(mut conn: TcpStream, counts: &Counts) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    loop {
        let mut len = [0u8; 2];
        if conn.read_exact(&mut len).is_err() {
            return;
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if conn.read_exact(&mut msg).is_err() {
            return;
        }
        if let Some(reply) = handle(&msg, true, counts) {
            let len = u16::try_from(reply.len()).unwrap().to_be_bytes();
            if conn
                .write_all(&len)
                .and_then(|_| conn.write_all(&reply))
                .is_err()
            {
                return;
            }
        }
    }
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn https(
    owner: &str,
    ttl: u32,
    priority: u16,
    target: &str,
    params: Vec<(SvcParamKey, SvcParamValue)>,
) -> Record {
    Record::from_rdata(
        name(owner),
        ttl,
        RData::HTTPS(HTTPS(SVCB::new(priority, name(target), params))),
    )
}

fn soa() -> Record {
    Record::from_rdata(
        name("test."),
        30,
        RData::SOA(SOA::new(
            name("ns.test."),
            name("admin.test."),
            1,
            3600,
            600,
            86400,
            30,
        )),
    )
}

fn alpn(ids: &[&str]) -> (SvcParamKey, SvcParamValue) {
    (
        SvcParamKey::Alpn,
        SvcParamValue::Alpn(Alpn(ids.iter().map(|s| (*s).to_owned()).collect())),
    )
}

fn mandatory(keys: &[SvcParamKey]) -> (SvcParamKey, SvcParamValue) {
    (
        SvcParamKey::Mandatory,
        SvcParamValue::Mandatory(Mandatory(keys.to_vec())),
    )
}

/// The reply to one query, or `None` to stay silent.
fn handle(bytes: &[u8], tcp: bool, counts: &Counts) -> Option<Vec<u8>> {
    let query = Message::from_vec(bytes).ok()?;
    let q = query.queries.first()?.clone();
    let qname = q
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    *counts
        .lock()
        .unwrap()
        .entry((qname.clone(), tcp))
        .or_default() += 1;
    let owner = format!("{qname}.");
    // A name prefixed with an ephemeral port (10000 and up, where test
    // servers listen) is answered as the bare name: one zone for servers on
    // any loopback port. Lower ports keep their own names (port.test).
    let ephemeral = |p: &str| p.parse::<u16>().is_ok_and(|p| p >= 10_000);
    let qname = match qname.split_once("._https.") {
        Some((port, base)) if port.strip_prefix('_').is_some_and(ephemeral) => base.to_owned(),
        _ => qname,
    };

    let mut reply = Message::response(query.metadata.id, OpCode::Query);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.authoritative = true;
    reply.add_query(q.clone());
    let mut code = ResponseCode::NoError;
    if q.query_type() == RecordType::HTTPS {
        match qname.as_str() {
            "alias.test" => {
                reply.add_answer(https(&owner, 60, 0, "cdn.test.", vec![]));
            }
            "delayed.test" | "later.test" => {
                let late = if qname == "later.test" { 250 } else { 100 };
                std::thread::sleep(Duration::from_millis(late));
                reply.add_answer(https(&owner, 60, 0, "cdn.test.", vec![]));
            }
            "svc.test" => {
                reply.add_answer(https(
                    &owner,
                    300,
                    1,
                    ".",
                    vec![mandatory(&[SvcParamKey::Alpn]), alpn(&["h2"])],
                ));
            }
            "weird.test" => {
                reply.add_answer(https(
                    &owner,
                    300,
                    1,
                    ".",
                    vec![
                        mandatory(&[SvcParamKey::Unknown(65000)]),
                        (
                            SvcParamKey::Unknown(65000),
                            SvcParamValue::Unknown(Unknown(vec![])),
                        ),
                    ],
                ));
            }
            "h3only.test" => {
                reply.add_answer(https(
                    &owner,
                    300,
                    1,
                    ".",
                    vec![
                        alpn(&["h3"]),
                        (SvcParamKey::NoDefaultAlpn, SvcParamValue::NoDefaultAlpn),
                    ],
                ));
            }
            "_8080._https.port.test" => {
                reply.add_answer(https(&owner, 300, 1, ".", vec![]));
            }
            "port.test" | "none.test" => {
                reply.add_authority(soa());
            }
            "nx.test" => {
                code = ResponseCode::NXDomain;
                reply.add_authority(soa());
            }
            "fail.test" => code = ResponseCode::ServFail,
            "slow.test" => return None,
            "big.test" if !tcp => reply.metadata.truncation = true,
            "big.test" => {
                for p in 1..=20 {
                    let ids: Vec<String> = (0..10).map(|i| format!("proto-{p}-{i}")).collect();
                    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    let mut params = vec![alpn(&ids)];
                    if p == 20 {
                        params = vec![alpn(&["h2"])];
                    }
                    params.push((SvcParamKey::NoDefaultAlpn, SvcParamValue::NoDefaultAlpn));
                    reply.add_answer(https(&owner, 300, p, "big-target.test.", params));
                }
            }
            _ => {
                code = ResponseCode::NXDomain;
                reply.add_authority(soa());
            }
        }
    }
    reply.metadata.response_code = code;
    reply.to_vec().ok()
}
