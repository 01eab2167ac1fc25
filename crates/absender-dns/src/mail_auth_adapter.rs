//! mail-auth behind one module, so a version bump touches one file: SPF
//! parsing for the linter, RFC 7208 evaluation, and DKIM verification.

use absender_core::check::SpfEval;
use hickory_resolver::TokioResolver;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::spf::{Macro, Mechanism, Qualifier, Spf};
use mail_auth::{MessageAuthenticator, Parameters, ResolverCache, SpfResult, Txt};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// What the linter needs of one policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Literal targets of `include:` terms, in order, with whether an `all` came before each.
    pub includes: Vec<(String, Option<String>)>,
    /// Mechanisms and modifiers that cost a DNS lookup at this level.
    pub own_lookups: u32,
    /// The literal `redirect=` target (none when the policy has `all`,
    /// which makes receivers ignore it: RFC 7208 §6.1).
    pub redirect: Option<String>,
    /// Names that `a`, `mx` and `exists` terms look up, with the record type
    /// asked (`None`: the policy's own domain), for the void-lookup limit.
    pub host_lookups: Vec<(Option<String>, HostLookup)>,
}

/// What an `a`, `mx` or `exists` term asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLookup {
    Address,
    Exchanger,
}

/// The target of a term: `None` for the policy's own domain, `Some` for a
/// literal name; a macro (`Err`) cannot be known before evaluation.
fn term_target(m: &Macro) -> Result<Option<String>, ()> {
    match m {
        Macro::None => Ok(None),
        Macro::Literal(_) => Ok(literal(m)),
        _ => Err(()),
    }
}

fn literal(m: &Macro) -> Option<String> {
    match m {
        Macro::Literal(bytes) => Some(String::from_utf8_lossy(bytes).to_ascii_lowercase()),
        _ => None,
    }
}

fn all_term(qualifier: &Qualifier) -> String {
    match qualifier {
        Qualifier::Pass => "+all",
        Qualifier::Fail => "-all",
        Qualifier::SoftFail => "~all",
        Qualifier::Neutral => "?all",
    }
    .to_string()
}

/// Parses a policy; `None` when it is not valid SPF.
pub fn parse(text: &str) -> Option<Policy> {
    let spf = Spf::parse(text.as_bytes()).ok()?;
    let mut policy = Policy::default();
    let mut all_seen: Option<String> = None;
    for directive in spf.directives.iter() {
        match &directive.mechanism {
            Mechanism::All => all_seen = all_seen.or(Some(all_term(&directive.qualifier))),
            Mechanism::Include { macro_string } => {
                policy.own_lookups += 1;
                if let Some(target) = literal(macro_string) {
                    policy.includes.push((target, all_seen.clone()));
                }
            }
            Mechanism::A { macro_string, .. } | Mechanism::Exists { macro_string } => {
                policy.own_lookups += 1;
                if let Ok(target) = term_target(macro_string) {
                    policy.host_lookups.push((target, HostLookup::Address));
                }
            }
            Mechanism::Mx { macro_string, .. } => {
                policy.own_lookups += 1;
                if let Ok(target) = term_target(macro_string) {
                    policy.host_lookups.push((target, HostLookup::Exchanger));
                }
            }
            Mechanism::Ptr { .. } => policy.own_lookups += 1,
            Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => {}
        }
    }
    if let Some(redirect) = spf.redirect.as_ref().filter(|_| all_seen.is_none()) {
        policy.own_lookups += 1;
        policy.redirect = literal(redirect);
    }
    Some(policy)
}

/// A TXT cache for one check: it starts with what the check read from the
/// authoritative servers (so evaluation starts from the fresh record, not a
/// cached one, and no name is asked twice) and keeps what the evaluation of
/// one IP looked up for the next.
struct CheckCache(Mutex<HashMap<Box<str>, Txt>>);

impl ResolverCache<Box<str>, Txt> for CheckCache {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().expect("cache lock").get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().expect("cache lock").remove(name)
    }

    fn insert(&self, key: Box<str>, value: Txt, _: std::time::Instant) {
        self.0.lock().expect("cache lock").insert(key, value);
    }
}

fn eval(result: SpfResult) -> SpfEval {
    match result {
        SpfResult::Pass => SpfEval::Pass,
        SpfResult::Fail => SpfEval::Fail,
        SpfResult::SoftFail => SpfEval::SoftFail,
        SpfResult::Neutral => SpfEval::Neutral,
        SpfResult::TempError => SpfEval::TempError,
        SpfResult::PermError => SpfEval::PermError,
        SpfResult::None => SpfEval::None,
    }
}

