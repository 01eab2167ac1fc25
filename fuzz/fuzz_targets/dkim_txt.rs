//! The DKIM check comparing what a customer published (CNAME targets, TXT
//! at the selector name) with absender's key, or with the organization's
//! own key (bring-your-own DKIM).
#![no_main]

use absender_core::Locale;
use absender_core::check::{Answer, SelectorObservation, check_dkim};
use absender_service::identity::finding_words::describe;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(2, '\u{0}');
    let (cname, txt) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    for expected_target in [Some("s1.dkim.absender.test".to_string()), None] {
        check(cname, txt, expected_target);
    }
});

fn check(cname: &str, txt: &str, expected_target: Option<String>) {
    let observation = SelectorObservation {
        name: "s1._domainkey.acme.test".into(),
        expected_target,
        public_key: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA".into(),
        cnames: if cname.is_empty() {
            Answer::NoData
        } else {
            Answer::Records(vec![cname.to_string()])
        },
        txts: if txt.is_empty() {
            Answer::NoData
        } else {
            Answer::Records(vec![txt.to_string()])
        },
        doubled_exists: false,
    };
    for finding in check_dkim(&[observation]).findings {
        for locale in Locale::ALL {
            assert!(!describe(&finding, locale).chars().any(char::is_control));
        }
    }
}
