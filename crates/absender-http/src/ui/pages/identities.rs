//! The organization's sender addresses and the setup wizard of each.

use super::{Badge, badge, when};
use crate::ui::i18n::Texts;
use crate::ui::respond::{UiError, page};
use crate::ui::session::{CsrfForm, Ctx, NoFields, OrgSession, see_other};
use absender_core::{Scope, Status};
use absender_service::api::{Diagnostic, DnsPart, DnsRecords, Identity, RequestIdentity};
use absender_service::{App, ServiceError, records_csv};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/identities", get(list).post(add))
        .route("/identities/{id}", get(show))
        .route("/identities/{id}/live", get(live))
        .route("/identities/{id}/resend", post(resend))
        .route("/identities/{id}/check", post(check))
        .route("/identities/{id}/restart", post(restart))
        .route("/identities/{id}/records.csv", get(csv))
        .route("/identities/{id}/records.zone", get(zone_file))
        .route("/identities/{id}/delete", get(delete_page).post(delete))
}

pub struct Row {
    id: String,
    address: String,
    scope: &'static str,
    status: &'static str,
    status_code: &'static str,
    status_class: &'static str,
}

#[derive(Default)]
struct AddForm {
    address: String,
    scope: String,
    address_error: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/identities.html")]
struct ListPage {
    ctx: Ctx,
    identities: Vec<Row>,
    form: AddForm,
    upgrade_needed: bool,
    flash: Option<&'static str>,
}

fn scope_words(t: &Texts, scope: Scope) -> &'static str {
    match scope {
        Scope::Recipients => t.scope_recipients,
        Scope::All => t.scope_all,
    }
}

async fn list_page(
    app: &App,
    session: OrgSession,
    form: AddForm,
    status: StatusCode,
    flash: Option<&'static str>,
) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let identities = match app
        .identities()
        .list_identities_in(&caller, ctx.locale)
        .await
    {
        Ok(list) => list,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let t = ctx.t;
    let rows = identities
        .into_iter()
        .map(|i| {
            let Badge {
                status,
                status_code,
                status_class,
            } = badge(t, i.status);
            Row {
                scope: scope_words(t, i.scope),
                address: i.name(),
                id: i.id,
                status,
                status_code,
                status_class,
            }
        })
        .collect();
    let upgrade_needed = caller
        .organization()
        .is_ok_and(|o| !o.custom_sender_enabled());
    Ok(page(
        status,
        &ListPage {
            ctx,
            identities: rows,
            form,
            upgrade_needed,
            flash,
        },
    ))
}

async fn list(
    State(app): State<App>,
    session: OrgSession,
    Query(flash): Query<Flash>,
) -> Result<Response, UiError> {
    let flash = flash
        .done
        .filter(|d| d == "removed")
        .map(|_| session.ctx.t.removed);
    list_page(&app, session, AddForm::default(), StatusCode::OK, flash).await
}

#[derive(Deserialize)]
struct AddFields {
    #[serde(default)]
    address: String,
    #[serde(default)]
    scope: String,
}

