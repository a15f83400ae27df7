//! Walking the table: TLD records in area order, the records of a bucket,
//! and decoding names (for iteration and for the full check).

use std::collections::HashMap;

use super::code::{
    character, name_code, read_bits, record_head, RecordHead, DOT, LEN_TABLE_LEN, MAX_NAME_CODE,
    NAME_CODE_LEN, SYMBOLS,
};
use super::format::{
    bucket_range, tld_at, BucketHead, Layout, Tld, MAX_HOST_LEN, TLD_INCLUDE_SUBDOMAINS,
    TLD_IS_ENTRY,
};

/// Walks every TLD record in area order.
pub(crate) fn tlds<'a>(b: &'a [u8], l: &Layout) -> impl Iterator<Item = Tld<'a>> + 'a {
    let area = b.get(l.tlds..l.tlds + l.tlds_len).unwrap_or(&[]);
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= area.len() {
            return None;
        }
        let rec = tld_at(area, at)?;
        at = rec.end;
        Some(rec)
    })
}

/// Decodes names with the table's name code (for iteration and checks).
pub(crate) struct Decoder {
    /// (context, code length, code) → symbol.
    map: HashMap<(u8, u8, u16), u8>,
}

impl Decoder {
    pub(crate) fn new(codes: &[u8]) -> Decoder {
        let mut map = HashMap::new();
        for ctx in 0..SYMBOLS {
            for sym in 0..SYMBOLS {
                let (code, len) = name_code(codes, ctx, sym);
                if (1..=MAX_NAME_CODE).contains(&len) {
                    map.entry((ctx as u8, len as u8, code as u16))
                        .or_insert(sym as u8);
                }
            }
        }
        Decoder { map }
    }

    /// Decodes `n` bits at `p` into a name (without TLD); `None` if they do
    /// not end exactly on a symbol or hold no valid code.
    pub(crate) fn decode(&self, rec: &[u8], p: u64, n: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut ctx = DOT;
        let mut at = 0u64;
        while at < n {
            let mut found = None;
            for len in 1..=MAX_NAME_CODE {
                if at + u64::from(len) > n {
                    break;
                }
                let code = read_bits(rec, p + at, len) as u16;
                if let Some(&s) = self.map.get(&(ctx as u8, len as u8, code)) {
                    found = Some((s, len));
                    break;
                }
            }
            let (s, len) = found?;
            out.push(character(usize::from(s)));
            if out.len() > MAX_HOST_LEN {
                return None;
            }
            ctx = usize::from(s);
            at += u64::from(len);
        }
        out.reverse();
        Some(out)
    }
}

/// Walks one bucket's records: each one's fingerprint and header; `None`
/// for a corrupt record, after which the walk stops.
pub(crate) fn bucket_records<'a>(
    b: &'a [u8],
    l: &Layout,
    bucket: usize,
) -> impl Iterator<Item = Option<(u8, RecordHead)>> + 'a {
    let (start, end) = bucket_range(b, l, bucket).unwrap_or((0, 0));
    let rec = b.get(l.records..l.records + l.records_len).unwrap_or(&[]);
    let len_table = b
        .get(l.len_table..l.len_table + LEN_TABLE_LEN)
        .unwrap_or(&[]);
    // An empty range is an empty bucket; a non-empty one starts with a head.
    let head = (start < end).then(|| BucketHead::read(rec, l, start));
    let count = head.map_or(0, |h| h.count);
    let mut p = head.map_or(end, |h| h.records_at);
    let (mut i, mut done) = (0u64, false);
    std::iter::from_fn(move || {
        if done || i >= count {
            return None;
        }
        let fp = head.map_or(0, |h| h.fingerprint(rec, i));
        match record_head(len_table, rec, p) {
            Some(r) if p <= end && r.bits > 0 && r.end() <= end => {
                p = r.end();
                i += 1;
                Some(Some((fp, r)))
            }
            _ => {
                done = true;
                Some(None)
            }
        }
    })
}

/// See [`super::PreloadList::iter`]. On a corrupt (unverified) table the
/// walk stops early or yields names with `?` in them; it never panics.
pub(crate) fn iter<'a>(b: &'a [u8], l: &Layout) -> impl Iterator<Item = (String, bool)> + 'a {
    let l = *l;
    let codes = b
        .get(l.name_codes..l.name_codes + NAME_CODE_LEN)
        .unwrap_or(&[]);
    let decoder = std::rc::Rc::new(Decoder::new(codes));
    let rec = b.get(l.records..l.records + l.records_len).unwrap_or(&[]);
    tlds(b, &l).flat_map(move |tld| {
        let tld_name = String::from_utf8_lossy(tld.name).into_owned();
        let own = (tld.flags & TLD_IS_ENTRY != 0)
            .then(|| (tld_name.clone(), tld.flags & TLD_INCLUDE_SUBDOMAINS != 0));
        let first = (tld.first_bucket as usize).min(l.bucket_count);
        let last = first
            .saturating_add(tld.bucket_count as usize)
            .min(l.bucket_count);
        let decoder = decoder.clone();
        own.into_iter().chain((first..last).flat_map(move |bucket| {
            let tld_name = tld_name.clone();
            let decoder = decoder.clone();
            bucket_records(b, &l, bucket)
                .map_while(|r| r)
                .map(move |(_, r)| {
                    let mut name = match decoder.decode(rec, r.name_at, r.bits) {
                        Some(v) => String::from_utf8_lossy(&v).into_owned(),
                        None => "?".to_owned(),
                    };
                    name.push('.');
                    name.push_str(&tld_name);
                    (name, r.isd)
                })
        }))
    })
}
