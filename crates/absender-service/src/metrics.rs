//! Counters and latency histograms, served at `/metrics` in the Prometheus
//! text format (OpenMetrics flavour, which Prometheus reads).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Every metric of one process.
pub struct Metrics {
    registry: Registry,
    accepted: Family<Labels, Counter>,
    refused: Family<Labels, Counter>,
    attempts: Family<Labels, Counter>,
    smtp_sessions: Family<Labels, Counter>,
    reports_ignored: Family<Labels, Counter>,
    /// Time from the request to the message being durable.
    pub intake_seconds: Histogram,
    /// One SMTP transaction with a receiving server.
    pub attempt_seconds: Histogram,
    /// From acceptance to the receiving server's 250.
    pub delivery_seconds: Histogram,
    /// Deliveries this node holds in memory right now.
    pub in_flight: Gauge,
    /// Other nodes this node declared dead (their work freed).
    pub nodes_declared_dead: Counter,
}

fn seconds_histogram() -> Histogram {
    // 0.5 ms … about 2 h.
    Histogram::new(exponential_buckets(0.0005, 2.5, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("absender");
        let accepted = Family::<Labels, Counter>::default();
        let refused = Family::<Labels, Counter>::default();
        let attempts = Family::<Labels, Counter>::default();
        let smtp_sessions = Family::<Labels, Counter>::default();
        let reports_ignored = Family::<Labels, Counter>::default();
        let intake_seconds = seconds_histogram();
        let attempt_seconds = seconds_histogram();
        let delivery_seconds = seconds_histogram();
        let in_flight = Gauge::default();
        registry.register(
            "messages_accepted",
            "Messages accepted (durably stored), by category and interface",
            accepted.clone(),
        );
        registry.register(
            "messages_refused",
            "Messages refused at intake, by error code (API) or smtp_<enhanced status> (SMTP)",
            refused.clone(),
        );
        registry.register(
            "delivery_attempts",
            "SMTP delivery attempts by result (delivered, deferred, bounced), and bounce reports applied (bounced_async)",
            attempts.clone(),
        );
        registry.register(
            "smtp_submission_sessions",
            "SMTP submission sessions, by how they ended",
            smtp_sessions.clone(),
        );
        registry.register(
            "reports_ignored",
            "Bounce reports not applied (unauthenticated return path, another recipient, already bounced, not a report), by reason",
            reports_ignored.clone(),
        );
        registry.register(
            "intake_duration_seconds",
            "Time to accept a message durably",
            intake_seconds.clone(),
        );
        registry.register(
            "delivery_attempt_duration_seconds",
            "Duration of one SMTP delivery attempt",
            attempt_seconds.clone(),
        );
        registry.register(
            "delivery_latency_seconds",
            "Time from acceptance to delivery",
            delivery_seconds.clone(),
        );
        registry.register(
            "deliveries_in_flight",
            "Deliveries held by this node's workers",
            in_flight.clone(),
        );
        let nodes_declared_dead = Counter::default();
        registry.register(
            "nodes_declared_dead",
            "Other nodes this node found silent for cluster.dead_after and declared dead, freeing their work",
            nodes_declared_dead.clone(),
        );
        Self {
            nodes_declared_dead,
            registry,
            accepted,
            refused,
            attempts,
            smtp_sessions,
            reports_ignored,
            intake_seconds,
            attempt_seconds,
            delivery_seconds,
            in_flight,
        }
    }
}

impl Metrics {
    pub fn accepted(&self, category: &str, interface: &'static str) {
        self.accepted
            .get_or_create(&vec![
                ("category", category.to_string()),
                ("interface", interface.to_string()),
            ])
            .inc();
    }

    pub fn refused(&self, code: &str) {
        self.refused
            .get_or_create(&vec![("code", code.to_string())])
            .inc();
    }

    pub fn attempt(&self, result: &'static str) {
        self.attempts
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
    }

    pub fn smtp_session(&self, outcome: &'static str) {
        self.smtp_sessions
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
    }

    pub fn report_ignored(&self, reason: &'static str) {
        self.reports_ignored
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_up_in_the_text() {
        let m = Metrics::default();
        m.accepted("booking", "api");
        m.accepted("booking", "api");
        m.intake_seconds.observe(0.002);
        let text = m.render();
        assert!(
            text.contains(
                "absender_messages_accepted_total{category=\"booking\",interface=\"api\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("absender_intake_duration_seconds_count 1"),
            "{text}"
        );
    }
}
