use super::*;

#[derive(Default)]
struct Names {
    names: Vec<String>,
    not_events: usize,
}

impl EventSink for Names {
    fn event(&mut self, ev: &RawEvent<'_>) {
        self.names
            .push(ev.event_name.as_str().unwrap_or("?").to_string());
    }
    fn not_an_event(&mut self) {
        self.not_events += 1;
    }
}

fn read(text: &str) -> (Names, Outcome) {
    let mut sink = Names::default();
    let out = read_events(text.as_bytes(), &mut sink);
    (sink, out)
}

#[test]
fn invalid_utf8_keeps_the_records_before_it_and_says_where() {
    let mut bytes = "{\"Records\":[{\"eventName\":\"Aé\"},{\"eventName\":\"B"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"\xff\"}]}");
    let mut sink = Names::default();
    let out = read_events(&bytes, &mut sink);
    assert_eq!(sink.names, ["Aé"]);
    let err = out.error.expect("damage reported");
    assert_eq!(err.record, Some(1));
    assert!(err.message.contains("unicode"), "{}", err.message);
    assert_eq!((err.line, err.column), (1, 48));
}

#[test]
fn records_object() {
    let (s, o) = read(r#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}"#);
    assert_eq!(s.names, ["A", "B"]);
    assert_eq!(o.container, Container::Records);
    assert!(o.error.is_none());
}

#[test]
fn concatenated_records_objects() {
    let (s, o) =
        read("{\"Records\":[{\"eventName\":\"A\"}]}\n{\"Records\":[{\"eventName\":\"B\"}]}\n");
    assert_eq!(s.names, ["A", "B"]);
    assert_eq!(o.container, Container::Records);
}

#[test]
fn bare_array_with_junk_elements() {
    let (s, o) = read(r#"[{"eventName":"A"}, 3, null, {"eventNameWrong":1}, {"eventName":"B"}]"#);
    // An object in an array is a record, whatever its keys.
    assert_eq!(s.names, ["A", "?", "B"]);
    assert_eq!(s.not_events, 2);
    assert_eq!(o.container, Container::Array);
}

#[test]
fn json_lines_keep_lines_after_a_damaged_one() {
    let (s, o) = read("{\"eventName\":\"A\"}\n{\"eventName\":\n\n{\"eventName\":\"C\"}\n");
    assert_eq!(s.names, ["A", "C"]);
    assert_eq!(o.container, Container::JsonLines);
    let e = o.error.unwrap();
    assert_eq!((e.record, e.line), (Some(1), 2));
}

#[test]
fn loose_objects_without_cloudtrail_fields_are_not_events() {
    let (s, _) = read("{\"eventName\":\"A\"}\n{\"name\":\"my-package\"}\n");
    assert_eq!(s.names, ["A"]);
    assert_eq!(s.not_events, 1);
}

#[test]
fn pretty_printed_objects_one_after_another() {
    let (s, o) = read("{\n \"eventName\": \"A\"\n}\n{\n \"eventName\": \"B\"\n}\n");
    assert_eq!(s.names, ["A", "B"]);
    assert_eq!(o.container, Container::Concatenated);
}

#[test]
fn lookup_events_output() {
    let inner =
        r#"{\"eventName\":\"AssumeRoleWithWebIdentity\",\"eventTime\":\"2026-01-01T00:00:00Z\"}"#;
    let text =
        format!(r#"{{"Events":[{{"EventId":"x","CloudTrailEvent":"{inner}"}}],"NextToken":"t"}}"#);
    let (s, o) = read(&text);
    assert_eq!(s.names, ["AssumeRoleWithWebIdentity"]);
    assert_eq!(o.container, Container::LookupEvents);
    // The `Events` array alone (`--query Events`).
    let (s, _) = read(&format!(r#"[{{"CloudTrailEvent":"{inner}"}}]"#));
    assert_eq!(s.names, ["AssumeRoleWithWebIdentity"]);
}

#[test]
fn digest_file_is_recognised() {
    let (s, o) =
        read(r#"{"awsAccountId":"1","digestStartTime":"2026-01-01T00:00:00Z","logFiles":[]}"#);
    assert!(s.names.is_empty());
    assert_eq!(o.container, Container::Digest);
}

#[test]
fn damaged_records_keep_what_came_before() {
    let (s, o) = read(r#"{"Records":[{"eventName":"A"},{"eventName":"B"} {"eventName":"C"}]}"#);
    assert_eq!(s.names, ["A", "B"]);
    let e = o.error.unwrap();
    assert_eq!(e.record, Some(2));
    assert!(e.to_string().starts_with("record 2, line 1 column"), "{e}");
}

#[test]
fn truncated_file_keeps_what_came_before() {
    let (s, o) = read(r#"{"Records":[{"eventName":"A"},{"eventName":"B"},{"eventNa"#);
    assert_eq!(s.names, ["A", "B"]);
    assert!(o.error.is_some());
}

#[test]
fn empty_and_non_json() {
    assert_eq!(read("  \n").1.container, Container::Empty);
    assert!(read("hello").1.error.is_some());
}
