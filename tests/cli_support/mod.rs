//! Running the `hsts` binary from the integration tests that drive it.
#![allow(dead_code)] // each test crate uses its own part

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use hsts::{PreloadSource, StoreConfig};

/// The binary under test.
pub const HSTS: &str = env!("CARGO_BIN_EXE_hsts");

/// The default settings without the preload list, so that only what a test
/// notes makes a host HSTS.
pub fn no_preload() -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        ..StoreConfig::default()
    }
}

/// How long a child may run before it is killed and the test fails: a
/// guard against a hang, not an assertion on speed.
const GUARD: Duration = Duration::from_secs(60);

/// Runs `cmd`, feeding it `stdin` and collecting its output on threads (so
/// that neither side can block on a full pipe), and kills it if it has not
/// finished within the guard.
pub fn run(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hsts binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    // A command that does not read stdin may exit first: ignore EPIPE.
    let writer = thread::spawn(move || drop(input.write_all(&data)));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = thread::spawn(move || read_all(&mut stdout));
    let err = thread::spawn(move || read_all(&mut stderr));
    let status = wait_guarded(&mut child, &cmd);
    writer.join().expect("the writer thread");
    Output {
        status,
        stdout: out.join().expect("the stdout reader"),
        stderr: err.join().expect("the stderr reader"),
    }
}

fn read_all(r: &mut impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = r.read_to_end(&mut v);
    v
}

fn wait_guarded(child: &mut std::process::Child, cmd: &Command) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            return status;
        }
        if start.elapsed() > GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {GUARD:?} and was killed");
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// `hsts --no-preload ARGS`, fed `stdin`.
pub fn hsts(args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(HSTS);
    cmd.arg("--no-preload").args(args);
    run(cmd, stdin)
}

/// The fixed clock of the store-file suites, as `--now` takes it.
pub const NOW: &str = "2026-11-01T00:00:00Z";

/// `hsts --no-preload --now NOW --store STORE ARGS`, with no stdin.
pub fn hsts_on(store: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(HSTS);
    cmd.args(["--no-preload", "--now", NOW, "--store"])
        .arg(store)
        .args(args);
    run(cmd, b"")
}
