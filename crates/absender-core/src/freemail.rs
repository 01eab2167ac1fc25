//! Mailbox providers whose domains no customer can publish DNS records for.

/// Domains of large free mail providers (lowercase A-labels).
const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "outlook.de",
    "hotmail.com",
    "hotmail.de",
    "live.com",
    "live.de",
    "msn.com",
    "yahoo.com",
    "yahoo.de",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "aol.de",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "gmx.com",
    "web.de",
    "t-online.de",
    "freenet.de",
    "arcor.de",
    "posteo.de",
    "mailbox.org",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "tutanota.com",
    "tuta.io",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "mail.com",
    "email.de",
    "online.de",
    "1und1.de",
];

/// Whether `domain` (A-labels) belongs to a free mail provider.
pub fn is_freemail(domain: &str) -> bool {
    FREEMAIL.contains(&domain)
}

#[cfg(test)]
mod tests {
    #[test]
    fn big_providers_are_freemail_and_customers_are_not() {
        assert!(
            super::is_freemail("gmail.com")
                && super::is_freemail("web.de")
                && super::is_freemail("gmx.de")
        );
        assert!(!super::is_freemail("acme.test") && !super::is_freemail("mail.acme.com"));
    }
}
