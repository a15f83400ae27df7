//! Browsing contexts: who sent a response or makes a request
//! ([`RequestContext`]), and who may set HSTS ([`AcceptFrom`]).
//!
//! RFC 6797 knows no contexts: every response over a secure transport may
//! note its host, and every request is upgraded. That lets a tracker
//! embedded in many pages write an identifier as HSTS entries of its own
//! subdomains and read it back bit by bit (an "HSTS super-cookie", §14.9).
//! Browsers limit this; the store can too, each rule a switch of
//! [`StoreConfig`](crate::StoreConfig) whose default is the RFC's.
//!
//! ```
//! use hsts::{AcceptFrom, RequestContext};
//! use url::Url;
//!
//! // A client with no pages: a top-level navigation to each URL.
//! assert!(RequestContext::navigation().is_navigation());
//! // An image on news.example: not a navigation, and its top-level site is news.example.
//! let page = Url::parse("https://www.news.example/today").unwrap();
//! let ctx = RequestContext::subresource_of(&page).unwrap();
//! assert!(!ctx.is_navigation());
//! assert_eq!(ctx.top_level().unwrap().to_string(), "www.news.example");
//! assert_eq!(AcceptFrom::default(), AcceptFrom::Any);
//! ```

use url::Url;

use crate::host::{self, CanonicalHost, Host, HostError};
use crate::psl::SuffixList;

/// Who may set HSTS (`StoreConfig::accept_from`). A response to a
/// top-level navigation, and any response noted without a context, is
/// always first-party and may set HSTS; these rules are about subresource
/// responses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AcceptFrom {
    /// Any response over a secure transport (RFC 6797 §8.1), the default.
    #[default]
    Any,
    /// Firefox and Brave: a subresource response is noted only when its
    /// host's site (registrable domain, eTLD+1) is the top-level site.
    /// Firefox: "only process HSTS headers for first-party loads".
    SameSite,
    /// WebKit: a subresource response notes its own host only when that
    /// host is the top-level host or the top-level site (eTLD+1). On a page
    /// of `sub.domain.example.com` that is `sub.domain.example.com` and
    /// `example.com`, not `some.sub.domain.example.com`,
    /// `domain.example.com` or `other.org`.
    TopLevel,
}

/// The context of one request and its response: the top-level page, if
/// any, and whether the request is itself a top-level navigation.
///
/// The store's context-free calls (`note_at`, `upgrade_at`, `lookup_at`)
/// act as [`RequestContext::navigation`]; the others go through
/// [`HstsStore::in_context`](crate::HstsStore::in_context).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestContext {
    top_level: Option<Host>,
    navigation: bool,
}

impl Default for RequestContext {
    fn default() -> Self {
        RequestContext::navigation()
    }
}

/// The host of a top-level page's URL. A URL with no host (`data:`,
/// `file:`) has no site to compare with, and is refused.
fn page_host(top_level: &Url) -> Result<Host, HostError> {
    match top_level.host() {
        None => Err(HostError::Empty),
        Some(h) => host::from_url_host(h),
    }
}

/// The site (eTLD+1) of a canonical host; a host with no site of its own
/// (a public suffix, a single label) is its own site, as for the quota.
fn site_of<'h>(psl: &SuffixList, host: &'h str) -> &'h str {
    psl.site_str(host).unwrap_or(host)
}

impl RequestContext {
    /// A top-level navigation with no page before it: what a client with no
    /// pages (curl, a crawler, an API client) makes. The default.
    pub fn navigation() -> RequestContext {
        RequestContext {
            top_level: None,
            navigation: true,
        }
    }

    /// A top-level navigation started from the page at `top_level` (a link
    /// followed). Its response is first-party as any navigation's is; the
    /// page is recorded for reporting.
    pub fn navigation_from(top_level: &Url) -> Result<RequestContext, HostError> {
        Ok(RequestContext {
            top_level: Some(page_host(top_level)?),
            navigation: true,
        })
    }

    /// A subresource (image, script, frame, fetch) of the top-level page at
    /// `top_level`. An error when that URL has no valid host.
    pub fn subresource_of(top_level: &Url) -> Result<RequestContext, HostError> {
        Ok(RequestContext {
            top_level: Some(page_host(top_level)?),
            navigation: false,
        })
    }

    /// The host of the top-level page, if there is one.
    pub fn top_level(&self) -> Option<&Host> {
        self.top_level.as_ref()
    }

    /// Whether the request is a top-level navigation.
    pub fn is_navigation(&self) -> bool {
        self.navigation
    }

