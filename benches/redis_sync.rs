//! Issue #15: the cost of fleet sync where it matters. A lookup never
//! waits on Redis, so its cost with a sync attached (a round every 100 ms
//! on a background thread, against a real redis-server on loopback) should
//! be the same as without. Also: one push and one pull of 100k changes.
//! Needs `redis-server` on PATH (skipped with a message otherwise).
//!
//! `cargo bench --bench redis_sync --features redis -- --warm-up-time 1 --measurement-time 3`

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use hsts::redis_sync::RedisSync;
use hsts::{Entry, HstsStore, PreloadSource, SharedHstsStore, StoreConfig};
use url::Url;

struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server() -> Option<Server> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--bind", "127.0.0.1", "--daemonize", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let s = Server(child, port);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(10) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(s)
}

fn store(n: usize) -> HstsStore {
    let mut s = HstsStore::with_config(StoreConfig {
        preload: PreloadSource::Off,
        capacity: 200_000,
        ..StoreConfig::default()
    });
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for i in 0..n {
        s.insert_entry(Entry {
            host: format!("h{i}.s{}.example", i % 5000),
            include_subdomains: i % 2 == 0,
            observed: t,
            expires: t + chrono::Duration::days(365),
        })
        .unwrap();
    }
    s
}

fn bench(c: &mut Criterion) {
    let Some(srv) = server() else {
        eprintln!("redis-server is not available: skipped");
        return;
    };
    let url = format!("redis://127.0.0.1:{}/", srv.1);
    // One push and one pull of 100k changes, timed once each.
    let mut a = store(100_000);
    let mut sync_a = RedisSync::new(&url).unwrap();
    let t = Instant::now();
    let r = sync_a.sync(&mut a).unwrap();
    println!("push of {} changes: {:?}", r.pushed, t.elapsed());
    let mut b = store(0);
    let mut sync_b = RedisSync::new(&url).unwrap();
    let t = Instant::now();
    let r = sync_b.sync(&mut b).unwrap();
    println!(
        "pull of {} changes by a new worker: {:?}",
        r.pulled,
        t.elapsed()
    );

    let shared = SharedHstsStore::new(store(10_000));
    let urls: Vec<Url> = (0..1000)
        .map(|i| Url::parse(&format!("http://x.h{i}.s{}.example/", i % 5000)).unwrap())
        .collect();
    let mut g = c.benchmark_group("lookup_with_sync");
    let mut i = 0;
    g.bench_function("without_sync", |bch| {
        bch.iter(|| {
            i = (i + 1) % urls.len();
            shared.upgrade(&urls[i]).is_upgraded()
        })
    });
    let handle = shared.attach_sync(RedisSync::new(&url).unwrap(), Duration::from_millis(100));
    g.bench_function("sync_attached_100ms", |bch| {
        bch.iter(|| {
            i = (i + 1) % urls.len();
            shared.upgrade(&urls[i]).is_upgraded()
        })
    });
    println!("sync rounds while measuring: {}", handle.rounds());
    drop(handle);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
