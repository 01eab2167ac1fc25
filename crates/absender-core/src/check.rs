//! Verdicts on what a DNS check observed: is each DKIM selector and the SPF
//! policy as required, and if not, which mistake is it. Pure: the DNS adapter
//! gathers the observations, this module judges them.

use crate::RecordType;
use crate::finding::{ErrorType, Finding, Fix, found};
use crate::records::MAIL_FROM_MX_PREFERENCE;

/// What a DNS server said about one name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// Records were found.
    Records(T),
    /// The name does not exist.
    NxDomain,
    /// The name exists without records of this type.
    NoData,
    /// No answer in time.
    Timeout,
    /// The server failed (SERVFAIL, REFUSED, garbage).
    ServFail,
}

impl<T> Answer<T> {
    /// Whether the lookup itself failed, so nothing can be concluded.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Answer::Timeout | Answer::ServFail)
    }

    /// The records, or none.
    pub fn records(&self) -> Option<&T> {
        match self {
            Answer::Records(records) => Some(records),
            _ => None,
        }
    }
}

/// The outcome of judging one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Everything required is there.
    Verified,
    /// Something required is missing or wrong.
    NotVerified,
    /// A lookup failed; nothing can be concluded, try again.
    Temporary,
}

/// A part's verdict with its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartCheck {
    /// Verified, not, or unknown.
    pub verdict: Verdict,
    /// What is wrong (empty when verified).
    pub findings: Vec<Finding>,
    /// SES's classification of the first problem.
    pub error_type: Option<ErrorType>,
}

impl PartCheck {
    fn verified() -> Self {
        Self {
            verdict: Verdict::Verified,
            findings: Vec::new(),
            error_type: None,
        }
    }
}

/// What was seen at one DKIM selector's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorObservation {
    /// `<selector>._domainkey.<domain>`.
    pub name: String,
    /// `<selector>.<dkim_zone>`, where the CNAME must point; `None` for the
    /// organization's own key (bring-your-own DKIM): then a TXT record with
    /// `public_key` belongs at the name.
    pub expected_target: Option<String>,
    /// The public key published at the target (base64), for the TXT alternative.
    pub public_key: String,
    /// CNAME targets at the name.
    pub cnames: Answer<Vec<String>>,
    /// TXT values at the name itself (character-strings joined).
    pub txts: Answer<Vec<String>>,
    /// Whether records exist at `<name>.<domain>` (the provider appended the domain twice).
    pub doubled_exists: bool,
}

fn temporary(answer_timeout: bool, name: &str) -> Finding {
    let name = name.to_string();
    if answer_timeout {
        Finding::DnsTimeout { name }
    } else {
        Finding::DnsServfail { name }
    }
}

/// DKIM tag `tag` of a key record (`v=DKIM1; k=rsa; p=…`), whitespace ignored.
fn dkim_tag(record: &str, tag: &str) -> Option<String> {
    record.split(';').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        (key.trim() == tag).then(|| value.chars().filter(|c| !c.is_whitespace()).collect())
    })
}

/// The TXT record that publishes an organization's own RSA key.
pub fn own_key_record(public_key: &str) -> String {
    format!("v=DKIM1; k=rsa; p={public_key}")
}

