//! The words of absender's own mails, in German and English.

use absender_core::Locale;
use askama::Template;

/// A notice ready for composition.
pub(crate) struct NoticeText {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "verification_mail.txt")]
struct VerificationText<'a> {
    de: bool,
    org: &'a str,
    address: &'a str,
    platform: &'a str,
    link: &'a str,
    hours: u64,
}

#[derive(Template)]
#[template(path = "verification_mail.html")]
struct VerificationHtml<'a> {
    de: bool,
    subject: &'a str,
    org: &'a str,
    address: &'a str,
    platform: &'a str,
    link: &'a str,
    hours: u64,
}

/// The mail asking the address owner to confirm.
pub(crate) fn verification(
    locale: Locale,
    org: &str,
    address: &str,
    platform: &str,
    link: &str,
    hours: u64,
) -> NoticeText {
    let de = locale == Locale::De;
    let subject = match locale {
        Locale::De => format!("Bitte bestätigen: {org} möchte von {address} senden"),
        Locale::En => format!("Please confirm: {org} would like to send from {address}"),
    };
    let text = VerificationText {
        de,
        org,
        address,
        platform,
        link,
        hours,
    };
    let html = VerificationHtml {
        de,
        subject: &subject,
        org,
        address,
        platform,
        link,
        hours,
    };
    NoticeText {
        text: text.render().expect("template renders"),
        html: html.render().expect("template renders"),
        subject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_mail_speaks_the_organizations_language() {
        let de = verification(
            Locale::De,
            "Acme",
            "events@acme.test",
            "absender",
            "http://x/verify/t",
            24,
        );
        assert!(de.subject.contains("bestätigen"));
        assert!(de.text.contains("24 Stunden") && de.text.contains("http://x/verify/t"));
        let en = verification(
            Locale::En,
            "Acme",
            "events@acme.test",
            "absender",
            "http://x/verify/t",
            24,
        );
        assert!(en.text.contains("24 hours"));
    }

    #[test]
    fn organization_names_cannot_inject_html() {
        let n = verification(
            Locale::En,
            "<script>x</script>",
            "a@b.test",
            "absender",
            "http://x",
            24,
        );
        assert!(!n.html.contains("<script>"));
        assert!(n.html.contains("&#60;script&#62;") || n.html.contains("&lt;script&gt;"));
    }
}
