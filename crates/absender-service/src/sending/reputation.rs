//! Reputation as SES enforces it: the organization's hard bounces and
//! complaints over its recent sends (counted in the store as results are
//! written, `absender_core::reputation` judges them). Over a pause rate its
//! sending is paused at once, with a notice to the organization and to the
//! operator; the operator resumes it, which starts the counts over.

use super::Sending;
use crate::api::Reputation;
use crate::identity::notices::sending_paused;
use crate::settings::ReputationSettings;
use crate::{Caller, ServiceError};
use absender_core::Locale;
use absender_core::reputation::{Counts, Enforcement, Judgement, Thresholds, judge};
use absender_store::OrgRow;

fn thresholds(settings: &ReputationSettings) -> Thresholds {
    Thresholds {
        min_sample: settings.min_sample,
        review_bounce_rate: settings.review_bounce_rate,
        pause_bounce_rate: settings.pause_bounce_rate,
        review_complaint_rate: settings.review_complaint_rate,
        pause_complaint_rate: settings.pause_complaint_rate,
    }
}

fn counts(org: &OrgRow) -> Counts {
    Counts {
        sends: org.rep_sends,
        bounces: org.rep_bounces,
        complaints: org.rep_complaints,
    }
}

/// SES's enforcement status of `org`: shut down while paused, else what
/// its rates call for (a rate at the pause line before the pause is written
/// reads as probation).
pub(crate) fn enforcement(org: &OrgRow, settings: &ReputationSettings) -> (Enforcement, Judgement) {
    let judged = judge(counts(org), &thresholds(settings));
    let state = match (org.sending_enabled, judged.state) {
        (false, _) => Enforcement::Shutdown,
        (true, Enforcement::Shutdown) => Enforcement::Probation,
        (true, state) => state,
    };
    (state, judged)
}

impl Sending<'_> {
    /// `GET /api/v1/reputation`.
    pub async fn reputation(&self, caller: &Caller) -> Result<Reputation, ServiceError> {
        // Read fresh, not from the send path's one-second cache: a report
        // applied a moment ago shows.
        let org = self
            .app
            .inner
            .store
            .org(&caller.org()?.id)
            .await?
            .ok_or(ServiceError::NotFound("organization"))?;
        let settings = &self.app.inner.settings.reputation;
        let (state, judged) = enforcement(&org, settings);
        let reason = match state {
            Enforcement::Shutdown => org.paused_reason.clone().or(judged.reason),
            _ => judged.reason,
        };
        Ok(Reputation {
            state: state.as_str().to_string(),
            reason,
            sending_enabled: org.sending_enabled,
            sends: org.rep_sends,
            bounces: org.rep_bounces,
            complaints: org.rep_complaints,
            bounce_rate: judged.bounce_rate,
            complaint_rate: judged.complaint_rate,
            min_sample: settings.min_sample,
            review_bounce_rate: settings.review_bounce_rate,
            pause_bounce_rate: settings.pause_bounce_rate,
            review_complaint_rate: settings.review_complaint_rate,
            pause_complaint_rate: settings.pause_complaint_rate,
        })
    }

    /// After results with bounces or complaints were written: pauses each
    /// of these organizations whose rates crossed the pause line. One node
    /// pauses and sends the notices; a failure is logged (the next bounce
    /// judges again).
    pub(crate) async fn judge_reputation(&self, org_ids: &[String]) {
        for org_id in org_ids {
            if let Err(e) = self.judge_one(org_id).await {
                tracing::warn!(%org_id, error = %e, "could not judge an organization's reputation");
            }
        }
    }

    async fn judge_one(&self, org_id: &str) -> Result<(), ServiceError> {
        let store = &self.app.inner.store;
        let Some(org) = store.org(org_id).await? else {
            return Ok(());
        };
        let judged = judge(
            counts(&org),
            &thresholds(&self.app.inner.settings.reputation),
        );
        let (Enforcement::Shutdown, Some(reason), true) =
            (judged.state, &judged.reason, org.sending_enabled)
        else {
            return Ok(());
        };
        let now = self.app.now_ms();
        if !store.pause_org(&org, reason, now).await? {
            return Ok(());
        }
        self.forget_org(org_id);
        tracing::warn!(%org_id, %reason, "sending paused by reputation");
        let platform = &self.app.inner.settings.platform;
        let locale = Locale::parse(&org.locale).unwrap_or_default();
        let to_org = sending_paused(locale, &platform.name, &org.name, reason);
        self.send_system_mail(&org, &org.contact_email, &to_org, None)
            .await?;
        let to_operator = sending_paused(Locale::En, &platform.name, &org.name, reason);
        self.send_system_mail(&org, &platform.upgrade_contact, &to_operator, None)
            .await
    }
}
