//! DNS checks of identities: on request, on demand, and on a schedule. The
//! DNS client (absender-dns) observes, the core judges and moves statuses, this
//! module records the outcome, its events, and tells the organization.

use super::Checks;
use crate::api::{Event, Identity, OperatorEvent};
use crate::batch_write::{WhenAway, write_isolating};
use crate::clock::rfc3339;
use crate::identity::requests as identities;
use crate::secrets::new_id;
use crate::{App, Caller, ServiceError};
use absender_core::check::{self, PartCheck, Verdict};
use absender_core::decision::{self, Before, CheckedPart, PartState, PartVerdicts, Schedule};
use absender_core::finding::Finding;
use absender_core::lifecycle::Deadlines;
use absender_core::records::{platform_key_name, spf_policy};
use absender_core::{Domain, IdentityParts, Locale, Selector, Status};
use absender_dns::{Observation, Target};
use absender_store::{
    CheckUpdate, IdentityCheckRow, IdentityEventRow, IdentityRow, OrgRow, StoreError,
};
use std::time::Duration;

/// The pure checks' verdicts on one observation.
struct Verdicts {
    dkim: PartCheck,
    spf: PartCheck,
    mail_from: PartCheck,
    /// Advice only: DMARC never decides a status.
    dmarc: Vec<Finding>,
}

