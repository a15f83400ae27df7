//! Private sessions (issue #11): notes do not survive the session or reach
//! any saved file; isolation both ways; read-through when asked.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::clock::FixedClock;
use hsts::persist;
use hsts::{
    AcceptFrom, HstsStore, IgnoreReason, Outcome, PreloadSource, PrivateOptions, RequestContext,
    SaveOptions, SharedHstsStore, Source, StoreConfig, Transport,
};
use url::Url;

const YEAR: &str = "max-age=31536000";
const YEAR_SUBS: &str = "max-age=31536000; includeSubDomains";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn config() -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        ..StoreConfig::default()
    }
}

fn store() -> HstsStore {
    HstsStore::with_config(config()).with_clock(Arc::new(FixedClock::new(t0())))
}

fn isolated() -> PrivateOptions {
    PrivateOptions::default()
}

fn read_through() -> PrivateOptions {
    PrivateOptions::default().read_through(true)
}

/// Whether a plain-http request to `host` is upgraded by `f`.
fn upgraded(mut f: impl FnMut(&Url) -> bool, host: &str) -> bool {
    f(&url(&format!("http://{host}/")))
}

#[test]
fn notes_die_with_the_session() {
    let store = store();
    let mut session = store.private_session(isolated());
    assert!(session.is_empty());
    let out = session.note(&url("https://secret.example/"), [YEAR], Transport::Secure);
    assert_eq!(out, Outcome::Noted);
    assert_eq!(session.len(), 1);
    assert!(session.lookup("secret.example").unwrap().is_some());
    assert!(upgraded(
        |u| session.upgrade(u).is_upgraded(),
        "secret.example"
    ));
    session.end();

    // Neither a new session (isolated or reading through) nor the store knows it.
    for options in [isolated(), read_through()] {
        let next = store.private_session(options);
        assert!(next.is_empty());
        assert_eq!(next.lookup_at("secret.example", t0()).unwrap(), None);
        assert!(!upgraded(
            |u| next.upgrade_at(u, t0()).is_upgraded(),
            "secret.example"
        ));
    }
    assert!(store.is_empty());

    // The same through a shared store, with the session dropped instead of ended.
    let shared = SharedHstsStore::new(store);
    {
        let mut session = shared.private_session(read_through());
        session.note_at(
            &url("https://secret.example/"),
            [YEAR],
            Transport::Secure,
            t0(),
        );
        assert_eq!(session.len(), 1);
    }
    assert_eq!(shared.lookup_at("secret.example", t0()).unwrap(), None);
    assert!(shared
        .private_session(read_through())
        .lookup_at("secret.example", t0())
        .unwrap()
        .is_none());
    assert_eq!(shared.changes(), 0);
}

/// The file holds none of `names` (searched in its bytes), and a store
/// loaded from it knows none of them but knows every one of `known`.
fn assert_file(path: &Path, names: &[&str], known: &[&str]) {
    let bytes = std::fs::read(path).unwrap();
    for name in names {
        assert!(
            !bytes.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} is in the file"
        );
    }
    // The search means something: the file holds names in plain bytes.
    for name in known {
        assert!(
            bytes.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} is not in the file"
        );
    }
    let loaded = persist::load(path, config()).unwrap();
    for name in names {
        assert_eq!(loaded.lookup_at(name, t0()).unwrap(), None, "{name}");
    }
    for name in known {
        assert!(loaded.lookup_at(name, t0()).unwrap().is_some(), "{name}");
    }
}

