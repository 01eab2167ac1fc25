//! The words of absender's own mails, in German and English.

use crate::identity::finding_words::describe;
use absender_core::finding::Finding;
use absender_core::{Locale, Status};
use askama::Template;

/// A notice ready for composition.
pub(crate) struct NoticeText {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl NoticeText {
    /// The same notice with `secret` replaced wherever it appears.
    pub fn redacted(&self, secret: &str) -> NoticeText {
        let hide = |s: &str| s.replace(secret, "[redacted]");
        NoticeText {
            subject: hide(&self.subject),
            text: hide(&self.text),
            html: hide(&self.html),
        }
    }
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

#[derive(Template)]
#[template(path = "notice_mail.html")]
struct NoticeHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    paragraphs: &'a [String],
    findings: Vec<(String, Option<String>)>,
    platform: &'a str,
}

/// A notice made of paragraphs and findings (message, fixing record).
fn notice(
    locale: Locale,
    platform: &str,
    subject: String,
    paragraphs: Vec<String>,
    findings: &[Finding],
) -> NoticeText {
    let findings: Vec<(String, Option<String>)> = findings
        .iter()
        .map(|f| (describe(f, locale), f.fix().map(ToString::to_string)))
        .collect();
    let mut text = paragraphs.join("\n\n");
    for (message, record) in &findings {
        text.push_str(&format!("\n\n- {message}"));
        if let Some(record) = record {
            text.push_str(&format!("\n  {record}"));
        }
    }
    text.push_str(&format!("\n\n-- \n{platform}\n"));
    let html = NoticeHtml {
        lang: locale.as_str(),
        subject: &subject,
        paragraphs: &paragraphs,
        findings,
        platform,
    };
    NoticeText {
        html: html.render().expect("template renders"),
        text,
        subject,
    }
}

/// The mail telling an organization that its identity changed status, or
/// `None` for changes that need no mail.
pub(crate) fn status_change(
    locale: Locale,
    platform: &str,
    address: &str,
    from: Status,
    to: Status,
    findings: &[Finding],
) -> Option<NoticeText> {
    let de = locale == Locale::De;
    let (subject, paragraphs) = match (from, to) {
        (_, Status::Success) => (
            if de {
                format!("{address} ist eingerichtet")
            } else {
                format!("{address} is ready")
            },
            vec![if de {
                format!(
                    "Die Absenderadresse {address} ist bestätigt und alle DNS-Einträge sind geprüft. Sie können sie jetzt in den Versandeinstellungen auswählen; Ihre Mails werden dann für Ihre Domain signiert."
                )
            } else {
                format!(
                    "The sender address {address} is confirmed and all DNS records are verified. You can now choose it in your send settings; your mail will then be signed for your domain."
                )
            }],
        ),
        (Status::Success, Status::TemporaryFailure) => (
            if de {
                format!("Problem mit {address}")
            } else {
                format!("Problem with {address}")
            },
            vec![if de {
                format!(
                    "Bei der regelmäßigen Prüfung von {address} fehlen DNS-Einträge oder sind falsch. Bis das behoben ist, gehen Ihre Mails vom Standardabsender aus, mit {address} als Antwortadresse. Bitte korrigieren Sie diese Einträge innerhalb von 72 Stunden:"
                )
            } else {
                format!(
                    "The regular check of {address} found DNS records missing or wrong. Until this is fixed, your mail goes out from the default sender with {address} as reply-to address. Please correct these records within 72 hours:"
                )
            }],
        ),
        (_, Status::Failed) => (
            if de {
                format!("{address} konnte nicht eingerichtet werden")
            } else {
                format!("{address} could not be set up")
            },
            vec![if de {
                format!(
                    "Die DNS-Einträge für {address} wurden nicht rechtzeitig gefunden. Korrigieren Sie diese Einträge und starten Sie die Prüfung danach neu:"
                )
            } else {
                format!(
                    "The DNS records for {address} were not found in time. Correct these records, then restart the verification:"
                )
            }],
        ),
        _ => return None,
    };
    Some(notice(locale, platform, subject, paragraphs, findings))
}

/// The mail telling an organization (and the operator) that its sending is
/// paused because of its reputation.
pub(crate) fn sending_paused(
    locale: Locale,
    platform: &str,
    org: &str,
    reason: &str,
) -> NoticeText {
    let (subject, paragraphs) = match locale {
        Locale::De => (
            format!("Versand für {org} angehalten"),
            vec![
                format!("Der Versand für {org} ist angehalten: {reason}. So schützt {platform} den Ruf aller Absender."),
                "Neue Mails werden abgelehnt, bis der Betreiber den Versand wieder freigibt. Prüfen Sie vorher Ihre Empfängerlisten: entfernen Sie Adressen, die nicht mehr existieren, und versenden Sie nur an Empfänger, die Ihre Mails erwarten.".to_string(),
            ],
        ),
        Locale::En => (
            format!("Sending paused for {org}"),
            vec![
                format!("Sending for {org} is paused: {reason}. This is how {platform} protects every sender's reputation."),
                "New mail is refused until the operator resumes sending. Before that, check your recipient lists: remove addresses that no longer exist, and send only to recipients who expect your mail.".to_string(),
            ],
        ),
    };
    notice(locale, platform, subject, paragraphs, &[])
}

/// The mail telling an organization that absender disabled one of its
/// webhook destinations.
pub(crate) fn webhook_disabled(locale: Locale, platform: &str, url: &str) -> NoticeText {
    let (subject, paragraphs) = match locale {
        Locale::De => (
            "Webhook abgeschaltet".to_string(),
            vec![
                format!("Seit drei Tagen ist jede Zustellung an {url} fehlgeschlagen. {platform} hat das Ziel deshalb abgeschaltet; Ereignisse gehen dort nicht mehr hin."),
                "Beheben Sie den Fehler beim Empfänger und schalten Sie das Ziel wieder ein (PATCH /api/v1/webhooks/{id} mit \"enabled\": true).".to_string(),
            ],
        ),
        Locale::En => (
            "Webhook disabled".to_string(),
            vec![
                format!("Every delivery to {url} has failed for three days, so {platform} disabled this destination; events no longer go there."),
                "Fix the receiver, then enable the destination again (PATCH /api/v1/webhooks/{id} with \"enabled\": true).".to_string(),
            ],
        ),
    };
    notice(locale, platform, subject, paragraphs, &[])
}

/// The mail with a one-time link that signs the organization in to the web UI.
pub(crate) fn sign_in_link(
    locale: Locale,
    platform: &str,
    org: &str,
    link: &str,
    minutes: u64,
) -> NoticeText {
    let (subject, paragraphs) = match locale {
        Locale::De => (
            format!("Anmelden bei {platform} für {org}"),
            vec![
                format!(
                    "Mit diesem Link melden Sie sich für {org} an. Er gilt {minutes} Minuten und nur einmal:"
                ),
                link.to_string(),
                "Wenn Sie das nicht angefordert haben, können Sie diese Mail ignorieren."
                    .to_string(),
            ],
        ),
        Locale::En => (
            format!("Sign in to {platform} for {org}"),
            vec![
                format!("This link signs you in for {org}. It works once, for {minutes} minutes:"),
                link.to_string(),
                "If you did not ask for it, you can ignore this mail.".to_string(),
            ],
        ),
    };
    notice(locale, platform, subject, paragraphs, &[])
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
    fn status_notices_name_the_fixing_records_and_escape_them() {
        let finding = Finding::RecordMissing {
            fix: absender_core::finding::Fix::new(
                "<x>._domainkey.acme.test",
                absender_core::RecordType::Cname,
                "x.dkim.absender.test",
            ),
        };
        let n = status_change(
            Locale::En,
            "absender",
            "events@acme.test",
            Status::Success,
            Status::TemporaryFailure,
            &[finding],
        )
        .unwrap();
        assert!(n.subject.contains("Problem"));
        assert!(
            n.text
                .contains("<x>._domainkey.acme.test CNAME x.dkim.absender.test")
        );
        assert!(n.html.contains("&#60;x&#62;") || n.html.contains("&lt;x&gt;"));
        let ok = status_change(
            Locale::De,
            "absender",
            "events@acme.test",
            Status::Pending,
            Status::Success,
            &[],
        )
        .unwrap();
        assert!(ok.subject.contains("eingerichtet"));
        assert!(
            status_change(
                Locale::En,
                "absender",
                "a@b.test",
                Status::NotStarted,
                Status::Pending,
                &[]
            )
            .is_none()
        );
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
