-- Names with their labels reversed (test.acme._domainkey.sel), so that "is
-- there any record below this name" is an indexed range scan, not a full scan.
ALTER TABLE dns_records ADD COLUMN rname TEXT NOT NULL DEFAULT '';
CREATE INDEX dns_records_zone_rname ON dns_records (zone, rname);
