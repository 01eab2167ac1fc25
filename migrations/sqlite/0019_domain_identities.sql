-- SES's domain identities beside the seed's address identities: a domain
-- identity keeps its domain in `address` (unique per organization like an
-- address) and has no address part to confirm. SES's identity tags (a JSON
-- array of {"Key", "Value"}) and what to do while the custom MAIL FROM
-- domain is not verified (USE_DEFAULT_VALUE: the platform's return path;
-- REJECT_MESSAGE: refuse the send).
ALTER TABLE identities ADD COLUMN kind TEXT NOT NULL DEFAULT 'address';
ALTER TABLE identities ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE identities ADD COLUMN mail_from_behavior TEXT NOT NULL DEFAULT 'USE_DEFAULT_VALUE';
