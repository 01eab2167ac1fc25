//! The address parser (IDN included): an address that parses prints back
//! to itself, and what it prints parses to the same address.
#![no_main]

use absender_core::address::{Domain, EmailAddress};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(address) = EmailAddress::parse(input) {
        let printed = address.to_string();
        assert_eq!(
            EmailAddress::parse(&printed).as_ref(),
            Ok(&address),
            "{printed}"
        );
    }
    if let Ok(domain) = Domain::parse(input) {
        assert_eq!(Domain::parse(domain.as_str()).as_ref(), Ok(&domain));
        let _ = domain.to_unicode();
    }
});
