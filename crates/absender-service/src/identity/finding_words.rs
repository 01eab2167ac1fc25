//! The words for each finding, in every language absender speaks: what is
//! wrong and what to do, for people who are not DNS experts. The API, the
//! pages and the notices all say a finding this way.

use absender_core::Locale;
use absender_core::finding::Finding;

/// What `finding` means and what to do, in `locale`.
pub fn describe(finding: &Finding, locale: Locale) -> String {
    match locale {
        Locale::De => german(finding),
        Locale::En => english(finding),
    }
}

fn german(finding: &Finding) -> String {
    match finding {
        Finding::DnsTimeout { name } => format!(
            "Der DNS-Server für {name} hat nicht rechtzeitig geantwortet. Wir versuchen es automatisch erneut."
        ),
        Finding::DnsServfail { name } => format!(
            "Der DNS-Server für {name} hat mit einem Fehler geantwortet (SERVFAIL). Wir versuchen es automatisch erneut; hält das an, fragen Sie Ihren DNS-Anbieter."
        ),
        Finding::RecordMissing { fix } => match fix.record_type {
            absender_core::RecordType::Mx => format!(
                "Der MX-Eintrag für {} fehlt. Legen Sie ihn bei Ihrem DNS-Anbieter an.",
                fix.name
            ),
            other => format!(
                "Der {}-Eintrag {} fehlt. Legen Sie ihn bei Ihrem DNS-Anbieter an.",
                other.as_str(),
                fix.name
            ),
        },
        Finding::CnameWrongTarget { fix, found } => format!(
            "Der CNAME-Eintrag {} zeigt auf {}, muss aber auf {} zeigen.",
            fix.name,
            found.join(", "),
            fix.value
        ),
        Finding::CnameWithOtherData { fix } => format!(
            "Bei {} steht neben dem CNAME-Eintrag noch ein TXT-Eintrag. Ein CNAME darf nicht neben anderen Einträgen stehen: löschen Sie den TXT-Eintrag.",
            fix.name
        ),
        Finding::TxtInsteadOfCname { fix } => format!(
            "Bei {} steht ein TXT-Eintrag. Dort gehört ein CNAME-Eintrag hin, der auf {} zeigt: ersetzen Sie den TXT-Eintrag.",
            fix.name, fix.value
        ),
        Finding::CnameInsteadOfTxt { fix, found } => format!(
            "Bei {} steht ein CNAME-Eintrag (auf {}). Ihr eigener Schlüssel gehört dort als TXT-Eintrag hin: löschen Sie den CNAME-Eintrag und legen Sie den TXT-Eintrag an.",
            fix.name,
            found.join(", ")
        ),
        Finding::DkimKeyMismatch { fix } => format!(
            "Der TXT-Eintrag {} veröffentlicht einen anderen Schlüssel als den, den Sie hinterlegt haben. Ersetzen Sie seinen Wert durch den angegebenen.",
            fix.name
        ),
        Finding::DkimMultipleRecords { fix, count } => match fix.record_type {
            absender_core::RecordType::Txt => format!(
                "Bei {} stehen {count} TXT-Einträge; ein Schlüssel braucht genau einen Eintrag. Behalten Sie nur den mit Ihrem Schlüssel.",
                fix.name
            ),
            _ => format!(
                "Bei {} stehen {count} TXT-Einträge; ein Schlüssel braucht genau einen Eintrag. Löschen Sie sie und legen Sie den CNAME-Eintrag an.",
                fix.name
            ),
        },
        Finding::DomainAppendedTwice { fix } => format!(
            "Der Eintrag steht unter {} mit doppelt angehängter Domain. Ihr DNS-Anbieter hängt die Domain selbst an: tragen Sie als Namen nur den Teil vor der Domain ein.",
            fix.name
        ),
        Finding::SpfMissing { fix } => format!(
            "{} hat keinen SPF-Eintrag. Legen Sie diesen TXT-Eintrag an.",
            fix.name
        ),
        Finding::SpfMultipleRecords {
            fix,
            count,
            include,
        } => format!(
            "{} hat {count} SPF-Einträge; erlaubt ist genau einer, sonst ist keiner gültig. Fassen Sie sie zu einem Eintrag zusammen, der include:{include} enthält.",
            fix.name
        ),
        Finding::SpfTooManyLookups { fix, limit } => format!(
            "Der SPF-Eintrag von {} braucht mehr als {limit} DNS-Abfragen (mit allen include- und redirect-Angaben); darüber ist er ungültig. Entfernen Sie nicht mehr benötigte include-Angaben.",
            fix.name
        ),
        Finding::SpfTooManyVoidLookups { fix, limit } => format!(
            "Der SPF-Eintrag von {} verweist auf mehr als {limit} Namen, die es nicht gibt oder die keinen Eintrag haben; darüber ist er ungültig. Entfernen Sie diese include-Angaben.",
            fix.name
        ),
        Finding::SpfSyntax { fix, found } => format!(
            "Der SPF-Eintrag von {} ist fehlerhaft geschrieben: „{found}“. Ersetzen Sie ihn durch den angegebenen Eintrag.",
            fix.name
        ),
        Finding::SpfNotAuthorized {
            fix,
            include,
            all_first: Some(all),
        } => format!(
            "Im SPF-Eintrag von {} steht „{all}“ vor include:{include}. Alles nach „{all}“ wird ignoriert: setzen Sie include:{include} davor.",
            fix.name
        ),
        Finding::SpfNotAuthorized {
            fix,
            include,
            all_first: None,
        } => format!(
            "Der SPF-Eintrag von {} erlaubt unseren Servern nicht, für Sie zu senden. Ergänzen Sie include:{include} vor der all-Angabe.",
            fix.name
        ),
        Finding::MxWrongTarget { fix, found } => format!(
            "Der MX-Eintrag von {} zeigt auf {}, muss aber auf {} zeigen, damit Rückläufer bei uns ankommen.",
            fix.name,
            found.join(", "),
            mx_host(&fix.value)
        ),
        Finding::DmarcMissing { fix } => format!(
            "Empfehlung: {} hat keinen DMARC-Eintrag. Mit einem DMARC-Eintrag erkennen Postfächer gefälschte Mails Ihrer Domain besser. Die Einrichtung blockiert das nicht.",
            dmarc_domain(&fix.name)
        ),
    }
}

