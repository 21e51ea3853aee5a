//! The store's writer and reader on small frames.
use super::*;
use std::fs::File;

fn frame(records: &[&str]) -> DataFrame {
    frame::from_json(records, true)
}

/// A frame in any order is written in the events frame's order (time,
/// events without one last, then event id), each event once.
#[test]
fn each_day_is_written_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let e = |id: &str, time: &str| {
        format!(r#"{{"eventID":"{id}","eventTime":"{time}","eventName":"X"}}"#)
    };
    let records = [
        e("c", "2026-11-16T12:00:00Z"),
        e("b", "2026-11-16T10:00:00Z"),
        e("a", "2026-11-16T12:00:00Z"),
        e("z", "bad"),
        e("y", "bad"),
        e("b", "2026-11-16T10:00:00Z"),
        e("d", "2026-11-16T09:00:00Z"),
    ];
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    let s = store.append(&frame(&refs)).unwrap();
    assert_eq!((s.added, s.duplicates, s.files_written), (6, 1, 0));
    assert_eq!(store.finish().unwrap(), 2);
    let ids = |day: &str| -> Vec<String> {
        let f = File::open(
            dir.path()
                .join(format!("events/date={day}/part-00000.parquet")),
        );
        let df = ParquetReader::new(f.unwrap()).finish().unwrap();
        let ids = df.column(col::EVENT_ID).unwrap().str().unwrap().clone();
        ids.iter().map(|v| v.unwrap().to_owned()).collect()
    };
    assert_eq!(ids("2026-11-16"), ["d", "b", "a", "c"]);
    assert_eq!(ids("unknown"), ["y", "z"]);
}

/// A part is seen whole or not at all: nothing of an ingest that has
/// not finished is visible, an unfinished one leaves only a temporary
/// file, and the next writer removes it.
#[test]
fn parts_appear_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let a = r#"{"eventID":"a","eventTime":"2026-11-16T10:00:00Z","eventName":"X"}"#;
    let b = r#"{"eventID":"b","eventTime":"2026-11-16T11:00:00Z","eventName":"X"}"#;
    let day = dir.path().join("events/date=2026-11-16");
    let names = || -> Vec<String> {
        fs::read_dir(&day)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    store.append(&frame(&[a])).unwrap();
    store.append(&frame(&[b])).unwrap();
    assert!(Store::files(dir.path()).unwrap().is_empty());
    drop(store); // stopped before finishing
    assert!(Store::files(dir.path()).unwrap().is_empty());
    assert!(names().iter().all(|n| n.ends_with(".tmp")), "{:?}", names());
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    assert!(names().is_empty(), "{:?}", names());
    store.append(&frame(&[a])).unwrap();
    store.append(&frame(&[b])).unwrap();
    assert_eq!(store.finish().unwrap(), 1);
    // Two batches, one part of two row groups.
    assert_eq!(names(), ["part-00000.parquet"]);
    let all = Store::scan(dir.path()).unwrap().collect().unwrap();
    assert_eq!(all.height(), 2);
    // Six days: the store lets the two touched first go, completing their parts.
    let six: Vec<String> = (10..16)
        .map(|d| {
            format!(r#"{{"eventID":"{d}","eventTime":"2026-10-{d}T10:00:00Z","eventName":"X"}}"#)
        })
        .collect();
    let refs: Vec<&str> = six.iter().map(String::as_str).collect();
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    assert_eq!(store.append(&frame(&refs)).unwrap().files_written, 2);
    assert!(
        dir.path()
            .join("events/date=2026-10-11/part-00000.parquet")
            .exists()
    );
    assert!(
        !dir.path()
            .join("events/date=2026-10-12/part-00000.parquet")
            .exists()
    );
    assert_eq!(store.finish().unwrap(), 4);
    let all = Store::scan(dir.path()).unwrap().collect().unwrap();
    assert_eq!(all.height(), 8);
}

#[test]
fn appends_by_day_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let a = r#"{"eventID":"a","eventTime":"2026-11-16T10:00:00Z","eventName":"X"}"#;
    let b = r#"{"eventID":"b","eventTime":"2026-11-17T10:00:00Z","eventName":"X","responseElements":{"credentials":{"sessionToken":"S"}}}"#;
    let c = r#"{"eventID":"c","eventTime":"bad","eventName":"X"}"#;
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    let s = store.append(&frame(&[a, b, c])).unwrap();
    assert_eq!(store.finish().unwrap(), 3);
    assert_eq!(
        s,
        AppendStats {
            added: 3,
            already_stored: 0,
            files_written: 0,
            duplicates: 0,
            sessions_added: 0,
        }
    );
    // Again, with one new event: only it is added, in a new part.
    let d = r#"{"eventID":"d","eventTime":"2026-11-16T11:00:00Z","eventName":"X"}"#;
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    let s = store.append(&frame(&[d, a, b, c, d])).unwrap();
    assert_eq!(store.finish().unwrap(), 1);
    assert_eq!(
        s,
        AppendStats {
            added: 1,
            already_stored: 3,
            files_written: 0,
            duplicates: 1,
            sessions_added: 0,
        }
    );
    let all = Store::scan(dir.path()).unwrap().collect().unwrap();
    assert_eq!(all.height(), 4);
    assert_eq!(all.schema().as_ref(), &frame::schema());
    assert!(
        dir.path()
            .join("events/date=2026-11-16/part-00001.parquet")
            .exists()
    );
    assert!(
        dir.path()
            .join("events/date=unknown/part-00000.parquet")
            .exists()
    );
    let resp = all.column(col::RESPONSE_ELEMENTS).unwrap().str().unwrap();
    assert!(resp.iter().flatten().all(|r| !r.contains("\"S\"")));
}

