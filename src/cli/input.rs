//! Bounded, streaming input for the commands that take "-": one line at a
//! time, never more than [`MAX_LINE`] bytes of one line in memory, and each
//! bad line reported on its own while the rest are answered.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};

use super::CliError;

/// The longest line kept: hosts are at most 253 bytes and URLs rarely pass
/// a few kilobytes (Chromium refuses URLs over 2 MiB). A longer line is
/// skipped without being buffered, and reported.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// One item to answer: an argument, or a line of stdin (borrowed from the
/// reader's buffer, so that reading allocates nothing per line).
pub(crate) enum Item<'a> {
    /// Usable text.
    Text(&'a str),
    /// A line of stdin that cannot be used.
    Bad(BadLine),
    /// An empty line of stdin (its 1-based number), given only where the
    /// caller keeps blank lines so that output lines up with input lines.
    Blank(u64),
}

/// A line of stdin that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadLine {
    /// 1-based line number on stdin.
    pub(crate) line: u64,
    /// What was wrong.
    pub(crate) problem: LineProblem,
    /// The start of the line, lossily decoded and escaped, for echoing.
    pub(crate) shown: String,
}

/// Why a line was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineProblem {
    /// Longer than [`MAX_LINE`]; `len` bytes in all.
    TooLong { len: u64 },
    /// Not UTF-8; the first bad byte is at this offset.
    NotUtf8 { at: usize },
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problem {
            LineProblem::TooLong { len } => write!(
                f,
                "stdin line {}: {len} bytes, longer than the {MAX_LINE}-byte limit; skipped",
                self.line
            ),
            LineProblem::NotUtf8 { at } => write!(
                f,
                "stdin line {}: not UTF-8 (byte {at}); skipped",
                self.line
            ),
        }
    }
}

