-- Retention ([retention]): what the sweep deletes, in small batches, and
-- the indexes it finds old rows by. Redacted outbox copies (relay and MX
-- mode) have their own period. A DKIM key of a deleted identity is retired
-- (still published) until no queued mail signed with it remains.
ALTER TABLE outbox ADD COLUMN redacted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dkim_keys ADD COLUMN retired_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX identity_events_created ON identity_events (created_at);
