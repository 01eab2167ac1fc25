//! The organization's dashboard: sends, deliveries, bounces and complaints
//! per day for 30 days as a chart drawn on the server (SVG, readable
//! without JavaScript, with the numbers as a table beside it), the
//! reputation state and the quotas with their use.

use crate::ui::respond::{UiError, page};
use crate::ui::session::{Ctx, OrgSession};
use absender_service::App;
use absender_service::sending::history::Dashboard;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Router<App> {
    Router::new().route("/dashboard", get(dashboard))
}

/// The chart's drawing area in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;

/// One line of the chart.
struct Series {
    class: &'static str,
    label: &'static str,
    points: String,
}

/// One row of the table beside the chart.
struct DayRow {
    date: String,
    sends: i64,
    deliveries: i64,
    bounces: i64,
    complaints: i64,
}

#[derive(Template)]
#[template(path = "ui/dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    series: Vec<Series>,
    rows: Vec<DayRow>,
    peak: i64,
    first_date: String,
    last_date: String,
    dashboard: Dashboard,
    bounce_percent: String,
    complaint_percent: String,
}

/// `YYYY-MM-DD` of a day since the epoch.
fn date(day: i64) -> String {
    let at = absender_core::events::timestamp(day * 86_400_000);
    at.get(..10).unwrap_or(&at).to_string()
}

/// SVG polyline points for `values`, scaled so that `peak` reaches the top.
fn points(values: &[i64], peak: i64) -> String {
    let step = WIDTH / (values.len().max(2) - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = HEIGHT - (*v as f64 / peak.max(1) as f64) * HEIGHT;
            format!("{:.1},{:.1}", i as f64 * step, y)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn dashboard(State(app): State<App>, session: OrgSession) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let dashboard = match app.sending().dashboard(&caller).await {
        Ok(d) => d,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let days = &dashboard.days;
    let column = |f: fn(&absender_service::sending::history::DayCounts) -> i64| {
        days.iter().map(f).collect::<Vec<_>>()
    };
    let (sends, deliveries, bounces, complaints) = (
        column(|d| d.sends),
        column(|d| d.deliveries),
        column(|d| d.bounces),
        column(|d| d.complaints),
    );
    let peak = [&sends, &deliveries, &bounces, &complaints]
        .iter()
        .flat_map(|c| c.iter().copied())
        .max()
        .unwrap_or(0);
    let t = ctx.t;
    let series = vec![
        Series {
            class: "sends",
            label: t.dash_sends,
            points: points(&sends, peak),
        },
        Series {
            class: "deliveries",
            label: t.dash_deliveries,
            points: points(&deliveries, peak),
        },
        Series {
            class: "bounces",
            label: t.dash_bounces,
            points: points(&bounces, peak),
        },
        Series {
            class: "complaints",
            label: t.dash_complaints,
            points: points(&complaints, peak),
        },
    ];
    let rows = days
        .iter()
        .rev()
        .map(|d| DayRow {
            date: date(d.day),
            sends: d.sends,
            deliveries: d.deliveries,
            bounces: d.bounces,
            complaints: d.complaints,
        })
        .collect();
    let percent = |rate: f64| format!("{:.2} %", rate * 100.0);
    Ok(page(
        StatusCode::OK,
        &DashboardPage {
            ctx,
            series,
            rows,
            peak,
            first_date: days.first().map(|d| date(d.day)).unwrap_or_default(),
            last_date: days.last().map(|d| date(d.day)).unwrap_or_default(),
            bounce_percent: percent(dashboard.reputation.bounce_rate),
            complaint_percent: percent(dashboard.reputation.complaint_rate),
            dashboard,
        },
    ))
}
