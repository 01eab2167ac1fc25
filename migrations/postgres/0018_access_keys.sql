-- SES-style access keys (SigV4): the secret is needed to check a signature,
-- so it is kept sealed under the master key, never as plain text.
CREATE TABLE access_keys (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    access_key_id TEXT NOT NULL UNIQUE,
    secret_enc    BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX access_keys_org ON access_keys (org_id);