/// Calls `f` with each item in order: the arguments, with "-" replaced by
/// the non-empty lines of stdin. Stops at the first error `f` returns.
pub(crate) fn for_each_item(
    items: &[String],
    f: impl FnMut(Item<'_>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    each_item(items, false, f)
}

/// [`for_each_item`], with an [`Item::Blank`] for each empty line of stdin:
/// for the commands that print one line per input line.
pub(crate) fn for_each_line(
    items: &[String],
    f: impl FnMut(Item<'_>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    each_item(items, true, f)
}

fn each_item(
    items: &[String],
    keep_blank: bool,
    mut f: impl FnMut(Item<'_>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    for item in items {
        if item != "-" {
            f(Item::Text(item))?;
            continue;
        }
        let stdin = io::stdin();
        let mut lines = Lines::new(stdin.lock(), MAX_LINE);
        lines.keep_blank = keep_blank;
        lines.for_each(&mut f)?;
    }
    Ok(())
}

/// How much is read at once: also the buffer's first size. A longer line
/// grows the buffer, up to `cap + 2` bytes.
const CHUNK: usize = 64 << 10;

/// Lines of a reader, each bounded: the reader is read in large chunks into
/// one reused buffer, and each line is answered from that buffer where it
/// lies (not copied), validated as UTF-8 with every other complete line of
/// its chunk at once.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    /// The bytes not yet answered are `buf[start..end]`, and
    /// `buf[start..searched]` holds no newline.
    start: usize,
    searched: usize,
    end: usize,
    line: u64,
    cap: usize,
    /// Give empty lines as [`Item::Blank`] instead of skipping them.
    pub(crate) keep_blank: bool,
}

impl<R: Read> Lines<R> {
    /// Lines of `reader`, keeping at most `cap` bytes of each.
    pub(crate) fn new(reader: R, cap: usize) -> Lines<R> {
        Lines::with_chunk(reader, cap, CHUNK)
    }

    /// [`Lines::new`] with a first buffer of `chunk` bytes.
    fn with_chunk(reader: R, cap: usize, chunk: usize) -> Lines<R> {
        Lines {
            reader,
            buf: vec![0; chunk.max(1)],
            start: 0,
            searched: 0,
            end: 0,
            line: 0,
            cap,
            keep_blank: false,
        }
    }

    /// Calls `f` with each non-empty line as an item (and each empty one as
    /// [`Item::Blank`] with `keep_blank`), in order, to the end of the
    /// input. Stops at the first error of `f` or of the reader.
    pub(crate) fn for_each<E: From<io::Error>>(
        &mut self,
        mut f: impl FnMut(Item<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            // Every complete line in the buffer, at once.
            if let Some(last) = memchr::memrchr(b'\n', &self.buf[self.searched..self.end]) {
                let block = &self.buf[self.start..self.searched + last + 1];
                self.start = self.searched + last + 1;
                self.searched = self.start;
                let (cap, keep_blank) = (self.cap, self.keep_blank);
                // Valid as a whole (the usual case), or line by line.
                let text = std::str::from_utf8(block).ok();
                let mut from = 0;
                for nl in memchr::memchr_iter(b'\n', block) {
                    self.line += 1;
                    let item = match text {
                        Some(text) => text_item(&text[from..nl], self.line, cap, keep_blank),
                        None => bytes_item(&block[from..nl], self.line, cap, keep_blank),
                    };
                    from = nl + 1;
                    if let Some(item) = item {
                        f(item)?;
                    }
                }
            }
            self.searched = self.end;
            // What is left is part of a line: one too long is skipped.
            if self.end - self.start > self.cap.saturating_add(1) {
                let bad = self.skip_long_line()?;
                f(Item::Bad(bad))?;
                continue;
            }
            if !self.fill()? {
                if self.start == self.end {
                    return Ok(());
                }
                // The last line, without a newline.
                self.line += 1;
                let rest = &self.buf[self.start..self.end];
                self.start = self.end;
                if let Some(item) = bytes_item(rest, self.line, self.cap, self.keep_blank) {
                    f(item)?;
                }
            }
        }
    }

    /// Moves the part of a line left to the front of the buffer (growing
    /// it when that part fills it) and reads more after it; `false` at the
    /// end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.searched -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.cap.saturating_add(2));
            self.buf.resize(grown.max(self.end + 1), 0);
        }
        let n = read_some(&mut self.reader, &mut self.buf[self.end..])?;
        self.end += n;
        Ok(n > 0)
    }

    /// Skips the rest of the line in `buf[start..end]`, longer than `cap`,
    /// without keeping it; the line as reported.
    fn skip_long_line(&mut self) -> io::Result<BadLine> {
        let kept = (self.end - self.start).min(self.cap.saturating_add(1));
        let shown = shown(&self.buf[self.start..self.start + kept]);
        let mut len = (self.end - self.start) as u64;
        self.start = 0;
        self.searched = 0;
        self.end = 0;
        loop {
            let n = read_some(&mut self.reader, &mut self.buf)?;
            if n == 0 {
                break;
            }
            if let Some(nl) = memchr::memchr(b'\n', &self.buf[..n]) {
                len += nl as u64;
                self.start = nl + 1;
                self.searched = self.start;
                self.end = n;
                break;
            }
            len += n as u64;
        }
        self.line += 1;
        Ok(BadLine {
            line: self.line,
            problem: LineProblem::TooLong { len },
            shown,
        })
    }
}

/// One read into `buf`, again when interrupted.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The item for a line already known to be UTF-8 (without its newline),
/// or `None` for an empty line that is skipped.
#[inline]
fn text_item(raw: &str, line: u64, cap: usize, keep_blank: bool) -> Option<Item<'_>> {
    if raw.len() > cap {
        return Some(Item::Bad(too_long(raw.as_bytes(), line, cap)));
    }
    let text = raw.strip_suffix('\r').unwrap_or(raw);
    if text.is_empty() {
        return keep_blank.then_some(Item::Blank(line));
    }
    Some(Item::Text(text))
}

/// [`text_item`] for a line not yet validated.
fn bytes_item(raw: &[u8], line: u64, cap: usize, keep_blank: bool) -> Option<Item<'_>> {
    if raw.len() > cap {
        return Some(Item::Bad(too_long(raw, line, cap)));
    }
    let bytes = raw.strip_suffix(b"\r").unwrap_or(raw);
    if bytes.is_empty() {
        return keep_blank.then_some(Item::Blank(line));
    }
    Some(match std::str::from_utf8(bytes) {
        Ok(text) => Item::Text(text),
        Err(e) => Item::Bad(BadLine {
            line,
            problem: LineProblem::NotUtf8 {
                at: e.valid_up_to(),
            },
            shown: shown(bytes),
        }),
    })
}

