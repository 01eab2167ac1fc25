//! The operator's pages: organizations with the upgrade switch, every
//! identity, events, the queue and suppressions, the local DNS zones.

use super::{badge, when};
use crate::ui::respond::{UiError, at_form, fixable, page};
use crate::ui::session::{CsrfForm, Ctx, NoFields, OperatorSession, see_other};
use absender_core::Locale;
use absender_service::api::{
    CreateOrg, CreateZone, CreateZoneRecord, Identity, Suppression, UpdateOrg, Zone, ZoneRecord,
};
use absender_service::{App, Caller, ServiceError};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin", get(orgs))
        .route("/admin/orgs", post(create_org))
        .route("/admin/orgs/{id}/upgrade", post(upgrade))
        .route("/admin/identities", get(identities))
        .route("/admin/events", get(events))
        .route("/admin/queue", get(queue))
        .route("/admin/zones", get(zones).post(create_zone))
        .route("/admin/zones/{zone}", get(zone))
        .route("/admin/zones/{zone}/records", post(add_record))
        .route(
            "/admin/zones/{zone}/records/{id}/delete",
            post(delete_record),
        )
}

struct IdentityBadge {
    address: String,
    status_code: &'static str,
    status_class: &'static str,
}

struct OrgView {
    id: String,
    name: String,
    contact_email: String,
    enabled: bool,
    identities: Vec<IdentityBadge>,
}

#[derive(Default, Deserialize)]
struct OrgFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    locale: String,
}

#[derive(Template)]
#[template(path = "ui/admin_orgs.html")]
struct OrgsPage {
    ctx: Ctx,
    orgs: Vec<OrgView>,
    new_key: Option<String>,
    form: OrgFields,
    error: Option<String>,
}

/// Every organization with its identities (two reads, whatever the number).
async fn all_identities(
    app: &App,
    caller: &Caller,
    locale: Locale,
) -> Result<Vec<(absender_service::api::Org, Vec<Identity>)>, ServiceError> {
    let mut by_org: HashMap<String, Vec<Identity>> = HashMap::new();
    for identity in app.identities().all_identities(caller, locale).await? {
        by_org
            .entry(identity.org_id.clone())
            .or_default()
            .push(identity);
    }
    Ok(app
        .access()
        .list_orgs(caller)
        .await?
        .into_iter()
        .map(|org| {
            let identities = by_org.remove(&org.id).unwrap_or_default();
            (org, identities)
        })
        .collect())
}

