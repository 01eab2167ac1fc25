-- Web UI sessions and one-time sign-in links, both kept only as hashes.
-- A session without an organization is the operator's.
CREATE TABLE ui_sessions (
    token_hash TEXT PRIMARY KEY,
    org_id     TEXT REFERENCES orgs(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at);

CREATE TABLE ui_sign_in_links (
    token_hash TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX ui_sign_in_links_org ON ui_sign_in_links (org_id, created_at);
