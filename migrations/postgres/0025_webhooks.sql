-- Webhook destinations (an organization's, or the operator's for every
-- organization: org_id NULL), signing secrets sealed under the master key.
CREATE TABLE webhooks (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT REFERENCES orgs(id),
    url                 TEXT NOT NULL,
    events              TEXT NOT NULL,
    format              TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    enabled             BIGINT NOT NULL DEFAULT 1,
    secret_enc          BYTEA NOT NULL,
    previous_secret_enc BYTEA,
    previous_until      BIGINT,
    failing_since       BIGINT,
    disabled_reason     TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (org_id);

-- The outbox: each event written in the same transaction as the change it
-- reports, only when a destination wants it. Its id is the webhook-id.
CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    org_id     TEXT,
    event_type TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each event's delivery to each destination, leased like the mail queue.
CREATE TABLE webhook_deliveries (
    event_id        TEXT NOT NULL REFERENCES webhook_events(id),
    webhook_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_status     BIGINT,
    last_latency_ms BIGINT,
    last_error      TEXT,
    last_attempt_at BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (webhook_id, last_attempt_at);
