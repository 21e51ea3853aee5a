//! Any text as a policy file: parsed or refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = ctaudit::policy::Policy::parse(text);
});
