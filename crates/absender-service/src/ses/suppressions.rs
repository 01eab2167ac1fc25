//! SES's account-level suppression list over the organization's own:
//! SES's `Reason` is `COMPLAINT` for complaints and `BOUNCE` for every other
//! native reason; an address put over SES is suppressed as `manual`.

use super::{Ses, epoch_seconds};
use crate::api::AddSuppression;
use crate::{Caller, ServiceError};
use absender_core::EmailAddress;
use serde::{Deserialize, Serialize};

/// SES's page sizes for this list.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

/// `PutSuppressedDestination`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutSuppressed {
    pub email_address: String,
    pub reason: String,
}

/// One suppressed address in a listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuppressedSummary {
    pub email_address: String,
    pub reason: &'static str,
    pub last_update_time: f64,
}

/// `GetSuppressedDestination`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuppressedDestination {
    pub email_address: String,
    pub reason: &'static str,
    pub last_update_time: f64,
    pub attributes: SuppressedAttributes,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuppressedAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// `ListSuppressedDestinations`' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuppressedPage {
    pub suppressed_destination_summaries: Vec<SuppressedSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// What `ListSuppressedDestinations` asks for (from the query).
#[derive(Debug, Default)]
pub struct SuppressedQuery {
    pub reasons: Vec<String>,
    /// Epoch seconds, as SES writes them (or an RFC 3339 date).
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub next_token: Option<String>,
    pub page_size: Option<String>,
}

/// SES's name for a native reason.
fn ses_reason(native: &str) -> &'static str {
    if native == "complaint" {
        "COMPLAINT"
    } else {
        "BOUNCE"
    }
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest {
        code: "invalid_parameter",
        message: message.into(),
    }
}

/// A query date in milliseconds: epoch seconds or RFC 3339.
fn date_ms(given: &str) -> Result<i64, ServiceError> {
    if let Ok(seconds) = given.parse::<f64>() {
        return Ok((seconds * 1000.0) as i64);
    }
    humantime::parse_rfc3339_weak(given)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .ok_or_else(|| bad(format!("{given:?} is not a date")))
}

impl Ses<'_> {
    /// `PutSuppressedDestination`.
    pub async fn put_suppressed(
        &self,
        caller: &Caller,
        request: PutSuppressed,
    ) -> Result<(), ServiceError> {
        if !matches!(request.reason.as_str(), "BOUNCE" | "COMPLAINT") {
            return Err(bad("Reason is BOUNCE or COMPLAINT"));
        }
        self.app
            .suppressions()
            .add_suppression(
                caller,
                AddSuppression {
                    address: request.email_address,
                    detail: Some(format!("put over the SES API as {}", request.reason)),
                },
            )
            .await?;
        Ok(())
    }

    /// `GetSuppressedDestination`.
    pub async fn get_suppressed(
        &self,
        caller: &Caller,
        address: &str,
    ) -> Result<SuppressedDestination, ServiceError> {
        let org = caller.org()?;
        let parsed =
            EmailAddress::parse(address).map_err(|_| ServiceError::NotFound("suppression"))?;
        let key = crate::sending::suppressions::suppression_key(&parsed);
        let found = self
            .app
            .inner
            .store
            .suppressed_among(&org.id, &[key])
            .await?;
        let row = found
            .into_iter()
            .next()
            .ok_or(ServiceError::NotFound("suppression"))?;
        Ok(SuppressedDestination {
            reason: ses_reason(&row.reason),
            last_update_time: epoch_seconds(row.created_at),
            attributes: SuppressedAttributes {
                message_id: row.message_id,
            },
            email_address: row.address,
        })
    }

    /// `DeleteSuppressedDestination`.
    pub async fn delete_suppressed(
        &self,
        caller: &Caller,
        address: &str,
    ) -> Result<(), ServiceError> {
        if EmailAddress::parse(address).is_err() {
            return Err(ServiceError::NotFound("suppression"));
        }
        self.app
            .suppressions()
            .remove_suppression(caller, address)
            .await
    }

    /// `ListSuppressedDestinations`: by address, a page at a time
    /// (`NextToken` is the last address of the page before), filtered by
    /// SES reason and by date.
    pub async fn list_suppressed(
        &self,
        caller: &Caller,
        query: SuppressedQuery,
    ) -> Result<SuppressedPage, ServiceError> {
        let org = caller.org()?;
        let size = match query.page_size.as_deref() {
            None => DEFAULT_PAGE,
            Some(given) => given
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| bad(format!("PageSize must be 1 to {MAX_PAGE}")))?,
        };
        for reason in &query.reasons {
            if !matches!(reason.as_str(), "BOUNCE" | "COMPLAINT") {
                return Err(bad("Reason is BOUNCE or COMPLAINT"));
            }
        }
        let start = query.start_date.as_deref().map(date_ms).transpose()?;
        let end = query.end_date.as_deref().map(date_ms).transpose()?;
        let rows = self
            .app
            .inner
            .store
            .list_suppressions(&org.id, query.next_token.as_deref(), size as i64)
            .await?;
        // A full page may have more after it, whatever the filters keep.
        let next_token = (rows.len() == size)
            .then(|| rows.last().map(|r| r.address.clone()))
            .flatten();
        let summaries = rows
            .into_iter()
            .filter(|r| {
                query.reasons.is_empty() || query.reasons.iter().any(|q| q == ses_reason(&r.reason))
            })
            .filter(|r| start.is_none_or(|s| r.created_at >= s))
            .filter(|r| end.is_none_or(|e| r.created_at <= e))
            .map(|r| SuppressedSummary {
                reason: ses_reason(&r.reason),
                last_update_time: epoch_seconds(r.created_at),
                email_address: r.address,
            })
            .collect();
        Ok(SuppressedPage {
            suppressed_destination_summaries: summaries,
            next_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaints_are_complaints_and_every_other_reason_a_bounce() {
        assert_eq!(ses_reason("complaint"), "COMPLAINT");
        for native in ["hard_bounce", "unsubscribe", "manual"] {
            assert_eq!(ses_reason(native), "BOUNCE");
        }
    }

    #[test]
    fn query_dates_are_epoch_seconds_or_rfc3339() {
        assert_eq!(date_ms("1700000000").unwrap(), 1_700_000_000_000);
        assert_eq!(date_ms("1700000000.5").unwrap(), 1_700_000_000_500);
        assert_eq!(date_ms("2023-11-14T22:13:20Z").unwrap(), 1_700_000_000_000);
        assert!(date_ms("yesterday").is_err());
    }
}
