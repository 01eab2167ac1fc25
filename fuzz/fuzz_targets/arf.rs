//! The ARF parser with whatever anyone may send to a feedback address.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(report) = absender_mail::arf::parse(data) {
        // A report always says what kind it is; a not-spam report is no complaint.
        assert!(!report.feedback_type.is_empty());
        assert!(!(report.is_complaint() && report.feedback_type == "not-spam"));
    }
});
