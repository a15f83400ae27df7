//! Bounded, streaming input for the commands that take "-": one line at a
//! time, never more than [`MAX_LINE`] bytes of one line in memory, and each
//! bad line reported on its own while the rest are answered.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead};

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
        while let Some(item) = lines.next_item()? {
            f(item)?;
        }
    }
    Ok(())
}

/// Lines of a reader, each bounded.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    cap: usize,
    /// Give empty lines as [`Item::Blank`] instead of skipping them.
    pub(crate) keep_blank: bool,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`, keeping at most `cap` bytes of each.
    pub(crate) fn new(reader: R, cap: usize) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
            line: 0,
            cap,
            keep_blank: false,
        }
    }

    /// The next non-empty line as an item (or an empty one as
    /// [`Item::Blank`] with `keep_blank`); `None` at the end.
    pub(crate) fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        loop {
            let Some(len) = self.read_line()? else {
                return Ok(None);
            };
            if self.buf.last() == Some(&b'\r') && len as usize == self.buf.len() {
                self.buf.pop();
            }
            if len == 0 || self.buf.is_empty() {
                if self.keep_blank {
                    return Ok(Some(Item::Blank(self.line)));
                }
                continue;
            }
            return Ok(Some(self.item(len)));
        }
    }

    fn item(&mut self, len: u64) -> Item<'_> {
        let problem = if len > self.cap as u64 {
            LineProblem::TooLong { len }
        } else {
            match std::str::from_utf8(&self.buf) {
                Ok(s) => return Item::Text(s),
                Err(e) => LineProblem::NotUtf8 {
                    at: e.valid_up_to(),
                },
            }
        };
        let shown = shown(&self.buf);
        Item::Bad(BadLine {
            line: self.line,
            problem,
            shown,
        })
    }

    /// Reads one line into `buf` (at most `cap` bytes of it, without the
    /// newline); its full length, or `None` at the end of input.
    fn read_line(&mut self) -> io::Result<Option<u64>> {
        self.buf.clear();
        let mut len = 0u64;
        let mut any = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let newline = avail.iter().position(|&b| b == b'\n');
            let chunk = &avail[..newline.unwrap_or(avail.len())];
            len += chunk.len() as u64;
            let room = (self.cap + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = newline.map_or(avail.len(), |i| i + 1);
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line += 1;
        Ok(Some(len))
    }
}

/// The start of an input (its first 64 bytes, lossily decoded and
/// escaped), for echoing it in a message without keeping all of it.
pub(crate) fn shown(bytes: &[u8]) -> String {
    escape(&String::from_utf8_lossy(&bytes[..bytes.len().min(64)])).into_owned()
}

/// `s` with control characters and backslashes escaped, so that an echoed
/// value can forge neither a field separator nor a line.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], cap: usize) -> Vec<Result<String, BadLine>> {
        let mut lines = Lines::new(io::BufReader::with_capacity(7, input), cap);
        let mut out = Vec::new();
        while let Some(item) = lines.next_item().unwrap() {
            out.push(match item {
                Item::Text(s) => Ok(s.to_owned()),
                Item::Bad(b) => Err(b),
                Item::Blank(_) => unreachable!("blank lines are skipped"),
            });
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
    fn escaping() {
        assert_eq!(escape("plain.example"), "plain.example");
        assert_eq!(escape("a\tb\\c\n\u{7f}"), "a\\tb\\\\c\\n\\u{7f}");
    }
}