async fn orgs_page(
    app: &App,
    session: OperatorSession,
    new_key: Option<String>,
    form: OrgFields,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let OperatorSession { ctx, caller } = session;
    let all = match all_identities(app, &caller, ctx.locale).await {
        Ok(all) => all,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let t = ctx.t;
    let orgs = all
        .into_iter()
        .map(|(org, identities)| OrgView {
            identities: identities
                .into_iter()
                .map(|i| {
                    let b = badge(t, i.status);
                    IdentityBadge {
                        address: i.name(),
                        status_code: b.status_code,
                        status_class: b.status_class,
                    }
                })
                .collect(),
            id: org.id,
            name: org.name,
            contact_email: org.contact_email,
            enabled: org.custom_sender_enabled,
        })
        .collect();
    let (status, error) = super::form_status(error);
    Ok(page(
        status,
        &OrgsPage {
            ctx,
            orgs,
            new_key,
            form,
            error,
        },
    ))
}

async fn orgs(State(app): State<App>, session: OperatorSession) -> Result<Response, UiError> {
    orgs_page(
        &app,
        session,
        None,
        OrgFields {
            locale: "de".into(),
            ..Default::default()
        },
        None,
    )
    .await
}

async fn create_org(
    State(app): State<App>,
    session: OperatorSession,
    CsrfForm(form): CsrfForm<OrgFields>,
) -> Result<Response, UiError> {
    let request = CreateOrg {
        name: form.name.trim().to_string(),
        contact_email: form.contact_email.trim().to_string(),
        locale: Locale::parse(&form.locale).unwrap_or_default(),
    };
    match app.access().create_org(&session.caller, request).await {
        // The key is shown on this answer only; it is never stored in clear.
        Ok(created) => {
            orgs_page(
                &app,
                session,
                Some(created.api_key),
                OrgFields::default(),
                None,
            )
            .await
        }
        Err(e) if fixable(&e) => orgs_page(&app, session, None, form, Some(at_form(e))).await,
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

#[derive(Deserialize)]
struct UpgradeFields {
    enabled: bool,
}

async fn upgrade(
    State(app): State<App>,
    session: OperatorSession,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<UpgradeFields>,
) -> Result<Response, UiError> {
    let change = UpdateOrg {
        custom_sender_enabled: Some(form.enabled),
        ..Default::default()
    };
    match app.access().update_org(&session.caller, &id, change).await {
        Ok(_) => Ok(see_other("/ui/admin")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

struct IdentityRowView {
    address: String,
    org: String,
    status: &'static str,
    status_code: &'static str,
    status_class: &'static str,
    last_check: String,
}

#[derive(Template)]
#[template(path = "ui/admin_identities.html")]
struct IdentitiesPage {
    ctx: Ctx,
    rows: Vec<IdentityRowView>,
}

async fn identities(State(app): State<App>, session: OperatorSession) -> Result<Response, UiError> {
    let OperatorSession { ctx, caller } = session;
    let all = match all_identities(&app, &caller, ctx.locale).await {
        Ok(all) => all,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let t = ctx.t;
    let rows = all
        .into_iter()
        .flat_map(|(org, identities)| {
            identities.into_iter().map(move |i| {
                let b = badge(t, i.status);
                IdentityRowView {
                    last_check: i
                        .parts
                        .dkim
                        .last_checked_at
                        .as_deref()
                        .map(when)
                        .unwrap_or_else(|| t.never.into()),
                    address: i.name(),
                    org: org.name.clone(),
                    status: b.status,
                    status_code: b.status_code,
                    status_class: b.status_class,
                }
            })
        })
        .collect();
    Ok(page(StatusCode::OK, &IdentitiesPage { ctx, rows }))
}

struct EventView {
    at: String,
    address: String,
    part: String,
    change: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "ui/admin_events.html")]
struct EventsPage {
    ctx: Ctx,
    rows: Vec<EventView>,
}

async fn events(State(app): State<App>, session: OperatorSession) -> Result<Response, UiError> {
    let OperatorSession { ctx, caller } = session;
    let loaded = async {
        let events = app.checks().recent_events(&caller, 200).await?;
        let addresses: HashMap<String, String> = all_identities(&app, &caller, ctx.locale)
            .await?
            .into_iter()
            .flat_map(|(_, ids)| ids.into_iter().map(|i| (i.id.clone(), i.name())))
            .collect();
        Ok::<_, ServiceError>((events, addresses))
    };
    let (events, addresses) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let t = ctx.t;
    let rows = events
        .into_iter()
        .map(|e| EventView {
            at: when(&e.event.created_at),
            address: addresses
                .get(&e.identity_id)
                .cloned()
                .unwrap_or(e.identity_id),
            part: e.event.part,
            change: format!("{} → {}", t.status(e.event.from), t.status(e.event.to)),
            detail: e.event.detail,
        })
        .collect();
    Ok(page(StatusCode::OK, &EventsPage { ctx, rows }))
}

#[derive(Template)]
#[template(path = "ui/admin_queue.html")]
struct QueuePage {
    ctx: Ctx,
    mode: String,
    queued: i64,
    suppressions: Vec<(String, Suppression)>,
}

async fn queue(State(app): State<App>, session: OperatorSession) -> Result<Response, UiError> {
    let OperatorSession { ctx, caller } = session;
    let loaded = async {
        let queued = app.suppressions().queued_deliveries(&caller).await?;
        let mut suppressions = Vec::new();
        for org in app.access().list_orgs(&caller).await? {
            let as_org = app.access().act_as_org(&caller, &org.id).await?;
            for s in app
                .suppressions()
                .list_suppressions(&as_org, None, Some(100))
                .await?
            {
                suppressions.push((org.name.clone(), s));
            }
        }
        Ok::<_, ServiceError>((queued, suppressions))
    };
    let (queued, mut suppressions) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    for (_, s) in &mut suppressions {
        s.created_at = when(&s.created_at);
    }
    let mode = format!("{:?}", app.settings().sending.mode).to_lowercase();
    Ok(page(
        StatusCode::OK,
        &QueuePage {
            ctx,
            mode,
            queued,
            suppressions,
        },
    ))
}

#[derive(Template)]
#[template(path = "ui/admin_zones.html")]
struct ZonesPage {
    ctx: Ctx,
    zones: Vec<Zone>,
    name: String,
    error: Option<String>,
}

async fn zones_page(
    app: &App,
    session: OperatorSession,
    name: String,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let OperatorSession { ctx, caller } = session;
    let zones = match app.zones().list_zones(&caller).await {
        Ok(zones) => zones,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let (status, error) = super::form_status(error);
    Ok(page(
        status,
        &ZonesPage {
            ctx,
            zones,
            name,
            error,
        },
    ))
}

async fn zones(State(app): State<App>, session: OperatorSession) -> Result<Response, UiError> {
    zones_page(&app, session, String::new(), None).await
}

#[derive(Deserialize)]
struct ZoneFields {
    #[serde(default)]
    name: String,
}

async fn create_zone(
    State(app): State<App>,
    session: OperatorSession,
    CsrfForm(form): CsrfForm<ZoneFields>,
) -> Result<Response, UiError> {
    match app
        .zones()
        .create_zone(
            &session.caller,
            CreateZone {
                name: form.name.trim().to_string(),
            },
        )
        .await
    {
        Ok(zone) => Ok(see_other(&format!("/ui/admin/zones/{}", zone.name))),
        Err(e) if fixable(&e) => zones_page(&app, session, form.name, Some(at_form(e))).await,
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

#[derive(Default, Deserialize)]
struct RecordFields {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    record_type: String,
    #[serde(default)]
    value: String,
}

#[derive(Template)]
#[template(path = "ui/admin_zone.html")]
struct ZonePage {
    ctx: Ctx,
    zone: String,
    records: Vec<ZoneRecord>,
    form: RecordFields,
    error: Option<String>,
}

async fn zone_page(
    app: &App,
    session: OperatorSession,
    zone: String,
    form: RecordFields,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let OperatorSession { ctx, caller } = session;
    let records = match app.zones().list_zone_records(&caller, &zone).await {
        Ok(records) => records,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let (status, error) = super::form_status(error);
    Ok(page(
        status,
        &ZonePage {
            ctx,
            zone,
            records,
            form,
            error,
        },
    ))
}

async fn zone(
    State(app): State<App>,
    session: OperatorSession,
    Path(zone): Path<String>,
) -> Result<Response, UiError> {
    let form = RecordFields {
        record_type: "CNAME".into(),
        ..Default::default()
    };
    zone_page(&app, session, zone, form, None).await
}

async fn add_record(
    State(app): State<App>,
    session: OperatorSession,
    Path(zone): Path<String>,
    CsrfForm(form): CsrfForm<RecordFields>,
) -> Result<Response, UiError> {
    let request = CreateZoneRecord {
        name: form.name.trim().to_string(),
        record_type: form.record_type.clone(),
        value: form.value.trim().to_string(),
        ttl: None,
    };
    match app
        .zones()
        .add_zone_record(&session.caller, &zone, request)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/ui/admin/zones/{zone}"))),
        Err(e) if fixable(&e) => zone_page(&app, session, zone, form, Some(at_form(e))).await,
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn delete_record(
    State(app): State<App>,
    session: OperatorSession,
    Path((zone, id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app
        .zones()
        .remove_zone_record(&session.caller, &zone, &id)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/ui/admin/zones/{zone}"))),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}
