-- Links mailed before 0011 were in the organizations' outbox view: none of
-- them may still confirm an address or open a session (owners ask anew).
UPDATE verification_tokens SET superseded = 1 WHERE used_at IS NULL;
DELETE FROM ui_sign_in_links WHERE used_at IS NULL;
-- Deliveries queued before 0012 all got index 0: number them by recipient,
-- so that each has a return path of its own.
UPDATE deliveries SET rcpt_index = (
    SELECT COUNT(*) FROM deliveries d2
    WHERE d2.message_id = deliveries.message_id AND d2.recipient < deliveries.recipient)
WHERE (SELECT COUNT(*) FROM deliveries d3
       WHERE d3.message_id = deliveries.message_id AND d3.rcpt_index = 0) > 1;