fn check_selector(obs: &SelectorObservation) -> Option<(Finding, ErrorType, bool)> {
    let fix = match &obs.expected_target {
        Some(target) => Fix::new(&obs.name, RecordType::Cname, target),
        None => Fix::new(&obs.name, RecordType::Txt, &own_key_record(&obs.public_key)),
    };
    if obs.cnames.is_temporary() || obs.txts.is_temporary() {
        let timeout = matches!(obs.cnames, Answer::Timeout) || matches!(obs.txts, Answer::Timeout);
        return Some((
            temporary(timeout, &obs.name),
            ErrorType::DnsServerError,
            true,
        ));
    }
    let cnames = obs.cnames.records().cloned().unwrap_or_default();
    let txts = obs.txts.records().cloned().unwrap_or_default();
    let wrong = |finding| Some((finding, ErrorType::InvalidValue, false));
    let Some(expected_target) = &obs.expected_target else {
        return check_own_key(obs, fix, &cnames, &txts);
    };
    if !cnames.is_empty() {
        if !txts.is_empty() {
            return wrong(Finding::CnameWithOtherData { fix });
        }
        if cnames.iter().any(|c| {
            c.trim_end_matches('.')
                .eq_ignore_ascii_case(expected_target)
        }) {
            return None;
        }
        return wrong(Finding::CnameWrongTarget {
            fix,
            found: found(&cnames),
        });
    }
    match txts.len() {
        0 => {}
        1 => {
            let published = dkim_tag(&txts[0], "p");
            if published.as_deref() == Some(obs.public_key.as_str()) {
                return None;
            }
            return wrong(Finding::TxtInsteadOfCname { fix });
        }
        count => return wrong(Finding::DkimMultipleRecords { fix, count }),
    }
    absent(obs, fix, obs.cnames == Answer::NxDomain)
}

/// Nothing at the name: missing, or published with the domain appended twice.
fn absent(
    obs: &SelectorObservation,
    fix: Fix,
    nxdomain: bool,
) -> Option<(Finding, ErrorType, bool)> {
    if obs.doubled_exists {
        return Some((
            Finding::DomainAppendedTwice { fix },
            ErrorType::HostNotFound,
            false,
        ));
    }
    let error_type = if nxdomain {
        ErrorType::HostNotFound
    } else {
        ErrorType::TypeNotFound
    };
    Some((Finding::RecordMissing { fix }, error_type, false))
}

/// The organization's own key: exactly one TXT record at the name, with the
/// public half of the key it gave absender. A CNAME elsewhere does not count:
/// absender asks the domain's own servers, which answer with the alias.
fn check_own_key(
    obs: &SelectorObservation,
    fix: Fix,
    cnames: &[String],
    txts: &[String],
) -> Option<(Finding, ErrorType, bool)> {
    let wrong = |finding| Some((finding, ErrorType::InvalidValue, false));
    if !cnames.is_empty() {
        return wrong(Finding::CnameInsteadOfTxt {
            fix,
            found: found(cnames),
        });
    }
    match txts {
        [] => {}
        [one] if dkim_tag(one, "p").as_deref() == Some(obs.public_key.as_str()) => return None,
        [_] => return wrong(Finding::DkimKeyMismatch { fix }),
        more => {
            return wrong(Finding::DkimMultipleRecords {
                fix,
                count: more.len(),
            });
        }
    }
    absent(obs, fix, obs.txts == Answer::NxDomain)
}

/// Judges the three DKIM selectors together.
pub fn check_dkim(selectors: &[SelectorObservation]) -> PartCheck {
    let findings: Vec<(Finding, ErrorType, bool)> =
        selectors.iter().filter_map(check_selector).collect();
    verdict_of(findings)
}

fn verdict_of(findings: Vec<(Finding, ErrorType, bool)>) -> PartCheck {
    if findings.is_empty() {
        return PartCheck::verified();
    }
    // A definite mistake outweighs a failed lookup elsewhere.
    let verdict = if findings.iter().all(|(_, _, temp)| *temp) {
        Verdict::Temporary
    } else {
        Verdict::NotVerified
    };
    let error_type = findings
        .iter()
        .find(|(_, _, temp)| !temp)
        .or(findings.first())
        .map(|(_, t, _)| *t);
    PartCheck {
        verdict,
        error_type,
        findings: findings.into_iter().map(|(d, _, _)| d).collect(),
    }
}

/// The result of evaluating an SPF policy for one IP (RFC 7208 §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfEval {
    /// The IP is authorized.
    Pass,
    /// Explicitly not authorized (`-all`).
    Fail,
    /// Probably not authorized (`~all`).
    SoftFail,
    /// No statement (`?all`).
    Neutral,
    /// No policy.
    None,
    /// A lookup failed.
    TempError,
    /// The policy is broken (syntax, too many lookups).
    PermError,
}

