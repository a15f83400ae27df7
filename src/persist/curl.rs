//! curl's HSTS cache file (the `CURLOPT_HSTS` format).
//!
//! One entry per line: `[.]host "YYYYMMDD HH:MM:SS"` (UTC), or `"unlimited"`
//! for an entry that never expires. A leading dot means includeSubDomains.
//! `#` starts a comment line; blank lines are ignored.
//!
//! Where we follow curl's own reading of the file (`hsts_add` in curl's
//! `lib/hsts.c`):
//!
//! - A host given twice keeps the later expiry of the two, and
//!   includeSubDomains when either line has it (curl keeps "the largest
//!   expire time and the strictest subdomain policy").
//! - Text after the closing quote of the date is ignored, as curl 7.74 to
//!   8.x do (they read the line with `sscanf`, which stops after the
//!   quote). Newer curl skips such a line; taking the entry is the side
//!   that keeps a protection.
//! - On reading a line with includeSubDomains, curl looks the host up with
//!   subdomain matching first, and drops it when a parent with
//!   includeSubDomains is already loaded. So [`export_curl`] writes every
//!   host before its parent domains: curl then loads both.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};

use super::error::{PersistError, MAX_FILE_LEN};
use super::report::CurlProblem;
use crate::host::{self, Host};
use crate::{Entry, EntryRef};

const STAMP_FORMAT: &str = "%Y%m%d %H:%M:%S";
const MAX_LINE_LEN: usize = 4096;

/// Orders hosts by their labels read from the right, each host before its
/// parent domains: `www.example.com`, `example.com`, `example.org`.
fn children_first(a: &str, b: &str) -> Ordering {
    let mut la = a.rsplit('.');
    let mut lb = b.rsplit('.');
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Equal => continue,
                other => return other,
            },
            // `a` is a parent of `b`: after it.
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (None, None) => return Ordering::Equal,
        }
    }
}

/// Writes entries as a curl HSTS cache file, every host before its parent
/// domains (see the module documentation: curl drops a subdomain entry
/// read after its parent's includeSubDomains entry).
pub fn export_curl<'a>(entries: impl IntoIterator<Item = EntryRef<'a>>) -> String {
    let mut out =
        String::from("# HSTS cache written by hsts; the format of curl's CURLOPT_HSTS file.\n");
    let mut entries: Vec<EntryRef<'a>> = entries.into_iter().collect();
    entries.sort_by(|a, b| children_first(a.host, b.host));
    for e in entries {
        let dot = if e.include_subdomains { "." } else { "" };
        // curl keeps expiry in a time_t and reads 4-digit years: anything
        // beyond is "unlimited", which is what such an expiry means anyway.
        let stamp = if e.expires.year() > 9999 {
            "unlimited".to_owned()
        } else {
            e.expires.format(STAMP_FORMAT).to_string()
        };
        out.push_str(&format!("{dot}{} \"{stamp}\"\n", e.host));
    }
    out
}

/// Reads a curl HSTS cache file. Lines that cannot be taken (IP literals,
/// hosts with a trailing dot, bad dates, malformed lines, expired entries)
/// are skipped and reported with their line number; `now` is used as the
/// observation time, which curl does not record. A host on several lines
/// is one entry, with the latest expiry and includeSubDomains if any line
/// has it, at the place of its first line; text after the date's closing
/// quote is ignored (both as curl does). A file that is not text is
/// an error ([`PersistError::Line`] with [`CurlProblem::NotUtf8`]), as is
/// one larger than [`MAX_FILE_LEN`].
#[allow(clippy::type_complexity)]
pub fn import_curl(
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(Vec<Entry>, Vec<(usize, CurlProblem)>), PersistError> {
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(PersistError::TooLarge(bytes.len() as u64));
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut skipped = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let text = std::str::from_utf8(raw).map_err(|_| PersistError::Line {
            line: line_no,
            problem: CurlProblem::NotUtf8,
        })?;
        let line = text.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line, now) {
            Ok(e) => match seen.get(&e.host) {
                Some(&i) => {
                    let first: &mut Entry = &mut entries[i];
                    first.expires = first.expires.max(e.expires);
                    first.include_subdomains |= e.include_subdomains;
                }
                None => {
                    seen.insert(e.host.clone(), entries.len());
                    entries.push(e);
                }
            },
            Err(problem) => skipped.push((line_no, problem)),
        }
    }
    Ok((entries, skipped))
}

