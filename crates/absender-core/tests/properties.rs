//! Properties of the address parser (the fuzz target `address` checks the
//! same with libFuzzer): an address that parses prints back to itself, and
//! what it prints parses to the same address; nothing panics.

use absender_core::{Domain, EmailAddress};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_address_that_parses_prints_back_to_itself(
        local in "[A-Za-z0-9._%+-]{1,24}",
        labels in proptest::collection::vec("[a-z0-9äöüßéñ-]{1,12}", 1..4),
        tld in "[a-z]{2,6}",
    ) {
        let input = format!("{local}@{}.{tld}", labels.join("."));
        if let Ok(address) = EmailAddress::parse(&input) {
            let printed = address.to_string();
            prop_assert_eq!(EmailAddress::parse(&printed), Ok(address.clone()));
            // The domain is kept in its ASCII (punycode) form, lower case.
            prop_assert!(address.domain().as_str().is_ascii());
            prop_assert_eq!(address.domain().as_str(), address.domain().as_str().to_ascii_lowercase());
        }
    }

    #[test]
    fn a_plain_ascii_address_always_parses(
        local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]",
        labels in proptest::collection::vec("[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", 1..4),
        tld in "[a-z]{2,6}",
    ) {
        prop_assume!(!local.contains(".."));
        // Labels with "--" in the third and fourth place are reserved for
        // encodings (RFC 5891 §4.2.3.1): "xn--…" must be valid punycode.
        prop_assume!(!labels.iter().any(|l| l.get(2..4) == Some("--")));
        let input = format!("{local}@{}.{tld}", labels.join("."));
        let address = EmailAddress::parse(&input);
        prop_assert!(address.is_ok(), "{} refused: {:?}", input, address);
        prop_assert_eq!(address.unwrap().to_string(), input);
    }

    #[test]
    fn any_text_parses_or_is_refused_without_panicking(input in any::<String>()) {
        if let Ok(address) = EmailAddress::parse(&input) {
            prop_assert_eq!(EmailAddress::parse(&address.to_string()), Ok(address.clone()));
        }
        if let Ok(domain) = Domain::parse(&input) {
            prop_assert_eq!(Domain::parse(domain.as_str()), Ok(domain.clone()));
        }
    }
}