/// What the SPF linter found in the single policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpfLint {
    /// The record does not parse.
    pub syntax_error: bool,
    /// It has `include:<platform spf domain>`.
    pub includes_platform: bool,
    /// An `all` term (`~all`, `-all`, …) that stands before the platform's include.
    pub all_before_include: Option<String>,
    /// DNS lookups the policy causes, counted through includes and redirects
    /// (counting stops at the first one over the limit).
    pub lookups: u32,
    /// Included or redirected-to names that do not exist or hold nothing.
    pub void_lookups: u32,
}

/// What was seen of a domain's SPF policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfObservation {
    /// The domain checked.
    pub domain: String,
    /// Every TXT value at the domain.
    pub txts: Answer<Vec<String>>,
    /// The lint of the one SPF record, if there is exactly one.
    pub lint: Option<SpfLint>,
    /// The evaluation for each sending IP.
    pub evaluations: Vec<(std::net::IpAddr, SpfEval)>,
}

/// RFC 7208 §4.6.4: at most 10 mechanisms and modifiers that cause DNS lookups.
pub const SPF_MAX_LOOKUPS: u32 = 10;
/// RFC 7208 §4.6.4: at most 2 lookups that find no records.
pub const SPF_MAX_VOID_LOOKUPS: u32 = 2;

