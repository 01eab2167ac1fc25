-- Mail that carries a live secret (a verification or sign-in link) is the
-- operator's alone: no organization's key or session is shown it. Older
-- system mail is treated so, as it may hold such links.
ALTER TABLE outbox ADD COLUMN operator_only BIGINT NOT NULL DEFAULT 0;
UPDATE outbox SET operator_only = 1 WHERE category = 'system';
