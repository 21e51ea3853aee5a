//! Any text through the redactor: nothing panics, well-formed JSON comes
//! back redacted and redacting it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(out) = ctaudit::redact::redact_json(text) {
        assert_eq!(ctaudit::redact::redact_json(&out).as_ref(), Ok(&out));
    }
    let _ = ctaudit::redact::scrub_text(text);
    let _ = ctaudit::redact::payload_text(text);
});
