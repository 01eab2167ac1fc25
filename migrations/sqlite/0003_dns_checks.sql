-- DNS checks: when each identity is checked next (claimed with a lease so that
-- several nodes never check one identity at once), what each check found,
-- and every status change as an event.

ALTER TABLE identities ADD COLUMN next_check_at BIGINT;
ALTER TABLE identities ADD COLUMN checks_in_status BIGINT NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN lease_until BIGINT;
CREATE INDEX identities_next_check ON identities (next_check_at);

CREATE TABLE identity_checks (
    identity_id     TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    part            TEXT NOT NULL,
    status_since    BIGINT NOT NULL,
    diagnostics     TEXT NOT NULL,
    error_type      TEXT,
    soa_zone        TEXT,
    soa_mname       TEXT,
    soa_serial      BIGINT,
    last_checked_at BIGINT,
    last_success_at BIGINT,
    PRIMARY KEY (identity_id, part)
);

CREATE TABLE identity_events (
    id          TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    part        TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    detail      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX identity_events_identity ON identity_events (identity_id, created_at);