/// Whether a TXT value is an SPF policy.
pub fn is_spf(txt: &str) -> bool {
    let lower = txt.trim_start().to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

/// The first term of an SPF policy that RFC 7208's grammar does not allow
/// (receivers answer such a policy with PermError), if any.
pub fn spf_syntax_error(policy: &str) -> Option<String> {
    let mut terms = policy.split_whitespace();
    terms.next(); // v=spf1
    terms.find(|term| !spf_term_ok(term)).map(str::to_string)
}

fn spf_term_ok(term: &str) -> bool {
    let lower = term.to_ascii_lowercase();
    if let Some((name, value)) = lower.split_once('=') {
        let name_ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        return name_ok && (!value.is_empty() || !matches!(name, "redirect" | "exp"));
    }
    let mechanism = lower.strip_prefix(['+', '-', '~', '?']).unwrap_or(&lower);
    let (name, rest) = mechanism.split_at(mechanism.find([':', '/']).unwrap_or(mechanism.len()));
    let cidr_ok = |cidr: &str, max: u8| cidr.parse::<u8>().is_ok_and(|n| n <= max);
    match name {
        "all" => rest.is_empty(),
        "include" | "exists" => rest.len() > 1 && rest.starts_with(':'),
        "a" | "mx" => {
            let rest = rest
                .strip_prefix(':')
                .map_or(rest, |r| r.find('/').map_or("", |i| &r[i..]));
            let mut cidrs = rest.split('/').skip(1);
            let v4 = cidrs.next().is_none_or(|c| c.is_empty() || cidr_ok(c, 32));
            let v6 = cidrs
                .find(|c| !c.is_empty())
                .is_none_or(|c| cidr_ok(c, 128));
            v4 && v6
        }
        "ptr" => rest.is_empty() || (rest.starts_with(':') && rest.len() > 1),
        "ip4" => rest.strip_prefix(':').is_some_and(|v| {
            let (ip, cidr) = v.split_once('/').map_or((v, None), |(i, c)| (i, Some(c)));
            ip.parse::<std::net::Ipv4Addr>().is_ok() && cidr.is_none_or(|c| cidr_ok(c, 32))
        }),
        "ip6" => rest.strip_prefix(':').is_some_and(|v| {
            let (ip, cidr) = v.split_once('/').map_or((v, None), |(i, c)| (i, Some(c)));
            ip.parse::<std::net::Ipv6Addr>().is_ok() && cidr.is_none_or(|c| cidr_ok(c, 128))
        }),
        _ => false,
    }
}

/// Judges the SPF policy; `expected` is the record absender asks for.
pub fn check_spf(obs: &SpfObservation, include_domain: &str, expected: &str) -> PartCheck {
    let domain = &obs.domain;
    let fix = Fix::new(domain, RecordType::Txt, expected);
    let one = |finding: Finding, error_type: ErrorType| PartCheck {
        verdict: Verdict::NotVerified,
        findings: vec![finding],
        error_type: Some(error_type),
    };
    let txts = match &obs.txts {
        Answer::Timeout | Answer::ServFail => {
            return verdict_of(vec![(
                temporary(obs.txts == Answer::Timeout, domain),
                ErrorType::DnsServerError,
                true,
            )]);
        }
        Answer::Records(txts) => txts.clone(),
        Answer::NxDomain | Answer::NoData => Vec::new(),
    };
    let policies: Vec<&String> = txts.iter().filter(|t| is_spf(t)).collect();
    if policies.is_empty() {
        let error_type = if obs.txts == Answer::NxDomain {
            ErrorType::HostNotFound
        } else {
            ErrorType::TypeNotFound
        };
        return one(Finding::SpfMissing { fix }, error_type);
    }
    let include = include_domain.to_string();
    if policies.len() > 1 {
        let count = policies.len();
        return one(
            Finding::SpfMultipleRecords {
                fix,
                count,
                include,
            },
            ErrorType::InvalidValue,
        );
    }
    let lint = obs.lint.clone().unwrap_or_default();
    // The limits first: past them receivers stop with PermError, whatever else is wrong.
    if lint.lookups > SPF_MAX_LOOKUPS {
        let limit = SPF_MAX_LOOKUPS;
        return one(
            Finding::SpfTooManyLookups { fix, limit },
            ErrorType::InvalidValue,
        );
    }
    if lint.void_lookups > SPF_MAX_VOID_LOOKUPS {
        let limit = SPF_MAX_VOID_LOOKUPS;
        return one(
            Finding::SpfTooManyVoidLookups { fix, limit },
            ErrorType::InvalidValue,
        );
    }
    // Malformed: our grammar check, the parser, or the evaluator's PermError.
    let perm_error = obs
        .evaluations
        .iter()
        .any(|(_, e)| *e == SpfEval::PermError);
    let malformed = lint.syntax_error || spf_syntax_error(policies[0]).is_some() || perm_error;
    if malformed {
        let found = crate::outside::clean(policies[0]);
        return one(Finding::SpfSyntax { fix, found }, ErrorType::InvalidValue);
    }
    let evaluations_pass =
        !obs.evaluations.is_empty() && obs.evaluations.iter().all(|(_, e)| *e == SpfEval::Pass);
    if evaluations_pass {
        return PartCheck::verified();
    }
    if obs
        .evaluations
        .iter()
        .any(|(_, e)| *e == SpfEval::TempError)
    {
        return verdict_of(vec![(
            temporary(false, domain),
            ErrorType::DnsServerError,
            true,
        )]);
    }
    // An `all` before the include only matters when the include is there.
    let all_first = lint
        .all_before_include
        .filter(|_| lint.includes_platform)
        .map(|all| crate::outside::clean(&all));
    one(
        Finding::SpfNotAuthorized {
            fix,
            include,
            all_first,
        },
        ErrorType::InvalidValue,
    )
}

/// Judges a custom MAIL FROM domain: an MX to the platform's bounce host, and
/// an SPF policy that authorizes the platform (bounces and SPF alignment).
pub fn check_mail_from(
    mx: &Answer<Vec<String>>,
    spf: &SpfObservation,
    bounce_host: &str,
    include_domain: &str,
    expected_spf: &str,
) -> PartCheck {
    let domain = &spf.domain;
    let fix = Fix::new(
        domain,
        RecordType::Mx,
        &format!("{MAIL_FROM_MX_PREFERENCE} {bounce_host}"),
    );
    let finding = match mx {
        Answer::Timeout | Answer::ServFail => Some((
            temporary(*mx == Answer::Timeout, domain),
            ErrorType::DnsServerError,
            true,
        )),
        Answer::Records(hosts)
            if hosts
                .iter()
                .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(bounce_host)) =>
        {
            None
        }
        Answer::Records(hosts) => Some((
            Finding::MxWrongTarget {
                fix,
                found: found(hosts),
            },
            ErrorType::InvalidValue,
            false,
        )),
        Answer::NxDomain | Answer::NoData => Some((
            Finding::RecordMissing { fix },
            if *mx == Answer::NxDomain {
                ErrorType::HostNotFound
            } else {
                ErrorType::TypeNotFound
            },
            false,
        )),
    };
    let spf = check_spf(spf, include_domain, expected_spf);
    let mut findings: Vec<(Finding, ErrorType, bool)> = finding.into_iter().collect();
    let spf_temporary = spf.verdict == Verdict::Temporary;
    let spf_type = spf.error_type.unwrap_or(ErrorType::InvalidValue);
    findings.extend(
        spf.findings
            .into_iter()
            .map(|d| (d, spf_type, spf_temporary)),
    );
    verdict_of(findings)
}

