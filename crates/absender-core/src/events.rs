//! Events as a platform receives them: SES's event publishing shapes, plus
//! absender's identity events. Pure: the store writes an event in the same
//! transaction as the change it reports, the dispatcher delivers it.

use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};

/// Every event type a webhook may ask for: SES's names, absender's two for
/// identities, and two for an organization's sending paused or resumed.
pub const EVENT_TYPES: [&str; 11] = [
    "Send",
    "Delivery",
    "Bounce",
    "Complaint",
    "Reject",
    "DeliveryDelay",
    "Subscription",
    "IdentityStatusChanged",
    "IdentityVerified",
    "SendingPaused",
    "SendingResumed",
];

/// Whether `name` is an event type.
pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.contains(&name)
}

/// The body's key for an event type: its name in camelCase (`deliveryDelay`).
pub fn body_key(event_type: &str) -> String {
    let mut chars = event_type.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// RFC 3339 in UTC with milliseconds, as SES writes its timestamps.
pub fn timestamp(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

/// One status change of an identity or of one of its parts.
#[derive(Debug, Clone, Copy)]
pub struct IdentityChange<'a> {
    pub org_id: &'a str,
    pub identity_id: &'a str,
    /// The address, or the domain of a domain identity.
    pub identity: &'a str,
    /// `identity`, `address`, `dkim`, `spf`, `mail_from`.
    pub part: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// Why, in words (the findings' codes for a DNS part).
    pub detail: &'a str,
    pub at_ms: i64,
}

/// The events an identity change makes: `IdentityStatusChanged`, and
/// `IdentityVerified` when the identity as a whole becomes verified; each
/// as (type, body).
pub fn identity_events(change: &IdentityChange<'_>) -> Vec<(&'static str, String)> {
    let body = |event_type: &str| {
        json!({
            "eventType": event_type,
            "orgId": change.org_id,
            body_key(event_type): {
                "timestamp": timestamp(change.at_ms),
                "identityId": change.identity_id,
                "identity": change.identity,
                "part": change.part,
                "previousStatus": change.from,
                "status": change.to,
                "detail": change.detail,
            },
        })
        .to_string()
    };
    let mut events = vec![("IdentityStatusChanged", body("IdentityStatusChanged"))];
    if change.part == "identity" && change.to == "SUCCESS" {
        events.push(("IdentityVerified", body("IdentityVerified")));
    }
    events
}

/// What every mail event says of its message (SES's `mail` object).
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    pub org_id: &'a str,
    pub message_id: &'a str,
    /// The From address.
    pub source: &'a str,
    /// Every recipient, comma-separated as the store keeps them.
    pub destination: &'a str,
    pub category: &'a str,
    pub sent_at_ms: i64,
}

/// How one recipient's delivery ended or paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Refused for good: `Permanent` when the address does not exist.
    Bounced {
        permanent: bool,
    },
    /// Deferred; tried again later.
    Delayed,
}

/// The event of a message accepted for sending: `Send`.
pub fn send_event(mail: &Mail<'_>) -> String {
    mail_body("Send", mail, json!({}))
}

/// The event of one recipient's attempt: `Delivery`, `Bounce` or
/// `DeliveryDelay`, with the receiver's reply.
pub fn delivery_event(
    mail: &Mail<'_>,
    recipient: &str,
    outcome: Outcome,
    reply: &str,
    at_ms: i64,
) -> (&'static str, String) {
    let at = timestamp(at_ms);
    match outcome {
        Outcome::Delivered => (
            "Delivery",
            mail_body(
                "Delivery",
                mail,
                json!({
                    "timestamp": at,
                    "processingTimeMillis": (at_ms - mail.sent_at_ms).max(0),
                    "recipients": [recipient],
                    "smtpResponse": reply,
                }),
            ),
        ),
        Outcome::Bounced { permanent } => (
            "Bounce",
            mail_body(
                "Bounce",
                mail,
                json!({
                    "timestamp": at,
                    "bounceType": if permanent { "Permanent" } else { "Transient" },
                    "bounceSubType": "General",
                    "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "diagnosticCode": reply}],
                }),
            ),
        ),
        Outcome::Delayed => (
            "DeliveryDelay",
            mail_body(
                "DeliveryDelay",
                mail,
                json!({
                    "timestamp": at,
                    "delayType": "TransientCommunicationFailure",
                    "delayedRecipients": [{"emailAddress": recipient, "diagnosticCode": reply}],
                }),
            ),
        ),
    }
}

