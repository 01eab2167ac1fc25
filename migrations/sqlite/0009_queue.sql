-- The durable queue. A message keeps its final signed bytes until every
-- recipient's delivery is final; each recipient is one delivery that workers
-- lease, try, and either finish or schedule again.
ALTER TABLE messages ADD COLUMN raw BLOB;

CREATE TABLE deliveries (
    message_id      TEXT NOT NULL REFERENCES messages(id),
    recipient       TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    -- queued (waiting or deferred), delivered, bounced, captured.
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A worker holds the delivery until then; after a crash it runs out.
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_reply      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (message_id, recipient)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'queued';

-- Addresses an organization's mail no longer goes to: hard bounces,
-- complaints, unsubscribes, or the organization's own list.
CREATE TABLE suppressions (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    address    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    detail     TEXT,
    message_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, address)
);

-- SMTP submission logins; the password is stored as a hash only.
CREATE TABLE smtp_credentials (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    username    TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX smtp_credentials_org ON smtp_credentials (org_id);

-- Trusted SMTP clients without login are matched to an organization by sender address.
CREATE INDEX identities_address ON identities (address);
-- The sweep that drops the bytes of finished messages looks only at these.
CREATE INDEX messages_with_raw ON messages (created_at) WHERE raw IS NOT NULL;
