-- Messages that organizations sent, with the sender the rule chose and why.
-- In capture mode the final bytes are in the outbox under the same id.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    category        TEXT NOT NULL,
    from_address    TEXT NOT NULL,
    identity_id     TEXT,
    fallback_reason TEXT,
    reply_to        TEXT,
    envelope_from   TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX messages_org_created ON messages (org_id, created_at);