/// One entry line, trimmed, neither blank nor a comment.
fn parse_line(line: &str, now: DateTime<Utc>) -> Result<Entry, CurlProblem> {
    if line.len() > MAX_LINE_LEN {
        return Err(CurlProblem::TooLong {
            limit: MAX_LINE_LEN,
        });
    }
    let (name, rest) = line.split_once([' ', '\t']).ok_or(CurlProblem::Syntax)?;
    // The date is what lies between the first two quotes; anything after
    // the second is ignored.
    let stamp = rest
        .trim_start()
        .strip_prefix('"')
        .and_then(|s| s.split_once('"'))
        .map(|(stamp, _rest)| stamp)
        .ok_or(CurlProblem::Unquoted)?;
    let (include_subdomains, host_text) = match name.strip_prefix('.') {
        Some(h) => (true, h),
        None => (false, name),
    };
    if host_text.ends_with('.') {
        return Err(CurlProblem::TrailingDot(host_text.to_owned()));
    }
    let host = match host::canonicalize(host_text) {
        Ok(Host::Domain(d)) => d,
        Ok(Host::Ip(ip)) => return Err(CurlProblem::IpLiteral(ip)),
        Err(source) => {
            return Err(CurlProblem::InvalidHost {
                host: host_text.to_owned(),
                source,
            })
        }
    };
    let expires = if stamp == "unlimited" {
        DateTime::<Utc>::MAX_UTC
    } else {
        NaiveDateTime::parse_from_str(stamp, STAMP_FORMAT)
            .map_err(|source| CurlProblem::BadDate {
                stamp: stamp.to_owned(),
                source,
            })?
            .and_utc()
    };
    if expires < now {
        return Err(CurlProblem::Expired(stamp.to_owned()));
    }
    Ok(Entry {
        host: host.into_string(),
        include_subdomains,
        observed: now,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn round_trip_and_skips() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let text = "# comment\n\n.example.com \"20270101 00:00:00\"\nwww.example.org \"unlimited\"\n1.2.3.4 \"20270101 00:00:00\"\n[::1] \"unlimited\"\ntrailing.example. \"unlimited\"\nbad.example \"2027\"\nold.example \"20200101 00:00:00\"\nnoquotes.example 20270101\n";
        let (entries, skipped) = import_curl(text.as_bytes(), now).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].include_subdomains && entries[0].host == "example.com");
        assert_eq!(entries[1].expires, DateTime::<Utc>::MAX_UTC);
        let lines: Vec<usize> = skipped.iter().map(|s| s.0).collect();
        assert_eq!(lines, [5, 6, 7, 8, 9, 10]);
        assert!(matches!(skipped[0].1, CurlProblem::IpLiteral(_)));
        assert!(matches!(skipped[2].1, CurlProblem::TrailingDot(_)));
        assert!(matches!(skipped[3].1, CurlProblem::BadDate { .. }));
        assert!(matches!(skipped[4].1, CurlProblem::Expired(_)));
        assert_eq!(skipped[5].1, CurlProblem::Unquoted);
        let out = export_curl(entries.iter().map(Entry::as_ref));
        assert!(out.contains(".example.com \"20270101 00:00:00\"\n"));
        assert!(out.contains("www.example.org \"unlimited\"\n"));
        let (again, none) = import_curl(out.as_bytes(), now).unwrap();
        assert_eq!(again, entries);
        assert!(none.is_empty());
        assert!(matches!(
            import_curl(b"\xff\xfe", now),
            Err(PersistError::Line {
                line: 1,
                problem: CurlProblem::NotUtf8
            })
        ));
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn duplicates_keep_the_latest_expiry_and_include_subdomains() {
        let text = "a.example \"20280101 00:00:00\"\n\
                    .b.example \"20270101 00:00:00\"\n\
                    A.example \"20270101 00:00:00\"\n\
                    .a.example \"20270601 00:00:00\"\n\
                    b.example \"20290101 00:00:00\"\n";
        let (entries, skipped) = import_curl(text.as_bytes(), now()).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0].host, "a.example");
        assert!(entries[0].include_subdomains);
        assert_eq!(
            entries[0].expires,
            Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(entries[1].host, "b.example");
        assert!(entries[1].include_subdomains);
        assert_eq!(
            entries[1].expires,
            Utc.with_ymd_and_hms(2029, 1, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn text_after_the_date_is_ignored() {
        let text = "a.example \"20270101 00:00:00\" trailing words\n\
                    b.example \"unlimited\"#x\n\
                    c.example \"20270101 00:00:00\"\t \r\n";
        let (entries, skipped) = import_curl(text.as_bytes(), now()).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        let hosts: Vec<&str> = entries.iter().map(|e| e.host.as_str()).collect();
        assert_eq!(hosts, ["a.example", "b.example", "c.example"]);
        assert_eq!(entries[1].expires, DateTime::<Utc>::MAX_UTC);
        // Still refused: no closing quote at all.
        let (_, skipped) = import_curl(b"d.example \"20270101 00:00:00\n", now()).unwrap();
        assert_eq!(skipped, [(1, CurlProblem::Unquoted)]);
    }

    #[test]
    fn export_writes_children_before_parents() {
        let e = |host: &str| Entry {
            host: host.to_owned(),
            include_subdomains: true,
            observed: now(),
            expires: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        };
        // Sorted by host, as `export` hands them over: parents first.
        let entries = [
            e("a.example.com"),
            e("example.com"),
            e("example.org"),
            e("www.example.com"),
            e("x.www.example.com"),
        ];
        let out = export_curl(entries.iter().map(Entry::as_ref));
        let hosts: Vec<&str> = out
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(' ').next().unwrap().trim_start_matches('.'))
            .collect();
        assert_eq!(
            hosts,
            [
                "a.example.com",
                "x.www.example.com",
                "www.example.com",
                "example.com",
                "example.org"
            ]
        );
        for (i, child) in hosts.iter().enumerate() {
            for parent in &hosts[..i] {
                assert!(
                    !child.ends_with(&format!(".{parent}")),
                    "{child} after its parent {parent}"
                );
            }
        }
    }
}