/// Advice about DMARC: never blocks verification.
pub fn check_dmarc(domain: &str, answer: &Answer<Vec<String>>) -> Vec<Finding> {
    let has_policy = answer.records().is_some_and(|txts| {
        txts.iter()
            .any(|t| t.trim_start().to_ascii_lowercase().starts_with("v=dmarc1"))
    });
    if has_policy || answer.is_temporary() {
        return Vec::new();
    }
    let fix = Fix::new(
        &format!("_dmarc.{domain}"),
        RecordType::Txt,
        "v=DMARC1; p=none",
    );
    vec![Finding::DmarcMissing { fix }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::*;

    const KEY: &str = "MIIBIjANBgkq";

    fn selector(cnames: Answer<Vec<String>>, txts: Answer<Vec<String>>) -> SelectorObservation {
        SelectorObservation {
            name: "s1._domainkey.acme.test".into(),
            expected_target: Some("s1.dkim.absender.test".into()),
            public_key: KEY.into(),
            cnames,
            txts,
            doubled_exists: false,
        }
    }

    fn dkim_code(obs: SelectorObservation) -> (Verdict, Option<String>) {
        let check = check_dkim(&[obs]);
        (
            check.verdict,
            check.findings.first().map(|d| d.code().to_string()),
        )
    }

    #[test]
    fn each_dkim_mistake_has_its_code() {
        let ok = Records(vec!["s1.dkim.absender.test.".to_string()]);
        assert_eq!(
            dkim_code(selector(ok.clone(), NoData)),
            (Verdict::Verified, None)
        );
        let cases = [
            (selector(NxDomain, NxDomain), "record_missing"),
            (
                selector(Records(vec!["other.example.".into()]), NoData),
                "cname_wrong_target",
            ),
            (
                selector(NoData, Records(vec!["v=DKIM1; k=rsa; p=OTHER".into()])),
                "txt_instead_of_cname",
            ),
            (
                selector(ok.clone(), Records(vec!["v=DKIM1; p=x".into()])),
                "cname_with_other_data",
            ),
            (
                selector(NoData, Records(vec!["a".into(), "b".into()])),
                "dkim_multiple_records",
            ),
            (
                SelectorObservation {
                    doubled_exists: true,
                    ..selector(NxDomain, NxDomain)
                },
                "domain_appended_twice",
            ),
        ];
        for (obs, code) in cases {
            assert_eq!(
                dkim_code(obs),
                (Verdict::NotVerified, Some(code.to_string()))
            );
        }
    }

    #[test]
    fn our_key_as_txt_is_accepted_compared_by_tags() {
        let txt = Records(vec![format!(
            "v=DKIM1;  k=rsa;\tp={}  {}",
            &KEY[..6],
            &KEY[6..]
        )]);
        assert_eq!(dkim_code(selector(NoData, txt)), (Verdict::Verified, None));
    }

    #[test]
    fn an_own_key_needs_exactly_its_public_half_in_one_txt_record() {
        let own = |cnames, txts| SelectorObservation {
            expected_target: None,
            ..selector(cnames, txts)
        };
        let published = Records(vec![own_key_record(KEY)]);
        assert_eq!(dkim_code(own(NoData, published)), (Verdict::Verified, None));
        let cases = [
            (own(NxDomain, NxDomain), "record_missing"),
            (
                own(NoData, Records(vec!["v=DKIM1; k=rsa; p=OTHER".into()])),
                "dkim_key_mismatch",
            ),
            // Easy DKIM's CNAME left in place after switching to an own key.
            (
                own(Records(vec!["s1.dkim.absender.test.".into()]), NoData),
                "cname_instead_of_txt",
            ),
            (
                own(
                    NoData,
                    Records(vec![own_key_record(KEY), "v=DKIM1; p=x".into()]),
                ),
                "dkim_multiple_records",
            ),
        ];
        for (obs, code) in cases {
            assert_eq!(
                dkim_code(obs),
                (Verdict::NotVerified, Some(code.to_string()))
            );
        }
        let check = check_dkim(&[own(NoData, NoData)]);
        let fix = check.findings[0].fix().unwrap();
        assert_eq!(fix.record_type, RecordType::Txt);
        assert_eq!(fix.value, format!("v=DKIM1; k=rsa; p={KEY}"));
    }

    #[test]
    fn failed_lookups_are_temporary_unless_another_selector_is_definitely_wrong() {
        let timeout = selector(Timeout, Timeout);
        assert_eq!(
            dkim_code(timeout.clone()),
            (Verdict::Temporary, Some("dns_timeout".into()))
        );
        assert_eq!(
            dkim_code(selector(ServFail, NoData)),
            (Verdict::Temporary, Some("dns_servfail".into()))
        );
        let check = check_dkim(&[timeout, selector(NxDomain, NxDomain)]);
        assert_eq!(check.verdict, Verdict::NotVerified);
        assert_eq!(check.error_type, Some(ErrorType::HostNotFound));
    }

    fn spf(txts: Answer<Vec<String>>, lint: SpfLint, eval: SpfEval) -> (Verdict, Option<String>) {
        let obs = SpfObservation {
            domain: "acme.test".into(),
            txts,
            lint: Some(lint),
            evaluations: vec![("127.0.0.1".parse().unwrap(), eval)],
        };
        let check = check_spf(
            &obs,
            "spf.absender.test",
            "v=spf1 include:spf.absender.test ~all",
        );
        (
            check.verdict,
            check.findings.first().map(|d| d.code().to_string()),
        )
    }

    #[test]
    fn each_spf_mistake_has_its_code() {
        let one = |s: &str| {
            Records(vec![
                s.to_string(),
                "google-site-verification=x".to_string(),
            ])
        };
        let good = SpfLint {
            includes_platform: true,
            lookups: 1,
            ..Default::default()
        };
        assert_eq!(
            spf(
                one("v=spf1 include:spf.absender.test ~all"),
                good.clone(),
                SpfEval::Pass
            ),
            (Verdict::Verified, None)
        );
        let cases = [
            (
                Records(vec!["other=1".into()]),
                good.clone(),
                SpfEval::None,
                "spf_missing",
            ),
            (NxDomain, good.clone(), SpfEval::None, "spf_missing"),
            (
                Records(vec!["v=spf1 -all".into(), "v=spf1 ~all".into()]),
                good.clone(),
                SpfEval::PermError,
                "spf_multiple_records",
            ),
            (
                one("v=spf1 includ:x ~all"),
                SpfLint {
                    syntax_error: true,
                    ..Default::default()
                },
                SpfEval::PermError,
                "spf_syntax",
            ),
            (
                one("v=spf1 include:a.test ~all"),
                SpfLint {
                    includes_platform: true,
                    lookups: 11,
                    ..Default::default()
                },
                SpfEval::PermError,
                "spf_too_many_lookups",
            ),
            (
                one("v=spf1 include:a.test include:b.test include:c.test ~all"),
                SpfLint {
                    lookups: 3,
                    void_lookups: 3,
                    ..Default::default()
                },
                SpfEval::PermError,
                "spf_too_many_void_lookups",
            ),
            (
                one("v=spf1 -all"),
                SpfLint::default(),
                SpfEval::Fail,
                "spf_not_authorized",
            ),
            (
                one("v=spf1 ~all include:spf.absender.test"),
                SpfLint {
                    includes_platform: true,
                    all_before_include: Some("~all".into()),
                    lookups: 1,
                    ..Default::default()
                },
                SpfEval::SoftFail,
                "spf_not_authorized",
            ),
        ];
        for (txts, lint, eval, code) in cases {
            assert_eq!(
                spf(txts, lint, eval),
                (Verdict::NotVerified, Some(code.to_string())),
                "{code}"
            );
        }
        assert_eq!(spf(Timeout, good, SpfEval::TempError).0, Verdict::Temporary);
    }

    #[test]
    fn spf_grammar_is_checked_term_by_term() {
        for ok in [
            "v=spf1 include:spf.absender.test ~all",
            "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 a:mail.acme.test/24//64 ptr -all",
            "v=spf1 exists:%{i}.x.test redirect=_spf.acme.test",
            "v=spf1 ?all",
        ] {
            assert_eq!(spf_syntax_error(ok), None, "{ok}");
        }
        for (bad, term) in [
            (
                "v=spf1 includ:spf.absender.test ~all",
                "includ:spf.absender.test",
            ),
            ("v=spf1 ip4:300.1.1.1 -all", "ip4:300.1.1.1"),
            ("v=spf1 ip4:192.0.2.1/33 -all", "ip4:192.0.2.1/33"),
            ("v=spf1 include: -all", "include:"),
            ("v=spf1 redirect= -all", "redirect="),
            ("v=spf1 allow", "allow"),
        ] {
            assert_eq!(spf_syntax_error(bad).as_deref(), Some(term), "{bad}");
        }
    }

    #[test]
    fn mail_from_needs_the_mx_and_an_authorizing_spf() {
        let good_spf = SpfObservation {
            domain: "bounce.acme.test".into(),
            txts: Records(vec!["v=spf1 include:spf.absender.test ~all".into()]),
            lint: Some(SpfLint {
                includes_platform: true,
                lookups: 1,
                ..Default::default()
            }),
            evaluations: vec![("127.0.0.1".parse().unwrap(), SpfEval::Pass)],
        };
        let expected = "v=spf1 include:spf.absender.test ~all";
        let check = |mx: Answer<Vec<String>>, spf: &SpfObservation| {
            let c = check_mail_from(
                &mx,
                spf,
                "bounce.absender.test",
                "spf.absender.test",
                expected,
            );
            (
                c.verdict,
                c.findings
                    .iter()
                    .map(|d| d.code().to_string())
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            check(Records(vec!["bounce.absender.test.".into()]), &good_spf),
            (Verdict::Verified, vec![])
        );
        assert_eq!(
            check(NoData, &good_spf),
            (Verdict::NotVerified, vec!["record_missing".to_string()])
        );
        assert_eq!(
            check(Records(vec!["mx.other.test".into()]), &good_spf),
            (Verdict::NotVerified, vec!["mx_wrong_target".to_string()])
        );
        let no_spf = SpfObservation {
            txts: NoData,
            ..good_spf.clone()
        };
        assert_eq!(
            check(Records(vec!["bounce.absender.test".into()]), &no_spf),
            (Verdict::NotVerified, vec!["spf_missing".to_string()])
        );
        assert_eq!(check(Timeout, &good_spf).0, Verdict::Temporary);
    }

    #[test]
    fn dmarc_is_advice_only() {
        assert_eq!(
            check_dmarc("acme.test", &NxDomain)[0].code(),
            "dmarc_missing"
        );
        assert!(check_dmarc("acme.test", &Records(vec!["v=DMARC1; p=none".into()]),).is_empty());
        assert!(check_dmarc("acme.test", &Timeout).is_empty());
    }

    #[test]
    fn findings_name_the_fixing_record_and_keep_what_was_found_bounded() {
        let check = check_dkim(&[selector(NxDomain, NxDomain)]);
        assert_eq!(
            check.findings[0].fix().map(ToString::to_string).as_deref(),
            Some("s1._domainkey.acme.test CNAME s1.dkim.absender.test")
        );
        let many: Vec<String> = (0..50).map(|i| format!("t{i}.example.\n")).collect();
        let check = check_dkim(&[selector(Records(many), NoData)]);
        let Finding::CnameWrongTarget { found, .. } = &check.findings[0] else {
            panic!("{:?}", check.findings);
        };
        assert_eq!(found.len(), 5);
        assert_eq!(found[0], "t0.example. ");
    }
}
