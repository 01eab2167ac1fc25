//! `/api/v1/templates`: email templates in SES's Handlebars syntax, the same
//! ones the SES API and the UI use.

use crate::ApiError;
use crate::extract::{Auth, Json, Query};
use absender_service::App;
use absender_service::api::{List, NewTemplate, RenderedTemplate, Template, TemplateContent};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/templates", get(list).post(create))
        .route(
            "/api/v1/templates/{name}",
            get(show).put(update).delete(remove),
        )
        .route("/api/v1/templates/{name}/render", post(render))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<usize>,
    /// The last name of the previous page.
    after: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderBody {
    /// The sample data, a JSON object.
    data: serde_json::Value,
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
    Query(query): Query<ListQuery>,
) -> Result<Json<List<Template>>, ApiError> {
    Ok(Json(List {
        items: app
            .templates()
            .list_templates(&caller, query.after.as_deref(), query.limit.unwrap_or(100))
            .await?,
    }))
}

async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<NewTemplate>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    let name = body.name.clone();
    let created = app
        .templates()
        .create_template(&caller, &name, body.content())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(name): Path<String>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(app.templates().template(&caller, &name).await?))
}

async fn update(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(name): Path<String>,
    Json(body): Json<TemplateContent>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(
        app.templates()
            .update_template(&caller, &name, body)
            .await?,
    ))
}

async fn remove(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.templates().delete_template(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn render(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(name): Path<String>,
    Json(body): Json<RenderBody>,
) -> Result<Json<RenderedTemplate>, ApiError> {
    Ok(Json(
        app.templates()
            .render_template(&caller, &name, &body.data)
            .await?,
    ))
}
