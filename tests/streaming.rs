//! Issue #13: the CLI is a streaming filter. With `--line-buffered` each
//! answer is written as soon as its input line has been read, before the
//! next line exists (`(echo a.com; sleep 2; echo b.com) | hsts check -`);
//! memory does not grow with the input (measured by ../shared/bench).

mod cli_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Starts `hsts --no-preload ARGS` with piped stdin and stdout, writes the
/// first line, and returns the first output line if it arrives within the
/// wait, while stdin is still open; then writes the second line and
/// returns everything printed.
fn first_answer_before_second_line(
    args: &[&str],
    first: &str,
    second: &str,
) -> (Option<String>, String) {
    let mut child = Command::new(cli_support::HSTS)
        .arg("--no-preload")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(l)) = lines.next() {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    writeln!(stdin, "{first}").unwrap();
    stdin.flush().unwrap();
    let early = rx.recv_timeout(Duration::from_secs(10)).ok();
    writeln!(stdin, "{second}").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success());
    let rest: Vec<String> = rx.try_iter().collect();
    (early, rest.join("\n"))
}

#[test]
fn line_buffered_answers_stream_as_input_arrives() {
    let (early, rest) = first_answer_before_second_line(
        &["check", "--line-buffered", "-"],
        "a.example",
        "b.example",
    );
    assert_eq!(early.as_deref(), Some("a.example\thttp"));
    assert_eq!(rest, "b.example\thttp");
    let (early, rest) = first_answer_before_second_line(
        &["rewrite", "--line-buffered", "-"],
        "http://a.example/",
        "http://b.example/",
    );
    assert_eq!(early.as_deref(), Some("http://a.example/"));
    assert_eq!(rest, "http://b.example/");
    let (early, _) = first_answer_before_second_line(
        &["parse", "--line-buffered", "-"],
        "max-age=5",
        "max-age=6",
    );
    assert_eq!(early.as_deref(), Some("valid: max-age=5"));
}