fn english(finding: &Finding) -> String {
    match finding {
        Finding::DnsTimeout { name } => format!(
            "The DNS server for {name} did not answer in time. We will try again automatically."
        ),
        Finding::DnsServfail { name } => format!(
            "The DNS server for {name} answered with an error (SERVFAIL). We will try again automatically; if it persists, ask your DNS provider."
        ),
        Finding::RecordMissing { fix } => match fix.record_type {
            absender_core::RecordType::Mx => format!(
                "The MX record for {} is missing. Create it at your DNS provider.",
                fix.name
            ),
            other => format!(
                "The {} record {} is missing. Create it at your DNS provider.",
                other.as_str(),
                fix.name
            ),
        },
        Finding::CnameWrongTarget { fix, found } => format!(
            "The CNAME record {} points to {} but must point to {}.",
            fix.name,
            found.join(", "),
            fix.value
        ),
        Finding::CnameWithOtherData { fix } => format!(
            "{} has a TXT record beside its CNAME record. A CNAME must stand alone: delete the TXT record.",
            fix.name
        ),
        Finding::TxtInsteadOfCname { fix } => format!(
            "{} has a TXT record. A CNAME record pointing to {} belongs there: replace the TXT record.",
            fix.name, fix.value
        ),
        Finding::CnameInsteadOfTxt { fix, found } => format!(
            "{} has a CNAME record (to {}). Your own key belongs there as a TXT record: delete the CNAME record and create the TXT record.",
            fix.name,
            found.join(", ")
        ),
        Finding::DkimKeyMismatch { fix } => format!(
            "The TXT record {} publishes another key than the one you gave absender. Replace its value with the one shown.",
            fix.name
        ),
        Finding::DkimMultipleRecords { fix, count } => match fix.record_type {
            absender_core::RecordType::Txt => format!(
                "{} has {count} TXT records; a key needs exactly one record. Keep only the one with your key.",
                fix.name
            ),
            _ => format!(
                "{} has {count} TXT records; a key needs exactly one record. Delete them and create the CNAME record.",
                fix.name
            ),
        },
        Finding::DomainAppendedTwice { fix } => format!(
            "The record was created with the domain appended twice (under {} plus the domain again). Your DNS provider appends the domain itself: enter only the part before the domain as the name.",
            fix.name
        ),
        Finding::SpfMissing { fix } => {
            format!("{} has no SPF record. Create this TXT record.", fix.name)
        }
        Finding::SpfMultipleRecords {
            fix,
            count,
            include,
        } => format!(
            "{} has {count} SPF records; exactly one is allowed, otherwise none counts. Merge them into one record that contains include:{include}.",
            fix.name
        ),
        Finding::SpfTooManyLookups { fix, limit } => format!(
            "The SPF record of {} needs more than {limit} DNS lookups (counting every include and redirect); beyond that it is invalid. Remove includes that are no longer needed.",
            fix.name
        ),
        Finding::SpfTooManyVoidLookups { fix, limit } => format!(
            "The SPF record of {} refers to more than {limit} names that do not exist or hold no record; beyond that it is invalid. Remove those includes.",
            fix.name
        ),
        Finding::SpfSyntax { fix, found } => format!(
            "The SPF record of {} is malformed: \"{found}\". Replace it with the record shown.",
            fix.name
        ),
        Finding::SpfNotAuthorized {
            fix,
            include,
            all_first: Some(all),
        } => format!(
            "The SPF record of {} has \"{all}\" before include:{include}. Everything after \"{all}\" is ignored: put include:{include} before it.",
            fix.name
        ),
        Finding::SpfNotAuthorized {
            fix,
            include,
            all_first: None,
        } => format!(
            "The SPF record of {} does not allow our servers to send for you. Add include:{include} before the all term.",
            fix.name
        ),
        Finding::MxWrongTarget { fix, found } => format!(
            "The MX record of {} points to {} but must point to {}, so that bounces reach us.",
            fix.name,
            found.join(", "),
            mx_host(&fix.value)
        ),
        Finding::DmarcMissing { fix } => format!(
            "Advice: {} has no DMARC record. With one, mailboxes recognise forged mail from your domain better. This does not block the setup.",
            dmarc_domain(&fix.name)
        ),
    }
}