async fn add(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(fields): CsrfForm<AddFields>,
) -> Result<Response, UiError> {
    let t = session.ctx.t;
    let scope = if fields.scope == "all" {
        Scope::All
    } else {
        Scope::Recipients
    };
    let refuse = |message: String| AddForm {
        address: fields.address.clone(),
        scope: fields.scope.clone(),
        address_error: Some(message),
    };
    if fields.address.trim().is_empty() {
        return list_page(
            &app,
            session,
            refuse(t.required.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    }
    let request = RequestIdentity::address(fields.address.trim(), scope);
    match app
        .identities()
        .request_identity(&session.caller, request)
        .await
    {
        Ok(identity) => Ok(see_other(&format!("/ui/identities/{}", identity.id))),
        Err(e) => {
            let message = match &e {
                ServiceError::InvalidAddress { .. } => t.err_address.to_string(),
                ServiceError::Refused {
                    code: "freemail_domain",
                    ..
                } => t.err_freemail.to_string(),
                ServiceError::Conflict {
                    code: "identity_exists",
                    ..
                } => t.err_exists.to_string(),
                ServiceError::UpgradeRequired { .. } => t.upgrade_needed.to_string(),
                ServiceError::Invalid { message, .. } => message.clone(),
                _ => return Err(UiError::service(e, session.ctx)),
            };
            let status = crate::ApiError::from(e).status();
            list_page(&app, session, refuse(message), status, None).await
        }
    }
}

/// One record to publish with its own state.
struct RecordView {
    name: String,
    record_type: String,
    value: String,
    optional: bool,
    state: &'static str,
    state_class: &'static str,
    problem: Option<String>,
}

struct PartView {
    key: &'static str,
    title: &'static str,
    status: &'static str,
    status_code: &'static str,
    status_class: &'static str,
    checked: bool,
    diagnostics: Vec<Diagnostic>,
}

/// The wizard's content, shared by the page and its live fragment.
struct WizardView {
    id: String,
    address: String,
    status: &'static str,
    status_code: &'static str,
    status_class: &'static str,
    confirmed: bool,
    /// A domain identity has no address step.
    has_address: bool,
    dns_done: bool,
    success: bool,
    failed: bool,
    broken: bool,
    step1_text: String,
    records: Vec<RecordView>,
    parts: Vec<PartView>,
    last_checked: String,
    next_check: Option<String>,
    done_text: String,
}

/// A record's state from its part: fine when the part is verified; needing a
/// fix when a finding's fixing record is this one; else found once checked.
fn record_state(
    t: &Texts,
    part: &DnsPart,
    name: &str,
    record_type: &str,
) -> (&'static str, &'static str, Option<String>) {
    let finding = part.diagnostics.iter().find(|d| {
        d.finding
            .fix()
            .is_some_and(|fix| fix.record_type.as_str() == record_type && fix.is_at(name))
    });
    match (part.status, finding, &part.last_checked_at) {
        (Status::Success, _, _) => (t.rec_ok, "ok", None),
        // Not published yet while waiting for the customer: no alarm.
        (Status::Pending | Status::NotStarted, Some(d), _) if d.finding.is_missing() => {
            (t.rec_missing, "warn", None)
        }
        (_, Some(d), _) => (t.rec_wrong, "bad", Some(d.message.clone())),
        (_, None, None) => (t.rec_unchecked, "neutral", None),
        // A finding that names no record (a lookup failed): not known to be fine.
        (_, None, Some(_)) if part.diagnostics.iter().any(|d| d.finding.fix().is_none()) => {
            (t.rec_unchecked, "neutral", None)
        }
        (_, None, Some(_)) => (t.rec_ok, "ok", None),
    }
}

fn wizard(t: &Texts, identity: &Identity, records: &DnsRecords) -> WizardView {
    let Badge {
        status,
        status_code,
        status_class,
    } = badge(t, identity.status);
    let parts = &identity.parts;
    let records = records
        .records
        .iter()
        .map(|r| {
            let part = match r.purpose.as_str() {
                "dkim" => &parts.dkim,
                "spf" => &parts.spf,
                _ => &parts.mail_from,
            };
            let (state, state_class, problem) = record_state(t, part, &r.name, &r.record_type);
            RecordView {
                name: r.name.clone(),
                record_type: r.record_type.clone(),
                value: r.value.clone(),
                optional: r.purpose == "mail_from",
                state,
                state_class,
                problem,
            }
        })
        .collect();
    let part_view = |key, title, part: &DnsPart| {
        let b = badge(t, part.status);
        PartView {
            key,
            title,
            status: b.status,
            status_code: b.status_code,
            status_class: b.status_class,
            checked: part.last_checked_at.is_some(),
            diagnostics: part.diagnostics.clone(),
        }
    };
    let mut part_views = vec![
        part_view("dkim", t.part_dkim, &parts.dkim),
        part_view("spf", t.part_spf, &parts.spf),
        part_view("mail_from", t.part_mail_from, &parts.mail_from),
    ];
    if !parts.dmarc.diagnostics.is_empty() {
        part_views.push(PartView {
            key: "dmarc",
            title: t.part_dmarc,
            status: "",
            status_code: "",
            status_class: "neutral",
            checked: true,
            diagnostics: parts.dmarc.diagnostics.clone(),
        });
    }
    WizardView {
        id: identity.id.clone(),
        address: identity.name(),
        status,
        status_code,
        status_class,
        confirmed: parts
            .address
            .as_ref()
            .is_none_or(|a| a.status == Status::Success),
        has_address: parts.address.is_some(),
        dns_done: parts.dkim.status == Status::Success && parts.spf.status == Status::Success,
        success: identity.status == Status::Success,
        failed: identity.status == Status::Failed,
        broken: identity.status == Status::TemporaryFailure,
        step1_text: t.step1_pending.replace("{address}", &identity.name()),
        records,
        parts: part_views,
        last_checked: parts
            .dkim
            .last_checked_at
            .as_deref()
            .map(when)
            .unwrap_or_else(|| t.never.to_string()),
        next_check: identity.next_check_at.as_deref().map(when),
        done_text: t
            .step4_done
            .replace("{address}", &identity.name())
            .replace("{domain}", &identity.domain_unicode),
    }
}

#[derive(Template)]
#[template(path = "ui/identity.html")]
struct WizardPage {
    ctx: Ctx,
    v: WizardView,
    flash: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "ui/identity_live.html")]
struct LiveFragment {
    ctx: Ctx,
    v: WizardView,
}

#[derive(Deserialize)]
struct Flash {
    done: Option<String>,
}

async fn load(
    app: &App,
    session: &OrgSession,
    id: &str,
    watch: bool,
) -> Result<(Identity, DnsRecords), ServiceError> {
    let locale = session.ctx.locale;
    let identity = if watch {
        app.checks()
            .watch_identity(&session.caller, id, locale)
            .await?
    } else {
        app.identities()
            .get_identity_in(&session.caller, id, locale)
            .await?
    };
    let records = app.identities().dns_records(&session.caller, id).await?;
    Ok((identity, records))
}

async fn show(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, UiError> {
    let (identity, records) = match load(&app, &session, &id, false).await {
        Ok(loaded) => loaded,
        Err(e) => return Err(UiError::service(e, session.ctx)),
    };
    let t = session.ctx.t;
    let flash = match flash.done.as_deref() {
        Some("resent") => Some(t.resent),
        Some("checked") => Some(t.checked),
        _ => None,
    };
    Ok(page(
        StatusCode::OK,
        &WizardPage {
            v: wizard(t, &identity, &records),
            ctx: session.ctx,
            flash,
        },
    ))
}

/// The wizard's body for the live refresh; watching brings checks forward.
async fn live(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let (identity, records) = match load(&app, &session, &id, true).await {
        Ok(loaded) => loaded,
        Err(e) => return Err(UiError::service(e, session.ctx)),
    };
    let t = session.ctx.t;
    Ok(page(
        StatusCode::OK,
        &LiveFragment {
            v: wizard(t, &identity, &records),
            ctx: session.ctx,
        },
    ))
}

/// After an action on the identity: back to its page saying `done`, or the error.
fn back_to_identity<T>(
    done: Result<T, ServiceError>,
    session: OrgSession,
    id: &str,
    what: &str,
) -> Result<Response, UiError> {
    match done {
        Ok(_) => Ok(see_other(&format!("/ui/identities/{id}?done={what}"))),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn resend(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    let done = app
        .identities()
        .resend_verification(&session.caller, &id)
        .await;
    back_to_identity(done, session, &id, "resent")
}

async fn check(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    let done = app.checks().check_identity_now(&session.caller, &id).await;
    back_to_identity(done, session, &id, "checked")
}

async fn restart(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    let done = app.checks().restart_identity(&session.caller, &id).await;
    back_to_identity(done, session, &id, "checked")
}

#[derive(Template)]
#[template(path = "ui/identity_delete.html")]
struct DeletePage {
    ctx: Ctx,
    id: String,
    address: String,
    text: String,
}

/// Asks before removing (a link, then a button), so no JavaScript is needed.
async fn delete_page(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    match app.identities().get_identity(&session.caller, &id).await {
        Ok(identity) => Ok(page(
            StatusCode::OK,
            &DeletePage {
                text: session
                    .ctx
                    .t
                    .delete_identity_text
                    .replace("{address}", &identity.name()),
                ctx: session.ctx,
                id,
                address: identity.name(),
            },
        )),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn delete(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app.identities().delete_identity(&session.caller, &id).await {
        Ok(()) => Ok(see_other("/ui/identities?done=removed")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

fn download(content_type: &'static str, filename: String, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The records as the seed's CSV.
async fn csv(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    match load(&app, &session, &id, false).await {
        Ok((identity, records)) => Ok(download(
            "text/csv; charset=utf-8",
            format!("{}-dns-records.csv", identity.domain),
            records_csv(&records),
        )),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

/// The records as lines for a BIND-style zone file.
async fn zone_file(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    match load(&app, &session, &id, false).await {
        Ok((identity, records)) => Ok(download(
            "text/plain; charset=utf-8",
            format!("{}.zone.txt", identity.domain),
            zone_snippet(&identity.name(), &records),
        )),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

/// Absolute names (trailing dot), TXT values quoted and split into strings of
/// at most 255 bytes as zone files require.
fn zone_snippet(address: &str, records: &DnsRecords) -> String {
    let mut out = format!("; DNS records for the sender address {address}\n");
    for r in &records.records {
        let value = match r.record_type.as_str() {
            "TXT" => absender_core::dns::txt_chunks(&r.value)
                .into_iter()
                .map(|c| format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(" "),
            "CNAME" => format!("{}.", r.value.trim_end_matches('.')),
            _ => r.value.clone(),
        };
        out.push_str(&format!(
            "{}.\t3600\tIN\t{}\t{}\n",
            r.name.trim_end_matches('.'),
            r.record_type,
            value
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use absender_core::RecordType;
    use absender_core::finding::{Finding, Fix};
    use absender_service::api::DnsRecord;

    fn part(status: Status, checked: bool, findings: &[Finding]) -> DnsPart {
        DnsPart {
            status,
            diagnostics: findings
                .iter()
                .map(|f| Diagnostic {
                    finding: f.clone(),
                    message: format!("{} words", f.code()),
                    record: None,
                })
                .collect(),
            error_type: None,
            last_checked_at: checked.then(|| "2026-11-26T10:00:00Z".to_string()),
            last_success_at: None,
            soa: None,
        }
    }

    #[test]
    fn each_record_gets_its_own_state_from_the_findings_that_name_it() {
        let t = &crate::ui::i18n::EN;
        let name = "s1._domainkey.acme.test";
        let fix = |name: &str| Fix::new(name, RecordType::Cname, "s1.x.dkim.absender.test");
        let wrong = (Finding::CnameWrongTarget {
            fix: fix(name),
            found: vec!["elsewhere.example".into()],
        },);
        let missing = Finding::RecordMissing { fix: fix(name) };
        let state = |p: &DnsPart| record_state(t, p, name, "CNAME");
        assert_eq!(state(&part(Status::Pending, false, &[])).0, t.rec_unchecked);
        assert_eq!(
            state(&part(Status::Pending, true, std::slice::from_ref(&missing))).0,
            t.rec_missing
        );
        let (words, class, problem) = state(&part(Status::Pending, true, &[wrong.0]));
        assert_eq!((words, class), (t.rec_wrong, "bad"));
        assert_eq!(problem.as_deref(), Some("cname_wrong_target words"));
        // A finding about another record leaves this one found.
        let other = Finding::RecordMissing {
            fix: fix("s2._domainkey.acme.test"),
        };
        assert_eq!(state(&part(Status::Pending, true, &[other])).0, t.rec_ok);
        assert_eq!(state(&part(Status::Pending, true, &[])).0, t.rec_ok);
        // Broken after it worked: missing is a fault now.
        assert_eq!(
            state(&part(Status::TemporaryFailure, true, &[missing])).0,
            t.rec_wrong
        );
        assert_eq!(state(&part(Status::Success, true, &[])).0, t.rec_ok);
    }

    #[test]
    fn the_zone_snippet_has_absolute_names_and_quoted_txt() {
        let record = |name: &str, t: &str, value: &str| DnsRecord {
            name: name.into(),
            record_type: t.into(),
            value: value.into(),
            purpose: "dkim".into(),
            status: Status::Pending,
        };
        let records = DnsRecords {
            records: vec![
                record(
                    "s1._domainkey.acme.test",
                    "CNAME",
                    "s1.acme.test.dkim.absender.test",
                ),
                record("acme.test", "TXT", "v=spf1 include:spf.absender.test ~all"),
            ],
        };
        let zone = zone_snippet("events@acme.test", &records);
        assert!(
            zone.contains(
                "s1._domainkey.acme.test.\t3600\tIN\tCNAME\ts1.acme.test.dkim.absender.test.\n"
            ),
            "{zone}"
        );
        assert!(
            zone.contains("acme.test.\t3600\tIN\tTXT\t\"v=spf1 include:spf.absender.test ~all\"\n"),
            "{zone}"
        );
    }
}
