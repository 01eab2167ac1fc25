//! Email templates in SES's Handlebars syntax: variables, nested attributes,
//! `{{#if}}`, `{{#each}}`; HTML escaped in the HTML part only. A variable the
//! data lacks fails the rendering (as SES's rendering failure) instead of
//! sending a mail with a hole in it.

use super::Templates;
use super::template_shape;
use crate::api::{RenderedTemplate, Template, TemplateContent};
use crate::clock::rfc3339;
use crate::secrets::new_id;
use crate::{Caller, ServiceError};
use absender_store::TemplateRow;
use handlebars::Handlebars;
use serde_json::Value;

/// SES's limits: names, the template's size, the data's size.
const MAX_NAME: usize = 64;
pub(crate) const MAX_TEMPLATE_BYTES: usize = 500 * 1024;
pub(crate) const MAX_DATA_BYTES: usize = 256 * 1024;
/// Templates per organization.
const MAX_TEMPLATES: i64 = 10_000;
/// Arrays in template data hold at most this many items (`{{#each}}`
/// iterates them; with one `{{#each}}` level and at most
/// `template_shape::MAX_EACH_BLOCKS` of them, a rendering stays small).
const MAX_ITEMS: usize = 1000;
/// A rendered part's largest size (a message is never larger).
const MAX_RENDERED_BYTES: usize = 10 * 1024 * 1024;

/// A template compiled once, rendered for each recipient.
pub(crate) struct Compiled {
    /// Subject and text: no escaping (they are not HTML).
    plain: Handlebars<'static>,
    /// The HTML part, escaped as HTML.
    html: Handlebars<'static>,
    has_text: bool,
    has_html: bool,
}

/// A template rendered with one recipient's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest {
        code: "invalid_template",
        message: message.into(),
    }
}

/// An error's first line, at most 300 characters (parser errors quote the
/// whole template line).
fn short(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(300).collect()
}

fn registry(escape: bool) -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    if !escape {
        registry.register_escape_fn(handlebars::no_escape);
    }
    registry
}

impl Compiled {
    /// Compiles `content`; a syntax error names the part and the place.
    pub fn new(content: &TemplateContent) -> Result<Self, ServiceError> {
        let size = content.subject.len()
            + content.text.as_ref().map_or(0, String::len)
            + content.html.as_ref().map_or(0, String::len);
        if size > MAX_TEMPLATE_BYTES {
            return Err(invalid(format!(
                "a template holds at most {MAX_TEMPLATE_BYTES} bytes"
            )));
        }
        if content.text.is_none() && content.html.is_none() {
            return Err(invalid("a template needs a text or an HTML part"));
        }
        for (part, source) in [
            ("subject", Some(&content.subject)),
            ("text", content.text.as_ref()),
            ("html", content.html.as_ref()),
        ] {
            if let Some(Err(why)) = source.map(|s| template_shape::check(s)) {
                return Err(invalid(format!("the {part} part: {why}")));
            }
        }
        let (mut plain, mut html) = (registry(false), registry(true));
        let add = |registry: &mut Handlebars<'static>, part: &str, source: &str| {
            registry
                .register_template_string(part, source)
                .map_err(|e| invalid(format!("the {part} part does not parse: {}", short(&e))))
        };
        add(&mut plain, "subject", &content.subject)?;
        if let Some(text) = &content.text {
            add(&mut plain, "text", text)?;
        }
        if let Some(source) = &content.html {
            add(&mut html, "html", source)?;
        }
        Ok(Self {
            plain,
            html,
            has_text: content.text.is_some(),
            has_html: content.html.is_some(),
        })
    }

    /// The parts rendered with `data` (an object).
    pub fn render(&self, data: &Value) -> Result<Rendered, ServiceError> {
        check_data(data)?;
        let failed = |e: handlebars::RenderError| ServiceError::BadRequest {
            code: "template_rendering_failed",
            message: format!(
                "the template could not be rendered with this data: {}",
                short(&e)
            ),
        };
        // Bounded output: `{{#each}}` over large data stops at the limit.
        let render = |registry: &Handlebars<'static>, part: &str| {
            let mut out = Bounded(Vec::new());
            registry
                .render_to_write(part, data, &mut out)
                .map_err(failed)?;
            String::from_utf8(out.0)
                .map_err(|_| ServiceError::Internal("rendered non-UTF-8".into()))
        };
        let subject = render(&self.plain, "subject")?;
        if subject.contains(['\r', '\n']) {
            return Err(ServiceError::BadRequest {
                code: "template_rendering_failed",
                message: "the rendered subject holds a line break".into(),
            });
        }
        Ok(Rendered {
            subject,
            text: self
                .has_text
                .then(|| render(&self.plain, "text"))
                .transpose()?,
            html: self
                .has_html
                .then(|| render(&self.html, "html"))
                .transpose()?,
        })
    }
}