#[test]
fn nothing_a_session_notes_reaches_a_saved_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.bin");
    let options = SaveOptions {
        every_changes: Some(1),
        on_drop: true,
    };
    let shared = SharedHstsStore::with_file(store(), &path, options);
    let private = [
        "isolated-secret.example",
        "subresource-secret.example",
        "through-secret.example",
        "through-context-secret.example",
    ];

    // A normal note, saved at once (every change).
    shared.note(&url("https://public.example/"), [YEAR], Transport::Secure);
    assert_file(&path, &private, &["public.example"]);

    let mut isolated_session = shared.private_session(isolated());
    let mut through = shared.private_session(read_through());
    let note = |s: &mut hsts::PrivateSession, host: &str| {
        s.note(&url(&format!("https://{host}/")), [YEAR], Transport::Secure)
    };
    assert_eq!(note(&mut isolated_session, private[0]), Outcome::Noted);
    let page = url("https://news.example/");
    let sub = RequestContext::subresource_of(&page).unwrap();
    let out = isolated_session.in_context(&sub).note_at(
        &url(&format!("https://{}/x.js", private[1])),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    assert_eq!(out, Outcome::Noted);
    assert_eq!(note(&mut through, private[2]), Outcome::Noted);
    let nav = RequestContext::navigation_from(&page).unwrap();
    let out = through.in_context(&nav).note_at(
        &url(&format!("https://{}/", private[3])),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    assert_eq!(out, Outcome::Noted);
    // A max-age=0 for the public host, in the session: not a change of the shared store.
    let out = note_zero(&mut through, "public.example");
    assert_eq!(out, Outcome::Ignored(IgnoreReason::NotKnown));
    assert_eq!(shared.changes(), 1, "session notes are not shared changes");

    // A save on demand.
    shared.save().unwrap();
    assert_file(&path, &private, &["public.example"]);

    // A save every N changes, triggered while the sessions are open.
    shared.note(&url("https://public2.example/"), [YEAR], Transport::Secure);
    assert_eq!(shared.changes(), 2);
    assert!(shared.last_save_error().is_none());
    assert_file(&path, &private, &["public.example", "public2.example"]);

    // The sessions still know their notes, and the shared store does not.
    for host in private {
        assert_eq!(shared.lookup(host).unwrap(), None, "{host}");
    }
    assert!(isolated_session.lookup(private[0]).unwrap().is_some());
    assert!(through.lookup(private[2]).unwrap().is_some());

    // The save when the last handle goes (the read-through session holds one).
    drop(shared);
    std::fs::remove_file(&path).unwrap();
    drop(isolated_session);
    assert!(!path.exists(), "the store is still alive in the session");
    drop(through);
    assert_file(&path, &private, &["public.example", "public2.example"]);
}

fn note_zero(s: &mut hsts::PrivateSession, host: &str) -> Outcome {
    s.note(
        &url(&format!("https://{host}/")),
        ["max-age=0"],
        Transport::Secure,
    )
}

#[test]
fn an_isolated_session_and_the_store_do_not_see_each_other() {
    let mut plain = store();
    plain.note_at(
        &url("https://known.example/"),
        [YEAR_SUBS],
        Transport::Secure,
        t0(),
    );
    let shared = SharedHstsStore::new(plain.clone());
    let mut a = plain.private_session(isolated());
    let mut b = shared.private_session(isolated());
    assert!(!a.is_read_through() && !b.is_read_through());
    let page = url("https://news.example/");
    let sub = RequestContext::subresource_of(&page).unwrap();
    for s in [&mut a, &mut b] {
        // The store's entries are invisible to the session, in any context...
        for host in ["known.example", "www.known.example"] {
            assert_eq!(s.lookup_at(host, t0()).unwrap(), None, "{host}");
            assert!(!upgraded(|u| s.upgrade_at(u, t0()).is_upgraded(), host));
            let view = s.in_context(&sub);
            assert_eq!(view.lookup_at(host, t0()).unwrap(), None, "{host}");
            assert!(!upgraded(|u| view.upgrade_at(u, t0()).is_upgraded(), host));
        }
        // ...and the session's to the store.
        let out = s.note_at(
            &url("https://mine.example/"),
            [YEAR_SUBS],
            Transport::Secure,
            t0(),
        );
        assert_eq!(
            out,
            Outcome::Noted,
            "new to the session, whatever the store knows"
        );
        let out = s.note_at(
            &url("https://known.example/"),
            [YEAR],
            Transport::Secure,
            t0(),
        );
        assert_eq!(
            out,
            Outcome::Noted,
            "new to the session, whatever the store knows"
        );
        assert!(upgraded(
            |u| s.upgrade_at(u, t0()).is_upgraded(),
            "www.mine.example"
        ));
    }
    for host in ["mine.example", "www.mine.example"] {
        assert_eq!(plain.lookup_at(host, t0()).unwrap(), None);
        assert_eq!(shared.lookup_at(host, t0()).unwrap(), None);
        assert!(!upgraded(|u| plain.upgrade_at(u, t0()).is_upgraded(), host));
        assert!(!upgraded(
            |u| shared.upgrade_at(u, t0()).is_upgraded(),
            host
        ));
    }
    // The session's entry for known.example did not replace the store's.
    assert!(plain
        .lookup_at("www.known.example", t0())
        .unwrap()
        .is_some());
    assert!(shared
        .lookup_at("www.known.example", t0())
        .unwrap()
        .is_some());
    assert_eq!((plain.len(), shared.read(HstsStore::len)), (1, 1));

    // Notes made in the store later are not seen either.
    shared.note_at(
        &url("https://later.example/"),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    assert_eq!(b.lookup_at("later.example", t0()).unwrap(), None);
}

#[test]
fn a_read_through_session_sees_the_store() {
    let mut plain = store();
    plain.note_at(
        &url("https://known.example/"),
        [YEAR_SUBS],
        Transport::Secure,
        t0(),
    );
    let shared = SharedHstsStore::new(plain.clone());
    let mut a = plain.private_session(read_through());
    let b = shared.private_session(read_through());
    assert!(a.is_read_through() && b.is_read_through());
    for s in [&a, &b] {
        let m = s.lookup_at("www.known.example", t0()).unwrap().unwrap();
        assert_eq!(
            (m.host.as_str(), m.source),
            ("known.example", Source::Dynamic)
        );
        assert!(upgraded(
            |u| s.upgrade_at(u, t0()).is_upgraded(),
            "www.known.example"
        ));
        // Entries still expire.
        let later = t0() + Duration::days(366);
        assert_eq!(s.lookup_at("known.example", later).unwrap(), None);
        assert_eq!(s.len(), 0, "the store's entries are not the session's");
    }
    let page = url("https://news.example/");
    let sub = RequestContext::subresource_of(&page).unwrap();
    assert!(upgraded(
        |u| a.in_context(&sub).upgrade_at(u, t0()).is_upgraded(),
        "known.example"
    ));

    // The session's own entry comes first.
    a.note_at(
        &url("https://www.known.example/"),
        ["max-age=60"],
        Transport::Secure,
        t0(),
    );
    let m = a.lookup_at("www.known.example", t0()).unwrap().unwrap();
    assert_eq!(m.host, "www.known.example");

    // A plain store is read through as it was when the session opened;
    // a shared one, live.
    plain.note_at(
        &url("https://later.example/"),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    shared.note_at(
        &url("https://later.example/"),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    assert_eq!(a.lookup_at("later.example", t0()).unwrap(), None);
    assert!(b.lookup_at("later.example", t0()).unwrap().is_some());
}

#[test]
fn max_age_zero_in_a_session_leaves_the_store_alone() {
    let mut plain = store();
    plain.note_at(
        &url("https://known.example/"),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    let shared = SharedHstsStore::new(plain.clone());
    let mut a = plain.private_session(read_through());
    let mut b = shared.private_session(read_through());
    for s in [&mut a, &mut b] {
        // Known only to the store: nothing of the session's is removed...
        assert_eq!(
            note_zero(s, "known.example"),
            Outcome::Ignored(IgnoreReason::NotKnown)
        );
        // ...and the session still reads the store's entry through.
        assert!(s.lookup_at("known.example", t0()).unwrap().is_some());
        // The session's own entry is removed, and the store's shows again.
        s.note_at(
            &url("https://known.example/"),
            ["max-age=60"],
            Transport::Secure,
            t0(),
        );
        assert_eq!(s.len(), 1);
        assert_eq!(note_zero(s, "known.example"), Outcome::Removed);
        assert_eq!(s.len(), 0);
        let m = s.lookup_at("known.example", t0()).unwrap().unwrap();
        assert_eq!(m.expires, Some(t0() + Duration::seconds(31_536_000)));
    }
    assert!(plain.lookup_at("known.example", t0()).unwrap().is_some());
    assert!(shared.lookup_at("known.example", t0()).unwrap().is_some());
    assert_eq!(shared.changes(), 0);
}

#[test]
fn the_preload_list_and_the_policies_apply_in_a_session() {
    // The preload list: the same for everyone, so an isolated session uses it.
    let session = HstsStore::new().private_session(isolated());
    let m = session.lookup("github.com").unwrap().unwrap();
    assert_eq!(m.source, Source::Preload);

    // The first-party rule and navigation-only upgrades of the store's settings.
    let mut store = HstsStore::with_config(StoreConfig {
        accept_from: AcceptFrom::SameSite,
        navigations_only: true,
        ..config()
    });
    store.note_at(
        &url("https://known.example/"),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    let mut session = store.private_session(read_through());
    let page = url("https://news.example/");
    let sub = RequestContext::subresource_of(&page).unwrap();
    let out = session.in_context(&sub).note_at(
        &url("https://b1.tracker.example/p.gif"),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    assert_eq!(out, Outcome::Ignored(IgnoreReason::ThirdParty));
    assert!(session.is_empty());
    // A subresource sees no dynamic entry, the session's or the store's.
    session.note_at(
        &url("https://mine.example/"),
        [YEAR],
        Transport::Secure,
        t0(),
    );
    for host in ["mine.example", "known.example"] {
        let view = session.in_context(&sub);
        assert!(!upgraded(|u| view.upgrade_at(u, t0()).is_upgraded(), host));
        assert_eq!(view.lookup_at(host, t0()).unwrap(), None);
        assert!(upgraded(
            |u| session.upgrade_at(u, t0()).is_upgraded(),
            host
        ));
    }
}

/// The super-cookie of tests/contexts.rs with the default policy (RFC 6797):
/// a tracker writes 32 bits in a normal session; an isolated private
/// session reads none of them, a read-through one all of them (the option's
/// price, as documented).
#[test]
fn a_super_cookie_written_outside_is_not_read_inside() {
    let mut store = store();
    let id: u32 = 0xA5C3_0F96;
    let news = url("https://news.example/");
    let write = RequestContext::subresource_of(&news).unwrap();
    for bit in (0..32).filter(|b| id >> b & 1 == 1) {
        let pixel = url(&format!("https://b{bit}.tracker.example/p.gif"));
        store
            .in_context(&write)
            .note_at(&pixel, [YEAR], Transport::Secure, t0());
    }
    let shop = url("https://shop.example/");
    let read_ctx = RequestContext::subresource_of(&shop).unwrap();
    let read = |options: PrivateOptions| {
        let mut session = store.private_session(options);
        let view = session.in_context(&read_ctx);
        (0..32)
            .filter(|bit| {
                let plain = url(&format!("http://b{bit}.tracker.example/p.gif"));
                view.upgrade_at(&plain, t0() + Duration::hours(1))
                    .is_upgraded()
            })
            .fold(0u32, |acc, bit| acc | 1 << bit)
    };
    assert_eq!(read(isolated()), 0, "every bit reads as unset");
    assert_eq!(read(read_through()), id);
}
