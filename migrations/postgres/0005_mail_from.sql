-- The custom MAIL FROM domain of an identity (default bounce.<domain>) and the
-- status of its records (MX to the platform's bounce host, SPF). Optional: the
-- identity's status does not wait for it.
ALTER TABLE identities ADD COLUMN mail_from_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN mail_from_status TEXT NOT NULL DEFAULT 'PENDING';
