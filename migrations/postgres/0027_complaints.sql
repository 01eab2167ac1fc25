-- Complaints (ARF feedback reports) that named a delivery absender made, one
-- per delivery: a report sent twice counts once.
CREATE TABLE complaints (
    message_id    TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    feedback_type TEXT NOT NULL,
    user_agent    TEXT,
    arrival_date  TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (message_id, recipient)
);
CREATE INDEX complaints_org_created ON complaints (org_id, created_at);