/// Evaluates `domain`'s policy for each of `ips`, resolving through
/// `resolver` only what `known` lacks. `known` holds what this check already
/// read: per name (an FQDN without the final dot) its SPF policy, or `None`
/// when the name holds none; `domain` must be among them.
pub async fn evaluate(
    resolver: &TokioResolver,
    domain: &str,
    known: &[(String, Option<String>)],
    ips: &[IpAddr],
    helo_domain: &str,
) -> Vec<(IpAddr, SpfEval)> {
    let authenticator = MessageAuthenticator(resolver.clone());
    let seeded = known.iter().map(|(name, policy)| {
        let txt = match policy.as_deref().map(|p| Spf::parse(p.as_bytes())) {
            Some(Ok(spf)) => Txt::Spf(Arc::new(spf)),
            Some(Err(err)) => Txt::Error(err),
            // What include and redirect treat as "no policy" (a PermError).
            None => Txt::Error(mail_auth::Error::Dns(
                mail_auth::DnsError::InvalidRecordType,
            )),
        };
        (Box::from(format!("{name}.")), txt)
    });
    let cache = CheckCache(Mutex::new(seeded.collect()));
    let sender = format!("postmaster@{domain}");
    let mut results = Vec::with_capacity(ips.len());
    for ip in ips {
        let params = Parameters::new(SpfParameters::verify_mail_from(
            *ip,
            helo_domain,
            helo_domain,
            &sender,
        ))
        .with_txt_cache(&cache);
        results.push((*ip, eval(authenticator.verify_spf(params).await.result())));
    }
    results
}

/// One DKIM signature's verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DkimVerdict {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    /// `pass`, `fail`, `neutral`, `temperror`, `permerror` or `none`.
    pub result: String,
}

/// Verifies every DKIM signature of `raw`, looking keys up through `resolver`.
pub async fn verify_dkim(resolver: &TokioResolver, raw: &[u8]) -> Vec<DkimVerdict> {
    use mail_auth::common::verify::VerifySignature;
    let Some(message) = mail_auth::AuthenticatedMessage::parse(raw) else {
        return Vec::new();
    };
    let authenticator = MessageAuthenticator(resolver.clone());
    let outputs = authenticator.verify_dkim(Parameters::new(&message)).await;
    outputs
        .iter()
        .map(|o| DkimVerdict {
            domain: o
                .signature()
                .map(|s| s.domain().to_string())
                .unwrap_or_default(),
            selector: o
                .signature()
                .map(|s| s.selector().to_string())
                .unwrap_or_default(),
            result: match o.result() {
                mail_auth::DkimResult::Pass => "pass",
                mail_auth::DkimResult::Neutral(_) => "neutral",
                mail_auth::DkimResult::Fail(_) => "fail",
                mail_auth::DkimResult::PermError(_) => "permerror",
                mail_auth::DkimResult::TempError(_) => "temperror",
                mail_auth::DkimResult::None => "none",
            }
            .to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_parsed_for_the_linter() {
        let p = parse("v=spf1 ip4:192.0.2.1 mx ~all include:spf.absender.test").unwrap();
        assert_eq!(
            p.includes,
            [("spf.absender.test".to_string(), Some("~all".to_string()))]
        );
        assert_eq!(p.own_lookups, 2);
        let p = parse("v=spf1 include:a.test include:b.test redirect=c.test").unwrap();
        assert_eq!(p.own_lookups, 3);
        assert_eq!(p.redirect.as_deref(), Some("c.test"));
        assert!(p.includes.iter().all(|(_, all)| all.is_none()));
        // With `all`, receivers ignore a redirect (RFC 7208 §6.1): it costs nothing.
        let p = parse("v=spf1 include:a.test -all redirect=c.test").unwrap();
        assert_eq!((p.own_lookups, p.redirect), (1, None));
        // What a, mx and exists look up, for the void limit (macros are unknown before evaluation).
        let p = parse("v=spf1 a mx:b.test exists:%{i}.x.test a:c.test/24 -all").unwrap();
        assert_eq!(
            p.host_lookups,
            [
                (None, HostLookup::Address),
                (Some("b.test".to_string()), HostLookup::Exchanger),
                (Some("c.test".to_string()), HostLookup::Address),
            ]
        );
        assert_eq!(p.own_lookups, 4);
        // mail-auth parses unknown terms leniently; evaluation reports them (PermError).
    }
}
