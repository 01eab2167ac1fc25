-- Key rotation behind the three selectors: when each key starts (or
-- started) signing. 0 for keys made before rotation: of those the lowest
-- slot signs, as before.
ALTER TABLE dkim_keys ADD COLUMN signs_from BIGINT NOT NULL DEFAULT 0;