/// A recipient's complaint, as its feedback report (RFC 5965) tells it.
#[derive(Debug, Clone, Copy)]
pub struct Complaint<'a> {
    pub recipient: &'a str,
    /// absender's id for the complaint (the event's id).
    pub feedback_id: &'a str,
    /// `abuse`, `fraud`, `virus`, `other`.
    pub feedback_type: &'a str,
    pub user_agent: Option<&'a str>,
    /// When the reporter received the mail, as it wrote it.
    pub arrival_date: Option<&'a str>,
    pub at_ms: i64,
}

/// The event of a complaint: `Complaint`, as SES shapes it.
pub fn complaint_event(mail: &Mail<'_>, complaint: &Complaint<'_>) -> String {
    let at = timestamp(complaint.at_ms);
    mail_body(
        "Complaint",
        mail,
        json!({
            "timestamp": at,
            "complainedRecipients": [{"emailAddress": complaint.recipient}],
            "feedbackId": complaint.feedback_id,
            "complaintSubType": null,
            "complaintFeedbackType": complaint.feedback_type,
            "userAgent": complaint.user_agent,
            "arrivalDate": complaint.arrival_date.unwrap_or(&at),
        }),
    )
}

/// The event of an unsubscribe: `Subscription`, as SES shapes it (the
/// recipient left every mail of the organization: `unsubscribeAll`).
/// `source` is `UnsubscribeHeader` (one-click or mailto) or `UnsubscribeLink`.
pub fn subscription_event(mail: &Mail<'_>, address: &str, source: &str, at_ms: i64) -> String {
    mail_body(
        "Subscription",
        mail,
        json!({
            "timestamp": timestamp(at_ms),
            "contactList": mail.org_id,
            "emailAddress": address,
            "source": source,
            "newTopicPreferences": {"unsubscribeAll": true, "topicSubscriptionStatus": []},
            "oldTopicPreferences": {"unsubscribeAll": false, "topicSubscriptionStatus": []},
        }),
    )
}

/// The event of a submission absender refused after it knew the sender:
/// `Reject`, with the reason's code and words.
pub fn reject_event(mail: &Mail<'_>, code: &str, reason: &str) -> String {
    mail_body("Reject", mail, json!({"reason": reason, "code": code}))
}

fn mail_body(event_type: &str, mail: &Mail<'_>, detail: serde_json::Value) -> String {
    let destination: Vec<&str> = mail
        .destination
        .split(',')
        .filter(|r| !r.is_empty())
        .collect();
    json!({
        "eventType": event_type,
        "orgId": mail.org_id,
        "mail": {
            "timestamp": timestamp(mail.sent_at_ms),
            "messageId": mail.message_id,
            "source": mail.source,
            "destination": destination,
            "tags": {"absender-category": [mail.category]},
            "orgId": mail.org_id,
        },
        body_key(event_type): detail,
    })
    .to_string()
}

/// The event of an organization's sending paused (by its reputation or
/// the operator) or resumed: `SendingPaused`, `SendingResumed`, with why.
pub fn sending_event(event_type: &str, org_id: &str, reason: &str, at_ms: i64) -> String {
    json!({
        "eventType": event_type,
        "orgId": org_id,
        body_key(event_type): {"timestamp": timestamp(at_ms), "reason": reason},
    })
    .to_string()
}

