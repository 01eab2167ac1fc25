-- The event history finds an invitation's unsubscribes by its message; only
-- unsubscribes are indexed (other suppressions never need it).
CREATE INDEX suppressions_unsubscribes ON suppressions (org_id, message_id) WHERE reason = 'unsubscribe';
