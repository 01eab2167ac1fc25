//! The SPF policy check with any TXT a customer's zone may hold.
#![no_main]

use absender_core::Locale;
use absender_core::check::{Answer, SpfObservation, check_spf, is_spf, spf_syntax_error};
use absender_service::identity::finding_words::describe;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(policy) = std::str::from_utf8(data) else {
        return;
    };
    let _ = is_spf(policy);
    let _ = spf_syntax_error(policy);
    let observation = SpfObservation {
        domain: "acme.test".into(),
        txts: Answer::Records(policy.split('\n').map(str::to_string).collect()),
        lint: None,
        evaluations: Vec::new(),
    };
    let checked = check_spf(
        &observation,
        "spf.absender.test",
        "v=spf1 include:spf.absender.test ~all",
    );
    // What the customer wrote reaches the words cleaned: no control characters.
    for finding in &checked.findings {
        for locale in Locale::ALL {
            assert!(!describe(finding, locale).chars().any(char::is_control));
        }
    }
});
