-- Each delivery's return path names its recipient by index (under a MAC),
-- so that a bounce report applies only to the delivery it came back for.
ALTER TABLE deliveries ADD COLUMN rcpt_index BIGINT NOT NULL DEFAULT 0;