/// The body of a test event for one destination.
pub fn test_event(org_id: Option<&str>, at_ms: i64) -> String {
    json!({
        "eventType": "Test",
        "orgId": org_id,
        "test": {"timestamp": timestamp(at_ms), "message": "a test event from absender"},
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_becoming_verified_makes_two_events_shaped_as_ses_events() {
        let change = IdentityChange {
            org_id: "org_1",
            identity_id: "idn_1",
            identity: "events@acme.test",
            part: "identity",
            from: "PENDING",
            to: "SUCCESS",
            detail: "DNS check",
            at_ms: 1_764_000_000_123,
        };
        let events = identity_events(&change);
        let types: Vec<&str> = events.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, ["IdentityStatusChanged", "IdentityVerified"]);
        let body: serde_json::Value = serde_json::from_str(&events[1].1).unwrap();
        assert_eq!(body["eventType"], "IdentityVerified");
        assert_eq!(body["identityVerified"]["identity"], "events@acme.test");
        assert_eq!(
            body["identityVerified"]["timestamp"],
            "2025-11-24T16:00:00.123Z"
        );
        let dkim = IdentityChange {
            part: "dkim",
            ..change
        };
        assert_eq!(
            identity_events(&dkim).len(),
            1,
            "a part alone is no verification"
        );
        assert_eq!(body_key("DeliveryDelay"), "deliveryDelay");
        let mail = Mail {
            org_id: "org_1",
            message_id: "msg_1",
            source: "events@acme.test",
            destination: "a@x.test,b@x.test",
            category: "booking",
            sent_at_ms: 1_000,
        };
        let (kind, bounce) = delivery_event(
            &mail,
            "b@x.test",
            Outcome::Bounced { permanent: true },
            "550 5.1.1 no such user",
            3_500,
        );
        let bounce: serde_json::Value = serde_json::from_str(&bounce).unwrap();
        assert_eq!(kind, "Bounce");
        assert_eq!(bounce["bounce"]["bounceType"], "Permanent");
        assert_eq!(
            bounce["bounce"]["bouncedRecipients"][0]["emailAddress"],
            "b@x.test"
        );
        assert_eq!(
            bounce["mail"]["destination"],
            json!(["a@x.test", "b@x.test"])
        );
        assert_eq!(
            bounce["mail"]["tags"]["absender-category"],
            json!(["booking"])
        );
        let (_, delivery) = delivery_event(&mail, "a@x.test", Outcome::Delivered, "250 ok", 3_500);
        let delivery: serde_json::Value = serde_json::from_str(&delivery).unwrap();
        assert_eq!(delivery["delivery"]["processingTimeMillis"], 2_500);
        let send: serde_json::Value = serde_json::from_str(&send_event(&mail)).unwrap();
        assert_eq!(
            (send["eventType"].as_str(), send["send"].is_object()),
            (Some("Send"), true)
        );
        assert!(is_event_type("Bounce") && !is_event_type("bounce"));
        let complaint = complaint_event(
            &mail,
            &Complaint {
                recipient: "a@x.test",
                feedback_id: "msg_1.0.c",
                feedback_type: "abuse",
                user_agent: Some("Yahoo!-Mail-Feedback/1.0"),
                arrival_date: None,
                at_ms: 3_500,
            },
        );
        let complaint: serde_json::Value = serde_json::from_str(&complaint).unwrap();
        assert_eq!(
            complaint["complaint"]["complainedRecipients"][0]["emailAddress"],
            "a@x.test"
        );
        assert_eq!(complaint["complaint"]["complaintFeedbackType"], "abuse");
        assert_eq!(
            complaint["complaint"]["arrivalDate"],
            complaint["complaint"]["timestamp"]
        );
        let unsubscribed: serde_json::Value = serde_json::from_str(&subscription_event(
            &mail,
            "a@x.test",
            "UnsubscribeHeader",
            9,
        ))
        .unwrap();
        assert_eq!(
            unsubscribed["subscription"]["newTopicPreferences"]["unsubscribeAll"],
            true
        );
    }
}