#[test]
fn scanning_a_missing_store_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let e = Store::scan(&dir.path().join("nope"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("run `ctaudit ingest --store"), "{e}");
}

/// A day whose keys are forgotten has its part completed first, so that
/// reading the keys back from the files finds every event written:
/// batches that touch a day without adding to it must not let the two
/// memories (keys, open parts) drift apart.
#[test]
fn a_forgotten_day_is_read_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let e = |id: &str, day: u32| {
        format!(r#"{{"eventID":"{id}","eventTime":"2026-10-{day:02}T10:00:00Z","eventName":"X"}}"#)
    };
    let batch = |events: &[String]| frame(&events.iter().map(String::as_str).collect::<Vec<_>>());
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    store
        .append(&batch(&[e("1", 1), e("2", 2), e("3", 3), e("4", 4)]))
        .unwrap();
    // Day 1 touched with nothing new, day 5 new: day 2's keys are forgotten.
    store.append(&batch(&[e("1", 1), e("5", 5)])).unwrap();
    // Day 2's event again: already stored.
    let s = store.append(&batch(&[e("2", 2)])).unwrap();
    assert_eq!((s.added, s.already_stored), (0, 1));
    store.finish().unwrap();
    let all = Store::scan(dir.path()).unwrap().collect().unwrap();
    assert_eq!(all.height(), 5);
}

