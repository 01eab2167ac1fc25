-- Local DNS zones that absender serves itself, playing the customer's DNS
-- provider in development, demos and tests.

CREATE TABLE dns_zones (
    name       TEXT PRIMARY KEY,
    serial     BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE dns_records (
    id         TEXT PRIMARY KEY,
    zone       TEXT NOT NULL REFERENCES dns_zones(name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    rtype      TEXT NOT NULL,
    value      TEXT NOT NULL,
    ttl        BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX dns_records_name ON dns_records (name);
CREATE INDEX dns_records_zone ON dns_records (zone, created_at);
