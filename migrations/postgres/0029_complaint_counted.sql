-- Whether a complaint counted toward reputation (a trusted feedback loop's,
-- or posted by the operator); an uncounted one is upgraded when the trusted
-- loop's report about the same delivery comes after.
ALTER TABLE complaints ADD COLUMN counted BIGINT NOT NULL DEFAULT 1;