impl Compiled {
    /// [`Self::render`] off the async workers: a rendering is bounded, yet
    /// large enough not to hold a worker that serves everyone.
    pub async fn render_blocking(
        self: std::sync::Arc<Self>,
        data: Value,
    ) -> Result<Rendered, ServiceError> {
        tokio::task::spawn_blocking(move || self.render(&data))
            .await
            .map_err(|e| ServiceError::Internal(format!("rendering failed: {e}")))?
    }
}

/// A buffer that refuses to grow past [`MAX_RENDERED_BYTES`].
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED_BYTES {
            return Err(std::io::Error::other(format!(
                "the rendered part is larger than {MAX_RENDERED_BYTES} bytes"
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Template data within [`MAX_ITEMS`] items per array, anywhere in it.
pub(crate) fn check_data(data: &Value) -> Result<(), ServiceError> {
    let too_long = match data {
        Value::Array(items) => {
            items.len() > MAX_ITEMS || items.iter().any(|v| check_data(v).is_err())
        }
        Value::Object(fields) => {
            fields.len() > MAX_ITEMS || fields.values().any(|v| check_data(v).is_err())
        }
        _ => false,
    };
    if too_long {
        return Err(ServiceError::BadRequest {
            code: "invalid_template_data",
            message: format!("a list or object in template data holds at most {MAX_ITEMS} items"),
        });
    }
    Ok(())
}

/// Template data as SES passes it: a JSON object in a string.
pub(crate) fn parse_data(data: &str) -> Result<Value, ServiceError> {
    if data.len() > MAX_DATA_BYTES {
        return Err(invalid(format!(
            "template data holds at most {MAX_DATA_BYTES} bytes"
        )));
    }
    match serde_json::from_str(data) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(ServiceError::BadRequest {
            code: "invalid_template_data",
            message: "template data must be a JSON object".into(),
        }),
    }
}

fn check_name(name: &str) -> Result<(), ServiceError> {
    let fine = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if fine {
        Ok(())
    } else {
        Err(ServiceError::Invalid {
            field: "name",
            message: format!("1 to {MAX_NAME} letters, digits, '_' and '-'"),
        })
    }
}

fn view(row: TemplateRow) -> Template {
    Template {
        name: row.name,
        subject: row.subject,
        text: row.text_part,
        html: row.html_part,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

impl Templates<'_> {
    /// Stores a new template after it compiles.
    pub async fn create_template(
        &self,
        caller: &Caller,
        name: &str,
        content: TemplateContent,
    ) -> Result<Template, ServiceError> {
        self.create_tagged(caller, name, content, "[]").await
    }

    /// [`Self::create_template`] with SES's tags (a JSON array).
    pub(crate) async fn create_tagged(
        &self,
        caller: &Caller,
        name: &str,
        content: TemplateContent,
        tags: &str,
    ) -> Result<Template, ServiceError> {
        let org = caller.org()?;
        check_name(name)?;
        Compiled::new(&content)?;
        let store = &self.app.inner.store;
        if store.count_templates(&org.id).await? >= MAX_TEMPLATES {
            return Err(ServiceError::RateLimited {
                retry_after: std::time::Duration::from_secs(3600),
                what: format!("at most {MAX_TEMPLATES} templates; delete one first"),
            });
        }
        let now = self.app.now_ms();
        let row = TemplateRow {
            id: new_id("tpl"),
            org_id: org.id.clone(),
            name: name.to_string(),
            subject: content.subject,
            text_part: content.text,
            html_part: content.html,
            tags: tags.to_string(),
            created_at: now,
            updated_at: now,
        };
        store
            .insert_template(&row)
            .await
            .map_err(ServiceError::exists("template_exists", || {
                format!("this organization has a template named {name} already")
            }))?;
        Ok(view(row))
    }

    /// The organization's template by name.
    pub async fn template(&self, caller: &Caller, name: &str) -> Result<Template, ServiceError> {
        Ok(view(self.row(caller, name).await?))
    }

    pub(crate) async fn row(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<TemplateRow, ServiceError> {
        let org = caller.org()?;
        self.app
            .inner
            .store
            .template(&org.id, name)
            .await?
            .ok_or(ServiceError::NotFound("template"))
    }

    /// The organization's templates by name, after `after`, at most `limit`.
    pub async fn list_templates(
        &self,
        caller: &Caller,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Template>, ServiceError> {
        let org = caller.org()?;
        let rows = self
            .app
            .inner
            .store
            .list_templates(&org.id, after, limit.clamp(1, 1000) as i64)
            .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Replaces a template's content after the new one compiles.
    pub async fn update_template(
        &self,
        caller: &Caller,
        name: &str,
        content: TemplateContent,
    ) -> Result<Template, ServiceError> {
        let org = caller.org()?;
        Compiled::new(&content)?;
        let updated = self
            .app
            .inner
            .store
            .update_template(
                &org.id,
                name,
                &content.subject,
                content.text.as_deref(),
                content.html.as_deref(),
                self.app.now_ms(),
            )
            .await?;
        if !updated {
            return Err(ServiceError::NotFound("template"));
        }
        self.template(caller, name).await
    }

    /// Deletes a template.
    pub async fn delete_template(&self, caller: &Caller, name: &str) -> Result<(), ServiceError> {
        let org = caller.org()?;
        if self.app.inner.store.delete_template(&org.id, name).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("template"))
        }
    }

    /// The template rendered with `data`, as a preview.
    pub async fn render_template(
        &self,
        caller: &Caller,
        name: &str,
        data: &Value,
    ) -> Result<RenderedTemplate, ServiceError> {
        let row = self.row(caller, name).await?;
        let rendered = std::sync::Arc::new(compiled(&row)?)
            .render_blocking(data.clone())
            .await?;
        Ok(RenderedTemplate {
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        })
    }
}

/// A stored template, compiled.
pub(crate) fn compiled(row: &TemplateRow) -> Result<Compiled, ServiceError> {
    Compiled::new(&TemplateContent {
        subject: row.subject.clone(),
        text: row.text_part.clone(),
        html: row.html_part.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content(subject: &str, text: Option<&str>, html: Option<&str>) -> TemplateContent {
        TemplateContent {
            subject: subject.into(),
            text: text.map(Into::into),
            html: html.map(Into::into),
        }
    }

    #[test]
    fn variables_nested_attributes_conditions_and_lists_render() {
        let template = Compiled::new(&content(
            "Hallo {{name}}",
            Some("{{event.title}} am {{event.date}}{{#if vip}} (VIP){{/if}}:{{#each seats}} {{this}}{{/each}}"),
            Some("<p>{{name}}</p>{{#if vip}}<b>VIP</b>{{else}}<i>Gast</i>{{/if}}"),
        ))
        .unwrap();
        let data = json!({"name": "Ada & <Bob>", "event": {"title": "Konzert", "date": "1.5."}, "vip": false, "seats": ["A1", "A2"]});
        let rendered = template.render(&data).unwrap();
        assert_eq!(rendered.subject, "Hallo Ada & <Bob>");
        assert_eq!(rendered.text.unwrap(), "Konzert am 1.5.: A1 A2");
        assert_eq!(
            rendered.html.unwrap(),
            "<p>Ada &amp; &lt;Bob&gt;</p><i>Gast</i>"
        );
    }

    #[test]
    fn a_missing_variable_fails_the_rendering_but_a_missing_condition_is_false() {
        let template = Compiled::new(&content(
            "Hi {{name}}",
            Some("{{#if vip}}VIP{{/if}}."),
            None,
        ))
        .unwrap();
        assert_eq!(
            template
                .render(&json!({"name": "Ada"}))
                .unwrap()
                .text
                .unwrap(),
            "."
        );
        let e = template.render(&json!({})).unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::BadRequest {
                    code: "template_rendering_failed",
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn bad_templates_data_and_names_are_refused() {
        assert!(Compiled::new(&content("{{#if x}}", Some("t"), None)).is_err());
        assert!(Compiled::new(&content("s", None, None)).is_err());
        let big = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert!(Compiled::new(&content("s", Some(&big), None)).is_err());
        // A subject that renders to two lines would inject a header.
        let two_lines = Compiled::new(&content("{{s}}", Some("t"), None)).unwrap();
        assert!(
            two_lines
                .render(&json!({"s": "a\r\nBcc: x@y.test"}))
                .is_err()
        );
        assert!(parse_data("[1]").is_err());
        assert!(parse_data("not json").is_err());
        assert!(parse_data(r#"{"a": 1}"#).is_ok());
        for name in ["", "a b", "ä", &"x".repeat(65)] {
            assert!(check_name(name).is_err(), "{name:?}");
        }
        assert!(check_name("Booking_Confirmation-2").is_ok());
    }

    #[test]
    fn a_deeply_nested_template_is_refused_before_it_is_compiled() {
        // An organization's template is untrusted: deep nesting must not
        // overflow the stack of the thread that compiles or renders it.
        let deepest = MAX_TEMPLATE_BYTES / "{{#if a}}{{/if}}".len() - 1;
        for depth in [
            template_shape::MAX_DEPTH,
            template_shape::MAX_DEPTH + 1,
            1_000,
            deepest,
        ] {
            let source = format!("{}x{}", "{{#if a}}".repeat(depth), "{{/if}}".repeat(depth));
            match Compiled::new(&content("s", Some(&source), None)) {
                Ok(template) => {
                    assert!(depth <= template_shape::MAX_DEPTH);
                    let rendered = template.render(&json!({"a": true})).unwrap();
                    assert_eq!(rendered.text.unwrap(), "x");
                }
                Err(e) => {
                    assert!(depth > template_shape::MAX_DEPTH);
                    assert!(e.to_string().len() < 1_000, "a short error: {e}");
                }
            }
        }
        // Parts that include each other: refused, not rendered forever.
        let mutual = content("{{> text}}", Some("{{> subject}}"), None);
        assert!(Compiled::new(&mutual).is_err());
    }

    #[test]
    fn long_lists_in_the_data_are_refused() {
        let template =
            Compiled::new(&content("s", Some("{{#each a}}{{this}}{{/each}}"), None)).unwrap();
        let fine: Vec<u32> = (0..1000).collect();
        assert_eq!(
            template
                .render(&json!({"a": fine}))
                .unwrap()
                .text
                .unwrap()
                .len(),
            2890
        );
        let long: Vec<u32> = (0..1001).collect();
        assert!(template.render(&json!({"a": long})).is_err());
        assert!(
            template
                .render(&json!({"a": [1], "b": {"c": [long]}}))
                .is_err()
        );
    }

    #[test]
    fn rendering_stops_at_its_size_limit() {
        let template = Compiled::new(&content(
            "s",
            Some("{{#each a}}{{../big}}{{../big}}{{/each}}"),
            None,
        ))
        .unwrap();
        let a: Vec<u32> = (0..1000).collect();
        let big = "x".repeat(10_000);
        let e = template.render(&json!({"a": a, "big": big})).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }
}
