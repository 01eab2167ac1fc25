-- Email templates (SES's, Handlebars syntax), one name per organization.
CREATE TABLE templates (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    name       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_part  TEXT,
    html_part  TEXT,
    tags       TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
