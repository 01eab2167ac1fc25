-- Reputation as SES keeps it: an organization's sends (deliveries that
-- ended), hard bounces and complaints over a window of recent sends. The
-- counts are halved together once sends pass twice the window, so they
-- weigh the most recent sends; a resume starts them over.
ALTER TABLE orgs ADD COLUMN rep_sends BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN rep_bounces BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN rep_complaints BIGINT NOT NULL DEFAULT 0;