/// The host of an MX value (`10 bounce.absender.test`).
fn mx_host(value: &str) -> &str {
    value.split_whitespace().last().unwrap_or(value)
}

/// The domain a DMARC record is for (`_dmarc.<domain>`).
fn dmarc_domain(name: &str) -> &str {
    name.strip_prefix("_dmarc.").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use absender_core::RecordType;
    use absender_core::finding::Fix;

    #[test]
    fn every_finding_reads_in_every_language_with_its_parameters() {
        let cname = Fix::new(
            "s1._domainkey.acme.test",
            RecordType::Cname,
            "s1.dkim.absender.test",
        );
        let wrong = Finding::CnameWrongTarget {
            fix: cname.clone(),
            found: vec!["other.example.".into()],
        };
        assert_eq!(
            describe(&wrong, Locale::En),
            "The CNAME record s1._domainkey.acme.test points to other.example. but must point to s1.dkim.absender.test."
        );
        assert_eq!(
            describe(&wrong, Locale::De),
            "Der CNAME-Eintrag s1._domainkey.acme.test zeigt auf other.example., muss aber auf s1.dkim.absender.test zeigen."
        );
        let mx = Finding::RecordMissing {
            fix: Fix::new(
                "bounce.acme.test",
                RecordType::Mx,
                "10 bounce.absender.test",
            ),
        };
        assert!(describe(&mx, Locale::De).starts_with("Der MX-Eintrag für bounce.acme.test fehlt"));
        let dmarc = Finding::DmarcMissing {
            fix: Fix::new("_dmarc.acme.test", RecordType::Txt, "v=DMARC1; p=none"),
        };
        assert!(describe(&dmarc, Locale::En).starts_with("Advice: acme.test has no DMARC"));
        let own = Fix::new(
            "s1._domainkey.acme.test",
            RecordType::Txt,
            "v=DKIM1; k=rsa; p=K",
        );
        let cname_left = Finding::CnameInsteadOfTxt {
            fix: own.clone(),
            found: vec!["x.dkim.absender.test.".into()],
        };
        assert!(describe(&cname_left, Locale::En).contains("(to x.dkim.absender.test.)"));
        assert!(describe(&cname_left, Locale::De).contains("als TXT-Eintrag"));
        let several = Finding::DkimMultipleRecords { fix: own, count: 2 };
        assert!(describe(&several, Locale::En).ends_with("Keep only the one with your key."));
    }

    #[test]
    fn the_english_words_rebuild_the_finding_they_describe() {
        // Rows written before findings were data are rebuilt from these words.
        let fix = Fix::new(
            "acme.test",
            RecordType::Txt,
            "v=spf1 include:spf.absender.test ~all",
        );
        let name = "s1._domainkey.acme.test";
        let cname = Fix::new(name, RecordType::Cname, "s1.dkim.absender.test");
        let mx = Fix::new(
            "bounce.acme.test",
            RecordType::Mx,
            "10 bounce.absender.test",
        );
        let include = "spf.absender.test".to_string();
        let findings = [
            Finding::DnsTimeout { name: name.into() },
            Finding::DnsServfail { name: name.into() },
            Finding::RecordMissing { fix: cname.clone() },
            Finding::RecordMissing { fix: mx.clone() },
            Finding::CnameWrongTarget {
                fix: cname.clone(),
                found: vec!["a.example.".into(), "b.example.".into()],
            },
            Finding::CnameWithOtherData { fix: cname.clone() },
            Finding::TxtInsteadOfCname { fix: cname.clone() },
            Finding::DkimMultipleRecords {
                fix: cname.clone(),
                count: 3,
            },
            Finding::DomainAppendedTwice { fix: cname },
            Finding::SpfMissing { fix: fix.clone() },
            Finding::SpfMultipleRecords {
                fix: fix.clone(),
                count: 2,
                include: include.clone(),
            },
            Finding::SpfTooManyLookups {
                fix: fix.clone(),
                limit: 10,
            },
            Finding::SpfTooManyVoidLookups {
                fix: fix.clone(),
                limit: 2,
            },
            Finding::SpfSyntax {
                fix: fix.clone(),
                found: "v=spf1 includ:x ~all".into(),
            },
            Finding::SpfNotAuthorized {
                fix: fix.clone(),
                include: include.clone(),
                all_first: Some("~all".into()),
            },
            Finding::SpfNotAuthorized {
                fix: fix.clone(),
                include,
                all_first: None,
            },
            Finding::MxWrongTarget {
                fix: mx,
                found: vec!["mx.other.test".into()],
            },
            Finding::DmarcMissing {
                fix: Fix::new("_dmarc.acme.test", RecordType::Txt, "v=DMARC1; p=none"),
            },
        ];
        for finding in findings {
            let record = finding.fix().map(ToString::to_string);
            let words = describe(&finding, Locale::En);
            assert_eq!(
                Finding::from_words(finding.code(), record.as_deref(), &words).as_ref(),
                Some(&finding),
                "{words}"
            );
        }
    }
}
