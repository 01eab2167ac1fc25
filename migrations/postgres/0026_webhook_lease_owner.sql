-- Which node holds a webhook delivery's lease: only it records the attempt.
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
