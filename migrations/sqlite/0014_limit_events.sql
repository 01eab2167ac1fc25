-- Times of things the abuse limits count ([limits]): identity requests per
-- organization, verification mails per target address. Kept apart from the
-- identities, so that deleting and requesting again counts too; in the
-- database, so that every node counts the same.
CREATE TABLE limit_events (
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX limit_events_subject ON limit_events (kind, subject, at);
CREATE INDEX limit_events_at ON limit_events (at);
