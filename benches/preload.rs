//! Preload table lookups: per-host cost by kind of host, and flatness from
//! 1k to 1M entries.
//!
//! cargo bench --bench preload -- --warm-up-time 1 --measurement-time 2

// The bench compiles tables, which needs the `compile` feature.
#[cfg(feature = "compile")]
mod bench {
    use std::hint::black_box;
    use std::time::Instant;

    use chrono::NaiveDate;
    use criterion::{BenchmarkId, Criterion};
    use hsts::preload::{compile_entries, PreloadList};

    fn names(list: &PreloadList) -> Vec<(String, bool)> {
        list.iter().collect()
    }

    /// A deterministic xorshift generator for synthetic names.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn label(&mut self, min: usize) -> String {
            let len = min + (self.next() % 10) as usize;
            (0..len)
                .map(|_| b"abcdefghijklmnopqrstuvwxyz"[(self.next() % 26) as usize] as char)
                .collect()
        }
    }

    /// The 100k-host workload of `../shared/bench/run.sh`, if present
    /// (`~/.cache/hsts-bench/workload/hosts.txt`); otherwise 100,000 hosts
    /// derived from the list: members, subdomains of members, and
    /// non-members that share a suffix, in a seeded shuffle.
    fn distinct_hosts(all: &[(String, bool)]) -> Vec<String> {
        if let Some(home) = std::env::var_os("HOME") {
            let path = std::path::Path::new(&home).join(".cache/hsts-bench/workload/hosts.txt");
            if let Ok(text) = std::fs::read_to_string(&path) {
                let hosts: Vec<String> = text
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
                if !hosts.is_empty() {
                    eprintln!("distinct hosts from {}", path.display());
                    return hosts;
                }
            }
        }
        eprintln!("no workload file: distinct hosts derived from the list");
        let mut rng = Rng(2026);
        let mut hosts: Vec<String> = (0..100_000)
            .map(|k| {
                let (name, _) = &all[(rng.next() % all.len() as u64) as usize];
                match k % 4 {
                    0 => name.clone(),
                    1 => format!("{}.{name}", rng.label(3)),
                    2 => format!("{}{k}.{name}", rng.label(2)),
                    _ => format!("{}{k}.{}", rng.label(4), TLDS[k % TLDS.len()]),
                }
            })
            .collect();
        for k in (1..hosts.len()).rev() {
            hosts.swap(k, (rng.next() % (k as u64 + 1)) as usize);
        }
        hosts
    }

    const TLDS: [&str; 6] = ["com", "org", "net", "de", "io", "nl"];

    fn synthetic(n: usize, seed: u64) -> Vec<(String, bool)> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|i| {
                let name = format!("{}{i}.{}", rng.label(4), TLDS[i % TLDS.len()]);
                (name, !rng.next().is_multiple_of(10))
            })
            .collect()
    }

    fn table(entries: Vec<(String, bool)>) -> PreloadList {
        let date = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let (bytes, _) = compile_entries(entries, date, [0; 32]).unwrap();
        PreloadList::from_bytes(bytes).unwrap()
    }

    pub(super) fn lookups(c: &mut Criterion) {
        // Start-up: the first answer from the built-in table (header check included).
        let t = Instant::now();
        let first = PreloadList::builtin().contains("github.com");
        eprintln!(
            "first answer from the built-in table after {:?} ({first})",
            t.elapsed()
        );

        // What a build.rs would add to every clean build: compiling the list.
        let gz = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/transport_security_state_static.json.gz"
        ))
        .unwrap();
        let t = Instant::now();
        let (bytes, _) =
            hsts::preload::compile_json(&gz, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()).unwrap();
        eprintln!(
            "compile_json of the real list: {:?}, {} bytes",
            t.elapsed(),
            bytes.len()
        );
        let t = Instant::now();
        PreloadList::builtin().verify().unwrap();
        eprintln!("verify() of the built-in table: {:?}", t.elapsed());

        let list = PreloadList::builtin();
        let all = names(list);
        let mut rng = Rng(42);
        let members: Vec<String> = all.iter().step_by(97).map(|(n, _)| n.clone()).collect();
        let subdomains: Vec<String> = all
            .iter()
            .filter(|(_, isd)| *isd)
            .step_by(97)
            .map(|(n, _)| format!("www.{n}"))
            .collect();
        let sharing_suffix: Vec<String> = all
            .iter()
            .step_by(97)
            .filter(|(n, _)| n.contains('.'))
            .map(|(n, _)| format!("x{n}"))
            .filter(|n| !list.contains(n))
            .collect();
        let random: Vec<String> = (0..1000)
            .map(|_| format!("{}.{}", rng.label(5), TLDS[(rng.next() % 6) as usize]))
            .filter(|n| !list.contains(n))
            .collect();
        let long: Vec<String> = (0..1000)
            .map(|_| {
                let labels: Vec<String> = (0..11).map(|_| rng.label(2)).collect();
                format!("{}.example.com", labels.join("."))
            })
            .collect();

        let mut g = c.benchmark_group("preload_lookup_94k");
        // One host again and again: the table's lines stay in L1, so this is
        // the pure compute cost.
        g.bench_function("same_member_repeated", |b| {
            b.iter(|| black_box(list.lookup(black_box("accounts.google.com")).is_some()))
        });
        for (kind, hosts) in [
            ("member", &members),
            ("subdomain_of_member", &subdomains),
            ("nonmember_sharing_suffix", &sharing_suffix),
            ("random_nonmember", &random),
            ("long_13_labels", &long),
        ] {
            let mut i = 0;
            g.bench_function(kind, |b| {
                b.iter(|| {
                    i = (i + 1) % hosts.len();
                    black_box(list.lookup(black_box(&hosts[i])).is_some())
                })
            });
        }
        g.finish();

        // Distinct hosts, each once per round: the cold-cache cost the CLI
        // sees on a stream. The workload of ../shared/bench (100,016 hosts,
        // half of them hits) when it has been generated, else as many hosts
        // made deterministically from the list itself.
        let hosts = distinct_hosts(&all);
        let hits = hosts.iter().filter(|h| list.contains(h)).count();
        eprintln!("distinct hosts: {} ({hits} hits)", hosts.len());
        let mut g = c.benchmark_group("preload_lookup_distinct");
        let mut i = 0;
        g.bench_function("hosts_100k", |b| {
            b.iter(|| {
                i += 1;
                if i == hosts.len() {
                    i = 0;
                }
                black_box(list.lookup(black_box(&hosts[i])).is_some())
            })
        });
        g.finish();

        // Flatness: the same kinds of query against 1k, 94.6k and 1M entries.
        let mut g = c.benchmark_group("preload_lookup_by_size");
        for n in [1_000usize, 94_600, 1_000_000] {
            let entries = synthetic(n, 7);
            let probes: Vec<String> = entries
                .iter()
                .step_by((n / 1000).max(1))
                .map(|(n, _)| n.clone())
                .collect();
            let t = table(entries);
            eprintln!("synthetic table of {n} entries: {} bytes", t.byte_size());
            let mut i = 0;
            g.bench_with_input(BenchmarkId::new("member", n), &t, |b, t| {
                b.iter(|| {
                    i = (i + 1) % probes.len();
                    black_box(t.contains(black_box(&probes[i])))
                })
            });
            // Non-members shaped like the members (letters, then a number that
            // is not in the table), so that they reach the buckets.
            let mut rng = Rng(99);
            let absent: Vec<String> = (0..1000)
                .map(|k| {
                    let name = format!("{}{}.{}", rng.label(4), n + k, TLDS[k % TLDS.len()]);
                    assert!(!t.contains(&name));
                    name
                })
                .collect();
            let mut j = 0;
            g.bench_with_input(BenchmarkId::new("nonmember", n), &t, |b, t| {
                b.iter(|| {
                    j = (j + 1) % absent.len();
                    black_box(t.contains(black_box(&absent[j])))
                })
            });
        }
        g.finish();
    }
}

#[cfg(feature = "compile")]
criterion::criterion_group!(benches, bench::lookups);
#[cfg(feature = "compile")]
criterion::criterion_main!(benches);

#[cfg(not(feature = "compile"))]
fn main() {}
