-- The platform's own DKIM keys (d=<platform domain>): they sign mail from the
-- default senders and add a second signature to customers' mail. Published in
-- the DKIM zone like customers' keys; the newest one of a domain signs.
CREATE TABLE platform_keys (
    selector        TEXT PRIMARY KEY,
    domain          TEXT NOT NULL,
    algorithm       TEXT NOT NULL,
    private_key_enc BLOB NOT NULL,
    public_key      TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX platform_keys_domain ON platform_keys (domain, created_at);
