-- Bring-your-own DKIM: an organization's own key for one of its domains,
-- signing in place of the Easy DKIM keys (which stay, for a switch back)
-- once a check has seen its TXT record (verified_at). The customer
-- publishes that record; absender's DNS serves nothing for it.
CREATE TABLE own_dkim_keys (
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    domain          TEXT NOT NULL,
    selector        TEXT NOT NULL,
    private_key_enc BYTEA NOT NULL,
    public_key      TEXT NOT NULL,
    bits            BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    verified_at     BIGINT,
    PRIMARY KEY (org_id, domain)
);

-- Counts changes of an identity's DKIM key: a check judged against an
-- earlier key is not written.
ALTER TABLE identities ADD COLUMN dkim_generation BIGINT NOT NULL DEFAULT 0;
