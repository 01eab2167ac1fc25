-- Which identity an organization chose per mail category. Deleting the
-- identity deletes the choice (mail then goes from the default sender).
CREATE TABLE send_settings (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    category    TEXT NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, category)
);
