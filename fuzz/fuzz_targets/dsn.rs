//! The DSN parser with whatever a remote MTA may send as a bounce report.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(dsn) = absender_mail::dsn::parse(data) {
        // Whatever it reads must be printable and bounded once cleaned.
        let text = format!("{dsn:?}");
        assert!(
            absender_core::outside::clean(&text).len()
                <= absender_core::outside::MAX_OUTSIDE_TEXT + 3
        );
    }
});
