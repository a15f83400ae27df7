//! Canonicalising the source names and grouping them by TLD.

use std::collections::BTreeMap;

use super::report::{CompileReport, SkipReason};
use crate::host::{self, Host};
use crate::preload::code::symbol;
use crate::preload::format::MAX_HOST_LEN;

/// The names under one TLD.
#[derive(Default)]
pub(super) struct TldNames {
    /// The TLD's own include_subdomains flag, if the TLD is listed.
    pub(super) own: Option<bool>,
    /// Name without the TLD → include_subdomains.
    pub(super) names: BTreeMap<String, bool>,
}

/// TLD → its names, in order.
pub(super) type ByTld = BTreeMap<String, TldNames>;

/// Canonicalises every name and groups it under its TLD; the names left
/// out go to `report`. A repeated name keeps its last flag.
pub(super) fn group_by_tld(
    entries: impl IntoIterator<Item = (String, bool)>,
    report: &mut CompileReport,
) -> ByTld {
    let mut by_tld = ByTld::new();
    for (name, isd) in entries {
        let (tld, rest) = match split_name(&name) {
            Ok(parts) => parts,
            Err(why) => {
                report.skipped.push((name, why));
                continue;
            }
        };
        let slot = by_tld.entry(tld).or_default();
        match rest {
            None => slot.own = Some(isd),
            Some(r) => {
                slot.names.insert(r, isd);
            }
        }
    }
    by_tld
}

/// A source name, canonicalised and split into its TLD and the rest (none
/// for a TLD), or why it cannot be in the table.
fn split_name(name: &str) -> Result<(String, Option<String>), SkipReason> {
    let canonical = match host::canonicalize(name) {
        Ok(Host::Domain(d)) => d.into_string(),
        Ok(Host::Ip(_)) => return Err(SkipReason::IpLiteral),
        Err(e) => return Err(SkipReason::InvalidName(e.to_string())),
    };
    if canonical.len() > MAX_HOST_LEN || canonical.bytes().any(|c| symbol(c).is_none()) {
        return Err(SkipReason::UnsupportedCharacter);
    }
    let (rest, tld) = match canonical.rsplit_once('.') {
        Some((rest, tld)) => (Some(rest), tld),
        None => (None, canonical.as_str()),
    };
    if tld.is_empty()
        || tld.len() > 63
        || rest.is_some_and(|r| r.split('.').any(|l| l.is_empty() || l.len() > 63))
    {
        return Err(SkipReason::InvalidName("empty or overlong label".into()));
    }
    Ok((tld.to_owned(), rest.map(str::to_owned)))
}
