-- SES's account protections per organization: sending paused (by the
-- operator, or by reputation) with its reason, the sandbox, and the
-- operator's quotas (NULL: no limit).
ALTER TABLE orgs ADD COLUMN sending_enabled BIGINT NOT NULL DEFAULT 1;
ALTER TABLE orgs ADD COLUMN paused_reason TEXT;
ALTER TABLE orgs ADD COLUMN sandbox BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN max_send_rate REAL;
ALTER TABLE orgs ADD COLUMN max_24h_send BIGINT;