    /// Whether a response from `host` in this context may set HSTS under
    /// `policy`, sites taken from `psl`.
    pub(crate) fn may_set(
        &self,
        policy: AcceptFrom,
        host: &CanonicalHost,
        psl: &SuffixList,
    ) -> bool {
        let top = match (&self.top_level, self.navigation) {
            // A navigation's response is first-party; so is every response
            // without a page (the context-free form).
            (_, true) | (None, _) => return true,
            (Some(top), false) => top,
        };
        let top = match top {
            Host::Domain(d) => d.as_str(),
            // A page at an IP address has no registrable domain: no domain
            // response is of its site. (IP hosts are never noted anyway.)
            Host::Ip(_) => return policy == AcceptFrom::Any,
        };
        let host = host.as_str();
        match policy {
            AcceptFrom::Any => true,
            AcceptFrom::SameSite => site_of(psl, host) == site_of(psl, top),
            // WebKit: "only for the current first-party host or its eTLD+1".
            AcceptFrom::TopLevel => host == top || host == site_of(psl, top),
        }
    }

    /// The page whose site is the partition of this context's requests and
    /// responses: a navigation's own URL is the new top-level page (`None`:
    /// the host's own site); a subresource's is the page it is loaded on.
    pub(crate) fn partition_top(&self) -> Option<&Host> {
        if self.navigation {
            None
        } else {
            self.top_level.as_ref()
        }
    }

    /// Which entries a lookup in this context consults, and whether it
    /// counts as a use for the eviction policy.
    pub(crate) fn scope(&self, navigations_only: bool) -> LookupScope<'_> {
        LookupScope {
            top: self.partition_top(),
            // Chromium's kHstsTopLevelNavigationsOnly: dynamic entries
            // upgrade top-level navigations only; preloaded hosts, which
            // cannot carry per-user bits, upgrade every request.
            dynamic: self.navigation || !navigations_only,
            // Days of use protect the sites a user visits; a tracker loaded
            // on every page must not earn them through subresource loads.
            counts_as_use: self.navigation,
        }
    }
}

/// What a lookup consults: see [`RequestContext::scope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LookupScope<'a> {
    /// The top-level page whose site is the partition, in a partitioned
    /// store; `None`: the looked-up host's own site.
    pub(crate) top: Option<&'a Host>,
    /// Whether dynamic entries count (the preload list always does).
    pub(crate) dynamic: bool,
    /// Whether a dynamic match marks its entry used today.
    pub(crate) counts_as_use: bool,
}

impl LookupScope<'_> {
    /// The context-free form: a top-level navigation.
    pub(crate) const NAVIGATION: LookupScope<'static> = LookupScope {
        top: None,
        dynamic: true,
        counts_as_use: true,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(top: &str) -> RequestContext {
        RequestContext::subresource_of(&Url::parse(top).unwrap()).unwrap()
    }

    #[test]
    fn navigations_and_pageless_requests_are_first_party() {
        let psl = SuffixList::builtin();
        let other = CanonicalHost::new("other.org").unwrap();
        let page = Url::parse("https://a.example/").unwrap();
        for c in [
            RequestContext::navigation(),
            RequestContext::navigation_from(&page).unwrap(),
        ] {
            for p in [AcceptFrom::Any, AcceptFrom::SameSite, AcceptFrom::TopLevel] {
                assert!(c.may_set(p, &other, psl));
            }
        }
    }

    #[test]
    fn same_site_compares_registrable_domains() {
        let psl = SuffixList::builtin();
        let c = ctx("https://www.example.co.uk/");
        let yes = CanonicalHost::new("cdn.example.co.uk").unwrap();
        let no = CanonicalHost::new("other.co.uk").unwrap();
        assert!(c.may_set(AcceptFrom::SameSite, &yes, psl));
        assert!(!c.may_set(AcceptFrom::SameSite, &no, psl));
        assert!(c.may_set(AcceptFrom::Any, &no, psl));
    }

    #[test]
    fn pages_without_a_host_are_refused_and_ip_pages_are_nobody_s_site() {
        assert_eq!(
            RequestContext::subresource_of(&Url::parse("data:text/plain,x").unwrap()),
            Err(HostError::Empty)
        );
        let psl = SuffixList::builtin();
        let c = ctx("https://192.0.2.1/");
        let h = CanonicalHost::new("a.example").unwrap();
        assert!(!c.may_set(AcceptFrom::SameSite, &h, psl));
        assert!(!c.may_set(AcceptFrom::TopLevel, &h, psl));
    }

    #[test]
    fn scopes() {
        let sub = ctx("https://a.example/");
        assert_eq!(
            RequestContext::navigation().scope(true),
            LookupScope::NAVIGATION
        );
        assert!(sub.scope(false).dynamic && !sub.scope(false).counts_as_use);
        assert!(!sub.scope(true).dynamic);
    }
}