/// What the event of a part's change says: "records verified", or the codes found.
fn event_detail(check: &PartCheck) -> String {
    if check.verdict == Verdict::Verified {
        return "records verified".to_string();
    }
    check
        .findings
        .iter()
        .map(Finding::code)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How often a watched identity's DNS is checked (see [`App::watch_identity`]).
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// How long a node holds a claimed check: longer than the slowest check
/// (a dozen lookups, each up to 2 × 2 s), so that only a dead node's lease runs out.
pub const CHECK_LEASE: Duration = Duration::from_secs(120);
/// How many due identities one scheduler round claims.
const CLAIM_BATCH: i64 = 512;

/// A check cut short because the server stops.
fn stopping() -> ServiceError {
    ServiceError::Unavailable {
        code: "shutting_down",
        message: "absender is stopping; the check runs again after the restart".into(),
    }
}

fn status(s: &str) -> Result<Status, ServiceError> {
    Status::parse(s).ok_or_else(|| ServiceError::corrupt("status"))
}

/// A finished check of one identity, ready to be written.
struct Checked {
    org: OrgRow,
    row: IdentityRow,
    outcome: Outcome,
}

/// What a check decided, before it is written.
struct Outcome {
    update: CheckUpdate,
    before: Status,
    after: Status,
    findings: Vec<Finding>,
}

impl Checks<'_> {
    fn deadlines(&self) -> Deadlines {
        let checks = &self.app.inner.settings.checks;
        Deadlines {
            verify_within: checks.verify_within,
            repair_within: checks.repair_within,
        }
    }

    async fn target(&self, org: &OrgRow, row: &IdentityRow) -> Result<Target, ServiceError> {
        let store = &self.app.inner.store;
        let dns = &self.app.inner.platform_dns;
        let selectors = match store.own_dkim_key(&org.id, &row.domain).await? {
            // The organization's own key: its TXT record, no CNAME.
            Some(own) => vec![(
                format!("{}._domainkey.{}", own.selector, row.domain),
                None,
                own.public_key,
            )],
            None => store
                .dkim_keys(&org.id, &row.domain)
                .await?
                .iter()
                .map(|k| {
                    let selector = Selector::parse(&k.selector)
                        .map_err(|_| ServiceError::corrupt("selector"))?;
                    Ok((
                        format!("{selector}._domainkey.{}", row.domain),
                        Some(platform_key_name(&selector, dns)),
                        k.public_key.clone(),
                    ))
                })
                .collect::<Result<Vec<_>, ServiceError>>()?,
        };
        let own = selectors
            .first()
            .is_some_and(|(_, target, _)| target.is_none());
        if !own && selectors.len() != crate::identity::keys::SELECTORS_PER_DOMAIN as usize {
            return Err(ServiceError::Internal(format!(
                "{} has no complete set of DKIM keys",
                row.domain
            )));
        }
        Ok(Target {
            domain: row.domain.clone(),
            selectors,
            spf_include: dns.spf_domain.to_string(),
            sending_ips: self.app.inner.settings.platform.sending_ips.clone(),
            helo_domain: self.app.inner.settings.platform.domain.clone(),
            mail_from: row.mail_from_domain.clone(),
        })
    }

    /// Checks one identity now and records the outcome.
    pub(crate) async fn check(&self, row: &IdentityRow) -> Result<(), ServiceError> {
        let checked = self.observe_and_decide(row).await?;
        self.record(&[checked]).await
    }

    /// Looks at the DNS and decides what changes; writes nothing.
    async fn observe_and_decide(&self, row: &IdentityRow) -> Result<Checked, ServiceError> {
        let store = &self.app.inner.store;
        let org = store
            .org(&row.org_id)
            .await?
            .ok_or_else(|| ServiceError::corrupt("identity without organization"))?;
        let target = self.target(&org, row).await?;
        let observation = self.observe_within_deadline(&target).await?;
        let previous = store.identity_checks(&row.id).await?;
        let outcome = self.decide(row, &observation, &previous)?;
        Ok(Checked {
            org,
            row: row.clone(),
            outcome,
        })
    }

    /// The DNS client's observation, cut off after `checks.timeout` (then it
    /// counts as no answer: `dns_timeout`, temporary) or when the server stops.
    async fn observe_within_deadline(&self, target: &Target) -> Result<Observation, ServiceError> {
        let observe = tokio::time::timeout(
            self.app.inner.settings.checks.timeout,
            self.app.inner.dns_client.observe(target),
        );
        tokio::select! {
            () = self.app.inner.stopping.cancelled() => Err(stopping()),
            observed = observe => match observed {
                Ok(observation) => Ok(observation?),
                Err(_) => {
                    tracing::warn!(domain = %target.domain, "DNS check ran out of time");
                    Ok(Observation::timed_out(target))
                }
            },
        }
    }

    /// Writes the outcomes of several checks in one transaction (one fsync for
    /// all), then tells organizations about changed statuses.
    async fn record(&self, checked: &[Checked]) -> Result<(), ServiceError> {
        let written = self.save(checked).await?;
        self.tell(&written).await
    }

    /// Saves outcomes in one transaction; returns those written (the outcome
    /// of a check whose lease another node took is dropped).
    async fn save<'c>(&self, checked: &'c [Checked]) -> Result<Vec<&'c Checked>, StoreError> {
        let updates: Vec<CheckUpdate> = checked.iter().map(|c| c.outcome.update.clone()).collect();
        let saved = self
            .app
            .inner
            .store
            .save_checks(&updates, &self.app.inner.node)
            .await?;
        Ok(checked
            .iter()
            .filter(|c| saved.contains(&c.row.id))
            .collect())
    }

    /// Logs written checks and tells organizations about changed statuses.
    async fn tell(&self, checked: &[&Checked]) -> Result<(), ServiceError> {
        for Checked { org, row, outcome } in checked.iter().copied() {
            tracing::info!(identity_id = %row.id, dkim = %outcome.update.dkim_status, spf = %outcome.update.spf_status, "identity checked");
            if outcome.before != outcome.after {
                self.notify_status(org, row, outcome.before, outcome.after, &outcome.findings)
                    .await?;
            }
        }
        Ok(())
    }

    /// What the pure checks say of `observation`.
    fn verdicts(&self, domain: &Domain, observation: &Observation) -> Verdicts {
        let dns = &self.app.inner.platform_dns;
        Verdicts {
            dkim: check::check_dkim(&observation.dkim),
            spf: check::check_spf(&observation.spf, dns.spf_domain.as_str(), &spf_policy(dns)),
            mail_from: check::check_mail_from(
                &observation.mail_from_mx,
                &observation.mail_from_spf,
                dns.bounce_host.as_str(),
                dns.spf_domain.as_str(),
                &spf_policy(dns),
            ),
            dmarc: check::check_dmarc(domain.as_str(), &observation.dmarc),
        }
    }

    fn decide(
        &self,
        row: &IdentityRow,
        observation: &Observation,
        previous: &[IdentityCheckRow],
    ) -> Result<Outcome, ServiceError> {
        let now = self.app.now_ms();
        let domain =
            Domain::parse(&row.domain).map_err(|_| ServiceError::corrupt("identity domain"))?;
        let Verdicts {
            dkim,
            spf,
            mail_from,
            dmarc,
        } = self.verdicts(&domain, observation);
        let previous_of = |part: &str| previous.iter().find(|p| p.part == part);
        let state = |part: CheckedPart, stored: &str| {
            Ok::<_, ServiceError>(PartState {
                status: status(stored)?,
                since_ms: previous_of(part.as_str()).map_or(row.updated_at, |p| p.status_since),
            })
        };
        let before = Before {
            address: crate::identity::requests::address_part(row)?,
            dkim: state(CheckedPart::Dkim, &row.dkim_status)?,
            spf: state(CheckedPart::Spf, &row.spf_status)?,
            mail_from: state(CheckedPart::MailFrom, &row.mail_from_status)?,
            checks_in_status: u32::try_from(row.checks_in_status).unwrap_or(u32::MAX),
        };
        let verdicts = PartVerdicts {
            dkim: dkim.verdict,
            spf: spf.verdict,
            mail_from: mail_from.verdict,
        };
        let checks = &self.app.inner.settings.checks;
        let schedule = Schedule {
            deadlines: self.deadlines(),
            recheck_verified: checks.recheck_interval,
        };
        let decided = decision::decide(&before, &verdicts, now, &schedule);
        let check_of = |part: CheckedPart| match part {
            CheckedPart::Dkim => &dkim,
            CheckedPart::Spf => &spf,
            CheckedPart::MailFrom => &mail_from,
        };
        let events = decided
            .changes
            .iter()
            .map(|change| {
                let (part, detail) = match change.part {
                    Some(part) => (part.as_str(), event_detail(check_of(part))),
                    None => ("identity", "DNS check".to_string()),
                };
                IdentityEventRow {
                    id: new_id("evt"),
                    identity_id: row.id.clone(),
                    org_id: row.org_id.clone(),
                    part: part.to_string(),
                    from_status: change.from.as_str().to_string(),
                    to_status: change.to.as_str().to_string(),
                    detail,
                    created_at: now,
                }
            })
            .collect();

        let soa = observation.soa.as_ref();
        let part_row = |part: CheckedPart| {
            let check = check_of(part);
            IdentityCheckRow {
                identity_id: row.id.clone(),
                part: part.as_str().to_string(),
                status_since: decided.since(part, &before, now),
                diagnostics: identities::stored(&check.findings),
                error_type: check.error_type.map(|t| t.as_str().to_string()),
                soa_zone: soa.map(|s| s.zone.clone()),
                soa_mname: soa.map(|s| s.mname.clone()),
                soa_serial: soa.map(|s| i64::from(s.serial)),
                last_checked_at: Some(now),
                last_success_at: if check.verdict == Verdict::Verified {
                    Some(now)
                } else {
                    previous_of(part.as_str()).and_then(|p| p.last_success_at)
                },
            }
        };
        // DMARC is advice: stored for the pages, never a status.
        let since_dmarc = previous_of("dmarc").map_or(row.created_at, |p| p.status_since);
        let dmarc_row = IdentityCheckRow {
            identity_id: row.id.clone(),
            part: "dmarc".to_string(),
            status_since: since_dmarc,
            diagnostics: identities::stored(&dmarc),
            error_type: None,
            soa_zone: soa.map(|s| s.zone.clone()),
            soa_mname: soa.map(|s| s.mname.clone()),
            soa_serial: soa.map(|s| i64::from(s.serial)),
            last_checked_at: Some(now),
            last_success_at: Some(now),
        };
        let parts = vec![
            part_row(CheckedPart::Dkim),
            part_row(CheckedPart::Spf),
            part_row(CheckedPart::MailFrom),
            dmarc_row,
        ];
        let findings = dkim.findings.iter().chain(&spf.findings).cloned().collect();
        Ok(Outcome {
            update: CheckUpdate {
                identity_id: row.id.clone(),
                dkim_status: decided.dkim.as_str().to_string(),
                spf_status: decided.spf.as_str().to_string(),
                mail_from_status: decided.mail_from.as_str().to_string(),
                next_check_at: decided.next_check_at,
                checks_in_status: i64::from(decided.checks_in_status),
                now_ms: now,
                parts,
                events,
                dkim_generation: row.dkim_generation,
                own_public_key: observation
                    .dkim
                    .iter()
                    .find(|s| s.expected_target.is_none())
                    .map(|s| s.public_key.clone()),
            },
            before: decided.overall_before,
            after: decided.overall_after,
            findings,
        })
    }

    /// Mails the organization's contact when its identity is ready, broken or failed.
    pub(crate) async fn notify_status(
        &self,
        org: &OrgRow,
        row: &IdentityRow,
        from: Status,
        to: Status,
        findings: &[Finding],
    ) -> Result<(), ServiceError> {
        let locale = Locale::parse(&org.locale).unwrap_or_default();
        let platform = &self.app.inner.settings.platform.name;
        if let Some(text) = crate::identity::notices::status_change(
            locale,
            platform,
            &row.address,
            from,
            to,
            findings,
        ) {
            self.app
                .sending()
                .send_system_mail(org, &org.contact_email, &text, None)
                .await?;
            tracing::info!(org_id = %org.id, identity_id = %row.id, from = from.as_str(), to = to.as_str(), "status notice sent");
        }
        Ok(())
    }

    /// Claims the identities whose check is due and checks them, a bounded
    /// number at once. Returns how many were checked.
    /// Checks due identities until `shutdown`: due checks are claimed as
    /// workers free up (up to `checks.concurrency` at once), so a slow or
    /// hostile check holds one worker for at most `checks.timeout` and delays
    /// no other identity. Outcomes are written in batches by a writer of their own.
    pub async fn run_scheduler(
        &self,
        tick: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let workers = self.app.inner.settings.checks.concurrency.max(1);
        // Bounded: a check holds its worker until its outcome is taken, so a
        // slow writer slows claiming instead of piling outcomes up.
        let (done, outcomes) = tokio::sync::mpsc::channel::<Checked>(workers);
        let mut writer = tokio::spawn(Checks::write_outcomes(self.app.clone(), outcomes));
        let mut running = tokio::task::JoinSet::new();
        // Whether the last claim took all it asked for (so more may be due).
        let mut more_due = true;
        loop {
            let free = workers.saturating_sub(running.len());
            // Once stopping, nothing new is claimed (a check would only end at once).
            if more_due && free > 0 && !self.app.inner.stopping.is_cancelled() {
                let now = self.app.now_ms();
                let lease_until = now + CHECK_LEASE.as_millis() as i64;
                let wanted = i64::try_from(free).unwrap_or(i64::MAX).min(CLAIM_BATCH);
                match self
                    .app
                    .inner
                    .store
                    .claim_due_checks(now, lease_until, wanted, &self.app.inner.node)
                    .await
                {
                    Ok(due) => {
                        more_due = due.len() as i64 == wanted;
                        for row in due {
                            let (app, done) = (self.app.clone(), done.clone());
                            running.spawn(async move { app.checks().check_one(row, done).await });
                        }
                    }
                    Err(e) => {
                        more_due = false;
                        tracing::warn!(error = %e, "claiming due checks failed");
                    }
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.app.inner.wake_checks.notified() => more_due = true,
                () = tokio::time::sleep(tick) => more_due = true,
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        // Checks in flight see `stopping` and release their leases; a check
        // that does not end within a second is dropped (its lease runs out).
        self.app.inner.stopping.cancel();
        let drained = async { while running.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(1), drained)
            .await
            .is_err()
        {
            running.abort_all();
        }
        drop(done);
        if tokio::time::timeout(Duration::from_secs(2), &mut writer)
            .await
            .is_err()
        {
            tracing::warn!("DNS check outcomes were still being written at stop");
            writer.abort();
        }
    }

    /// Checks one claimed identity and hands the outcome to the writer.
    async fn check_one(&self, row: IdentityRow, done: tokio::sync::mpsc::Sender<Checked>) {
        match self.observe_and_decide(&row).await {
            Ok(checked) => {
                let _ = done.send(checked).await;
            }
            Err(e) => {
                if !matches!(e, ServiceError::Unavailable { .. }) {
                    tracing::warn!(identity_id = %row.id, error = %e, "DNS check failed");
                }
                self.release_failed(&row.id, &e).await;
            }
        }
    }

    /// Writes finished checks as they come, many in one transaction. A batch
    /// that cannot be written is split down to single checks, so that one bad
    /// row costs only its own identity a later retry.
    async fn write_outcomes(app: App, mut outcomes: tokio::sync::mpsc::Receiver<Checked>) {
        while let Some(first) = outcomes.recv().await {
            let mut batch = vec![first];
            while let Ok(more) = outcomes.try_recv() {
                batch.push(more);
            }
            app.checks().write_batch(&batch).await;
        }
    }

    /// Saves outcomes in one transaction; a row the store refuses is isolated
    /// and its identity checked again later, so it holds up no other.
    async fn write_batch(&self, batch: &[Checked]) {
        let failed = write_isolating(batch, WhenAway::GiveUp, StoreError::is_transient, |part| {
            self.save_and_tell(part)
        })
        .await;
        for (checked, e) in failed {
            let id = &checked.row.id;
            tracing::warn!(identity_id = %id, error = %e, "saving a DNS check failed; it runs again later");
            self.release_after_failure(id).await;
        }
    }

    async fn save_and_tell(&self, part: &[Checked]) -> Result<(), StoreError> {
        let written = self.save(part).await?;
        if let Err(e) = self.tell(&written).await {
            tracing::warn!(error = %e, "telling organizations about checks failed");
        }
        Ok(())
    }

    /// Gives a failed check's lease back: due again in a minute, or at once
    /// when it was only cut short by a stop.
    async fn release_failed(&self, id: &str, e: &ServiceError) {
        if matches!(e, ServiceError::Unavailable { .. }) {
            if let Err(e) = self
                .app
                .inner
                .store
                .release_check(id, self.app.now_ms(), &self.app.inner.node)
                .await
            {
                tracing::warn!(identity_id = %id, error = %e, "could not release a stopped check");
            }
        } else {
            self.release_after_failure(id).await;
        }
    }

    async fn release_after_failure(&self, id: &str) {
        let retry_at = self.app.now_ms() + 60_000;
        if let Err(e) = self
            .app
            .inner
            .store
            .release_check(id, retry_at, &self.app.inner.node)
            .await
        {
            tracing::warn!(identity_id = %id, error = %e, "could not release a failed check");
        }
    }

    pub(crate) fn wake_checks(&self) {
        self.app.inner.wake_checks.notify_one();
    }

    /// "Check now": checks the identity at once and answers with it.
    pub async fn check_identity_now(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Identity, ServiceError> {
        let org = caller.org()?;
        self.app.identities().identity_of(org, id).await?;
        // One check per identity at a time: wait for a scheduled one to finish,
        // so that its older observation cannot overwrite this one.
        let deadline = tokio::time::Instant::now() + CHECK_LEASE;
        loop {
            let now = self.app.now_ms();
            if self
                .app
                .inner
                .store
                .claim_check(
                    id,
                    now,
                    now + CHECK_LEASE.as_millis() as i64,
                    &self.app.inner.node,
                )
                .await?
            {
                break;
            }
            if self.app.inner.stopping.is_cancelled() {
                return Err(stopping());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(ServiceError::Conflict {
                    code: "check_running",
                    message: "a check of this identity is still running; try again".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.check_leased(org, id).await?;
        self.app.identities().get_identity(caller, id).await
    }

    /// Checks an identity whose lease this caller holds.
    async fn check_leased(&self, org: &OrgRow, id: &str) -> Result<(), ServiceError> {
        // Read the row after taking the lease: the check before may have changed it.
        let loaded = self.app.identities().identity_of(org, id).await?;
        if let Err(e) = self.check(&loaded.row).await {
            self.release_failed(id, &e).await;
            return Err(e);
        }
        Ok(())
    }

    /// The identity for a page that someone is watching. While it waits for
    /// DNS (PENDING or TEMPORARY_FAILURE), it is checked whenever the last
    /// check is older than [`WATCH_INTERVAL`]: the status turns seconds after
    /// the last record is published, not on the scheduler's backoff.
    pub async fn watch_identity(
        &self,
        caller: &Caller,
        id: &str,
        locale: Locale,
    ) -> Result<Identity, ServiceError> {
        let org = caller.org()?;
        let loaded = self.app.identities().identity_of(org, id).await?;
        let waiting = [&loaded.row.dkim_status, &loaded.row.spf_status]
            .iter()
            .any(|s| *s == Status::Pending.as_str() || *s == Status::TemporaryFailure.as_str());
        let now = self.app.now_ms();
        let watch = WATCH_INTERVAL.as_millis() as i64;
        if waiting && loaded.row.next_check_at.is_some_and(|at| at > now + watch) {
            let checks = self.app.inner.store.identity_checks(id).await?;
            let last = checks.iter().filter_map(|c| c.last_checked_at).max();
            // Checked in this request, so the page shows the outcome at once;
            // if a check is running already, the page just shows the state.
            let lease_until = now + CHECK_LEASE.as_millis() as i64;
            if last.is_none_or(|at| at + watch <= now)
                && self
                    .app
                    .inner
                    .store
                    .claim_check(id, now, lease_until, &self.app.inner.node)
                    .await?
            {
                self.check_leased(org, id).await?;
            }
        }
        self.app
            .identities()
            .get_identity_in(caller, id, locale)
            .await
    }

    /// Starts the DNS verification over (e.g. after FAILED), checking at once.
    pub async fn restart_identity(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Identity, ServiceError> {
        let org = caller.org()?;
        let loaded = self.app.identities().identity_of(org, id).await?;
        let now = self.app.now_ms();
        let before = loaded.parts.overall();
        let restarted = IdentityParts {
            dkim: Status::Pending,
            spf: Status::Pending,
            ..loaded.parts
        };
        let event = IdentityEventRow {
            id: new_id("evt"),
            identity_id: id.to_string(),
            org_id: org.id.clone(),
            part: "identity".into(),
            from_status: before.as_str().into(),
            to_status: restarted.overall().as_str().into(),
            detail: "restarted".into(),
            created_at: now,
        };
        self.app
            .inner
            .store
            .restart_checks(id, Status::Pending.as_str(), now, &event)
            .await?;
        self.wake_checks();
        self.app.identities().get_identity(caller, id).await
    }

    /// The identity's status changes, oldest first.
    pub async fn identity_events(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<Event>, ServiceError> {
        let org = caller.org()?;
        self.app.identities().identity_of(org, id).await?;
        let rows = self.app.inner.store.identity_events(id).await?;
        rows.iter().map(event_view).collect()
    }

    /// The newest status changes of every identity (the operator's view).
    pub async fn recent_events(
        &self,
        caller: &Caller,
        limit: i64,
    ) -> Result<Vec<OperatorEvent>, ServiceError> {
        caller.require_operator()?;
        let rows = self
            .app
            .inner
            .store
            .recent_events(limit.clamp(1, 1000))
            .await?;
        rows.iter()
            .map(|e| {
                Ok(OperatorEvent {
                    org_id: e.org_id.clone(),
                    identity_id: e.identity_id.clone(),
                    event: event_view(e)?,
                })
            })
            .collect()
    }
}

fn event_view(e: &IdentityEventRow) -> Result<Event, ServiceError> {
    Ok(Event {
        id: e.id.clone(),
        part: e.part.clone(),
        from: status(&e.from_status)?,
        to: status(&e.to_status)?,
        detail: e.detail.clone(),
        created_at: rfc3339(e.created_at),
    })
}
