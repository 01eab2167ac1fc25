-- A rotated API key may keep working for a grace period (at most 24 h) so
-- that a platform can switch over without downtime.
ALTER TABLE orgs ADD COLUMN previous_key_hash TEXT;
ALTER TABLE orgs ADD COLUMN previous_key_expires_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orgs_previous_key ON orgs (previous_key_hash);
