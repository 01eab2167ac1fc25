//! Properties of the composed-message path (the fuzz target `compose` checks
//! the same with libFuzzer): a composed message parses back with the same
//! sender, recipients, subject and headers, and has no bare CR or LF.

use absender_mail::compose::{Outgoing, message};
use proptest::prelude::*;

/// Whitespace may be folded, the words never change.
fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_composed_message_parses_back_with_the_same_headers(
        // Printable text without "=?" (which readers take for an encoded word).
        subject in "[^\\p{Cc}=]{0,200}",
        from_name in proptest::option::of("[^\\p{Cc}=\"]{1,40}"),
        booking in "[^\\p{Cc}]{0,60}",
        body in any::<String>(),
        to in proptest::collection::vec("[a-z]{1,10}@[a-z]{1,10}\\.test", 1..4),
    ) {
        let mail = Outgoing {
            from_name: from_name.clone(),
            from: "events@acme.test".into(),
            to: to.clone(),
            subject: subject.clone(),
            text: Some(body),
            headers: vec![("X-Booking".into(), booking.clone())],
            message_id_local: "msg_1".into(),
            message_id_domain: "acme.test".into(),
            date_unix: 1_700_000_000,
            ..Outgoing::default()
        };
        let raw = message(&mail);
        for (i, b) in raw.iter().enumerate() {
            match b {
                b'\n' => prop_assert!(i > 0 && raw[i - 1] == b'\r', "bare LF at {}", i),
                b'\r' => prop_assert!(raw.get(i + 1) == Some(&b'\n'), "bare CR at {}", i),
                _ => {}
            }
        }
        let parsed = mail_parser::MessageParser::default().parse(&raw).expect("parses");
        let from = parsed.from().and_then(|f| f.first()).expect("a From");
        prop_assert_eq!(from.address(), Some("events@acme.test"));
        if let Some(name) = &from_name {
            prop_assert_eq!(words(from.name().unwrap_or("")), words(name));
        }
        let got_to: Vec<String> = parsed
            .to()
            .map(|t| t.iter().filter_map(|a| a.address()).map(str::to_string).collect())
            .unwrap_or_default();
        prop_assert_eq!(got_to, to);
        prop_assert_eq!(words(parsed.subject().unwrap_or("")), words(&subject));
        // mail-parser leaves unknown headers encoded: decode as a reader would.
        let raw_header = format!("{}\r\n", parsed.header_raw("X-Booking").unwrap_or_default());
        let header = mail_parser::parsers::MessageStream::new(raw_header.as_bytes())
            .parse_unstructured()
            .as_text()
            .map(words)
            .unwrap_or_default();
        prop_assert_eq!(header, words(&booking));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever an organization writes into a subject, a display name or a
    /// header value (CR, LF and all), no header is added: no injected Bcc, no
    /// second From, the recipients unchanged.
    #[test]
    fn no_text_adds_a_header(
        subject in any::<String>(),
        from_name in any::<String>(),
        booking in any::<String>(),
    ) {
        let mail = Outgoing {
            from_name: Some(from_name),
            from: "events@acme.test".into(),
            to: vec!["guest@example.test".into()],
            subject,
            text: Some("Danke!".into()),
            headers: vec![("X-Booking".into(), booking)],
            message_id_local: "msg_1".into(),
            message_id_domain: "acme.test".into(),
            date_unix: 1_700_000_000,
            ..Outgoing::default()
        };
        let raw = message(&mail);
        let parsed = mail_parser::MessageParser::default().parse(&raw).expect("parses");
        let mut names: Vec<String> = parsed
            .headers()
            .iter()
            .map(|h| h.name().to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        let allowed = ["content-transfer-encoding", "content-type", "date", "from", "message-id", "mime-version", "subject", "to", "x-booking"];
        for name in &names {
            prop_assert!(allowed.contains(&name.as_str()), "an added header {}: {:?}", name, names);
        }
        prop_assert_eq!(parsed.from().map(|f| f.iter().count()), Some(1));
        let to: Vec<&str> = parsed.to().map(|t| t.iter().filter_map(|a| a.address()).collect()).unwrap_or_default();
        prop_assert_eq!(to, ["guest@example.test"]);
    }
}
