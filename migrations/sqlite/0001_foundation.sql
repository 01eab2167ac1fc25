-- Organizations, sender identities, verification tokens, DKIM keys, the capture outbox.
-- Times are Unix milliseconds and flags 0/1 (BIGINT) so both dialects, read through
-- sqlx's Any driver, store and compare them alike.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    contact_email         TEXT NOT NULL,
    locale                TEXT NOT NULL,
    custom_sender_enabled BIGINT NOT NULL DEFAULT 0,
    api_key_hash          TEXT NOT NULL UNIQUE,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE identities (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    address        TEXT NOT NULL,
    domain         TEXT NOT NULL,
    scope          TEXT NOT NULL,
    address_status TEXT NOT NULL,
    dkim_status    TEXT NOT NULL,
    spf_status     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (org_id, address)
);
CREATE INDEX identities_org_domain ON identities (org_id, domain);

CREATE TABLE verification_tokens (
    token_hash  TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    superseded  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX verification_tokens_identity ON verification_tokens (identity_id, created_at);

CREATE TABLE dkim_keys (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    domain          TEXT NOT NULL,
    slot            BIGINT NOT NULL,
    selector        TEXT NOT NULL UNIQUE,
    algorithm       TEXT NOT NULL,
    private_key_enc BLOB NOT NULL,
    public_key      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_id, domain, slot)
);

CREATE TABLE outbox (
    id         TEXT PRIMARY KEY,
    org_id     TEXT REFERENCES orgs(id),
    category   TEXT NOT NULL,
    mail_from  TEXT NOT NULL,
    rcpt_to    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    raw        BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_org_created ON outbox (org_id, created_at);