/// A line of `raw.len()` bytes, over `cap`, as reported: shown by what a
/// line buffer of `cap + 1` bytes would hold of it (without a carriage
/// return that ends it there).
#[cold]
fn too_long(raw: &[u8], line: u64, cap: usize) -> BadLine {
    let mut kept = &raw[..raw.len().min(cap.saturating_add(1))];
    if kept.len() == raw.len() {
        kept = kept.strip_suffix(b"\r").unwrap_or(kept);
    }
    BadLine {
        line,
        problem: LineProblem::TooLong {
            len: raw.len() as u64,
        },
        shown: shown(kept),
    }
}

/// The start of an input (its first 64 bytes, lossily decoded and
/// escaped), for echoing it in a message without keeping all of it.
pub(crate) fn shown(bytes: &[u8]) -> String {
    escape(&String::from_utf8_lossy(&bytes[..bytes.len().min(64)])).into_owned()
}

/// `s` with control characters and backslashes escaped, so that an echoed
/// value can forge neither a field separator nor a line.
#[inline]
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if printable_ascii(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    escape_chars(s)
}

/// [`escape`] a character at a time.
#[cold]
fn escape_chars(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `s` is printable ASCII without a backslash (what most echoed
/// values are, and need no escaping), eight bytes at a time.
#[inline]
fn printable_ascii(s: &[u8]) -> bool {
    use hsts::internal::swar::{at_least_low, eq_low, HIGH};
    // The high bit of each byte of `x` that is not ' '..='~' or is '\\'.
    let unprintable = |x: u64| {
        let low = x & !HIGH;
        let below_space = at_least_low(low, b' ') ^ HIGH;
        // At least 0x7f, with the high bit clear, is 0x7f (DEL).
        (x & HIGH) | below_space | at_least_low(low, 0x7f) | eq_low(low, b'\\')
    };
    let word = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let n = s.len();
    if n < 8 {
        return s.iter().all(|&b| matches!(b, b' '..=b'~') && b != b'\\');
    }
    let mut bad = 0;
    let mut at = 0;
    while at + 8 < n {
        bad |= unprintable(word(at));
        at += 8;
    }
    // The last eight bytes, which may overlap the word before.
    bad |= unprintable(word(n - 8));
    bad == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything `for_each` gives, as owned values.
    #[derive(Debug, PartialEq, Eq)]
    enum Got {
        Text(String),
        Bad(BadLine),
        Blank(u64),
    }

    /// A reader that gives at most `step` bytes per read, and is
    /// interrupted before every other read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn collect(input: &[u8], cap: usize, (step, chunk): (usize, usize), keep: bool) -> Vec<Got> {
        let reader = Trickle {
            data: input,
            step,
            interrupt: false,
        };
        let mut lines = Lines::with_chunk(reader, cap, chunk);
        lines.keep_blank = keep;
        let mut out = Vec::new();
        lines
            .for_each(|item| {
                out.push(match item {
                    Item::Text(s) => Got::Text(s.to_owned()),
                    Item::Bad(b) => Got::Bad(b),
                    Item::Blank(n) => Got::Blank(n),
                });
                Ok::<(), io::Error>(())
            })
            .unwrap();
        out
    }

    fn all(input: &[u8], cap: usize) -> Vec<Result<String, BadLine>> {
        collect(input, cap, (7, 7), false)
            .into_iter()
            .map(|g| match g {
                Got::Text(s) => Ok(s),
                Got::Bad(b) => Err(b),
                Got::Blank(_) => unreachable!("blank lines are skipped"),
            })
            .collect()
    }

    /// The line reader as it was before chunked reading (one line at a
    /// time into a buffer of at most `cap + 1` bytes): what the chunked
    /// one must give, item for item.
    fn reference(input: &[u8], cap: usize, keep_blank: bool) -> Vec<Got> {
        let mut out = Vec::new();
        let mut rest = input;
        let mut line = 0;
        while !rest.is_empty() {
            let nl = rest.iter().position(|&b| b == b'\n');
            let raw = &rest[..nl.unwrap_or(rest.len())];
            rest = &rest[nl.map_or(rest.len(), |i| i + 1)..];
            line += 1;
            let len = raw.len();
            let mut buf = raw[..len.min(cap + 1)].to_vec();
            if buf.last() == Some(&b'\r') && len == buf.len() {
                buf.pop();
            }
            if len == 0 || buf.is_empty() {
                if keep_blank {
                    out.push(Got::Blank(line));
                }
                continue;
            }
            let problem = if len > cap {
                LineProblem::TooLong { len: len as u64 }
            } else {
                match std::str::from_utf8(&buf) {
                    Ok(s) => {
                        out.push(Got::Text(s.to_owned()));
                        continue;
                    }
                    Err(e) => LineProblem::NotUtf8 {
                        at: e.valid_up_to(),
                    },
                }
            };
            out.push(Got::Bad(BadLine {
                line,
                problem,
                shown: shown(&buf),
            }));
        }
        out
    }

    #[test]
    fn lines_are_bounded_and_bad_ones_reported() {
        let input = b"a.example\r\n\nxxxxxxxxxxxxxxxxxxxxxxxx\nb\xffc\nlast";
        let got = all(input, 10);
        assert_eq!(got[0], Ok("a.example".to_owned()));
        assert_eq!(
            got[1].as_ref().unwrap_err().problem,
            LineProblem::TooLong { len: 24 }
        );
        assert_eq!(got[1].as_ref().unwrap_err().line, 3);
        assert_eq!(
            got[2].as_ref().unwrap_err().problem,
            LineProblem::NotUtf8 { at: 1 }
        );
        assert_eq!(got[3], Ok("last".to_owned()));
        assert_eq!(got.len(), 4);
        // Exactly the cap is kept.
        assert_eq!(all(b"0123456789\n", 10), [Ok("0123456789".to_owned())]);
    }

    #[test]
    fn chunked_reading_gives_what_line_by_line_reading_gave() {
        // Random inputs of short and long lines, CR, invalid and multi-byte
        // UTF-8, cut into reads of every size and read into buffers that
        // must grow, against the reference.
        let pieces: [&[u8]; 9] = [
            b"a.example",
            b"\n",
            b"\r",
            b"\r\n",
            b"\xff",
            "b\u{fc}cher".as_bytes(),
            b"\xc3",
            b"0123456789abcdef",
            b"",
        ];
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        for round in 0..3_000 {
            let mut input = Vec::new();
            for _ in 0..next(30) {
                input.extend_from_slice(pieces[next(pieces.len() as u64)]);
            }
            if round % 7 == 0 {
                input.extend(std::iter::repeat_n(b'x', next(200)));
            }
            let cap = [1, 2, 9, 10, 16, 17, 40, 100][next(8)];
            let step = 1 + next(40);
            let chunk = 1 + next(50);
            for keep in [false, true] {
                assert_eq!(
                    collect(&input, cap, (step, chunk), keep),
                    reference(&input, cap, keep),
                    "{:?} cap {cap} step {step} chunk {chunk}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }

    #[test]
    fn a_long_line_is_not_held() {
        // A line of 4 MiB passes through a buffer that stays near the cap.
        let mut input = b"a.example\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', 4 << 20));
        input.extend_from_slice(b"\nb.example");
        let reader = Trickle {
            data: &input,
            step: 100_000,
            interrupt: false,
        };
        let mut lines = Lines::with_chunk(reader, 1000, 64);
        let mut got = Vec::new();
        lines
            .for_each(|item| {
                got.push(match item {
                    Item::Text(s) => s.to_owned(),
                    Item::Bad(b) => b.to_string(),
                    Item::Blank(_) => unreachable!(),
                });
                Ok::<(), io::Error>(())
            })
            .unwrap();
        assert!(lines.buf.len() <= 1002, "{}", lines.buf.len());
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[1],
            format!(
                "stdin line 2: {} bytes, longer than the {MAX_LINE}-byte limit; skipped",
                4 << 20
            )
        );
        assert_eq!(got[2], "b.example");
    }

    #[test]
    fn printable_ascii_a_word_at_a_time() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    let expected = (b' '..=b'~').contains(&b) && b != b'\\';
                    assert_eq!(printable_ascii(&s), expected, "{b} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("plain.example"), "plain.example");
        assert_eq!(escape("a\tb\\c\n\u{7f}"), "a\\tb\\\\c\\n\\u{7f}");
    }
}
