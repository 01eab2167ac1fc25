-- Destinations in `sns` format get notifications only once their receiver
-- visited the SubscribeURL of the SubscriptionConfirmation, as with SNS.
CREATE TABLE sns_confirmations (
    webhook_id   TEXT PRIMARY KEY,
    confirmed_at BIGINT NOT NULL
);
