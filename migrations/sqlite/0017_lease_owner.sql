-- Leases record their owner (a node and its start), so that only the owner
-- writes a result, and a node renews exactly the leases it holds.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