/// Sessions are kept like events: each key once a day, however the
/// batches and the days the writer remembers fall, and a day forgotten
/// and touched again is read back from its files.
#[test]
fn sessions_are_written_once_across_batches_and_forgotten_days() {
    let dir = tempfile::tempdir().unwrap();
    let assume = |day: u32| {
        format!(
            r#"{{"eventID":"s{day}","eventTime":"2026-10-{day:02}T10:00:00Z","eventName":"AssumeRoleWithWebIdentity",
            "requestParameters":{{"roleArn":"arn:aws:iam::1:role/r"}},
            "responseElements":{{"credentials":{{"accessKeyId":"ASIA{day}","sessionToken":"T"}},"subjectFromWebIdentityToken":"repo:o/r:ref:refs/heads/main"}}}}"#
        )
    };
    let use_key = |id: &str, day: u32, hour: u32| {
        format!(
            r#"{{"eventID":"{id}","eventTime":"2026-10-{day:02}T{hour:02}:00:00Z","eventName":"X","userIdentity":{{"accessKeyId":"AKIAUSER"}}}}"#
        )
    };
    let batch = |events: &[String]| frame(&events.iter().map(String::as_str).collect::<Vec<_>>());
    let days: Vec<String> = (1..=6).map(assume).collect();
    let mut store = Store::create(dir.path(), Wait::Refuse).unwrap();
    let mut added = store.append(&batch(&days)).unwrap().sessions_added;
    // The same again (days 1 and 2 were forgotten), and a long-lived key
    // used twice on day 1 and once on day 6, over two batches.
    added += store.append(&batch(&days)).unwrap().sessions_added;
    added += store
        .append(&batch(&[use_key("k1", 1, 12), use_key("k2", 1, 9)]))
        .unwrap()
        .sessions_added;
    added += store
        .append(&batch(&[use_key("k3", 6, 8), use_key("k1", 1, 12)]))
        .unwrap()
        .sessions_added;
    store.finish().unwrap();
    assert_eq!(added, 8);
    let table = Store::sessions(dir.path())
        .unwrap()
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(table.height(), 8);
    let of = |name: &str| -> Vec<Option<String>> {
        let c = table.column(name).unwrap().str().unwrap().clone();
        c.iter().map(|v| v.map(str::to_string)).collect()
    };
    let kinds = of(sessions::KIND);
    let keys = of(col::ISSUED_ACCESS_KEY_ID);
    let ids = of(col::EVENT_ID);
    let long: Vec<(Option<String>, Option<String>)> = (0..8)
        .filter(|&i| kinds[i].as_deref() == Some(sessions::LONG_LIVED_KIND))
        .map(|i| (keys[i].clone(), ids[i].clone()))
        .collect();
    // Day 1's first use (k2, at 09:00), and day 6's.
    assert_eq!(
        long,
        [
            (Some("AKIAUSER".into()), Some("k2".into())),
            (Some("AKIAUSER".into()), Some("k3".into()))
        ]
    );
}

#[test]
fn folders_are_exchanged_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    fs::create_dir(&a).unwrap();
    fs::create_dir(&b).unwrap();
    fs::write(a.join("x"), "new").unwrap();
    fs::write(b.join("y"), "old").unwrap();
    rebuild::exchange(&a, &b).unwrap();
    assert!(b.join("x").exists() && !b.join("y").exists());
    assert!(a.join("y").exists() && !a.join("x").exists());
}

/// A session's expiry: the duration asked for when STS would accept it,
/// else its default hour (a forged huge duration cannot overflow it).
#[test]
fn a_sessions_expiry_follows_an_acceptable_duration() {
    let assume = |id: &str, duration: &str| {
        format!(
            r#"{{"eventID":"{id}","eventTime":"2026-10-01T10:00:00Z","eventName":"AssumeRoleWithWebIdentity",
            "requestParameters":{{"roleArn":"arn:aws:iam::1:role/r","durationSeconds":{duration}}},
            "responseElements":{{"credentials":{{"accessKeyId":"ASIA{id}","sessionToken":"T"}}}}}}"#
        )
    };
    let records = [
        assume("a", "7200"),
        assume("b", "99999999999999999"),
        assume("c", "-5"),
        assume("d", "\"soon\""),
    ];
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    let found = sessions::of_events(frame(&refs).lazy()).collect().unwrap();
    let millis = |name: &str| -> Vec<i64> {
        let c = found.column(name).unwrap().as_materialized_series();
        let c = c.to_physical_repr();
        c.i64().unwrap().iter().map(Option::unwrap).collect()
    };
    let (start, expiry) = (
        millis(sessions::SESSION_START),
        millis(sessions::SESSION_EXPIRY),
    );
    let hours: Vec<i64> = (0..4).map(|i| (expiry[i] - start[i]) / 3_600_000).collect();
    assert_eq!(hours, [2, 1, 1, 1]);
}
