//! SES notifications over SNS's HTTP protocol, for the many apps that read
//! SES bounces and complaints that way. A destination in `sns` format first
//! gets a `SubscriptionConfirmation` whose `SubscribeURL` (served here)
//! confirms it; only then do `Notification`s follow, whose `Message` is the
//! SES notification (`notificationType` Bounce, Complaint, Delivery; other
//! events in SES's event-publishing shape). Each message is signed as SNS
//! signs (SignatureVersion 2: RSA with SHA-256 over the canonical fields)
//! with the platform's own key, its certificate served at `SigningCertURL`.

use super::Webhooks;
use crate::ServiceError;
use absender_core::events::timestamp;
use absender_store::WebhookJob;
use aws_lc_rs::rsa::KeyPair;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::sync::Arc;

/// The setting that holds the platform's signing key (sealed) and certificate.
const SIGNER_SETTING: &str = "sns_signer";
const SEALING_LABEL: &str = "sns signing key";
const TOKEN_PURPOSE: &str = "absender sns subscription v1";

/// The platform's SNS signing key and its certificate (PEM).
pub struct SnsSigner {
    key: KeyPair,
    pub certificate_pem: String,
}

impl SnsSigner {
    fn sign(&self, canonical: &str) -> Result<String, ServiceError> {
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                canonical.as_bytes(),
                &mut signature,
            )
            .map_err(|_| ServiceError::Internal("SNS signing failed".into()))?;
        Ok(STANDARD.encode(signature))
    }
}

/// The string SNS signs: each present field's name and value on a line of
/// its own, in SNS's order for the message type.
pub fn canonical(message: &Value) -> String {
    let fields: &[&str] = match message["Type"].as_str() {
        Some("Notification") => &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ],
        _ => &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
    };
    let mut text = String::new();
    for field in fields {
        if let Some(value) = message[*field].as_str() {
            text.push_str(field);
            text.push('\n');
            text.push_str(value);
            text.push('\n');
        }
    }
    text
}

/// The SES notification for an event: Bounce, Complaint and Delivery as
/// SES's notifications (`notificationType`), any other event as published.
pub fn ses_notification(event_body: &str) -> String {
    let Ok(mut event) = serde_json::from_str::<Value>(event_body) else {
        return event_body.to_string();
    };
    let kind = event["eventType"].as_str().unwrap_or_default().to_string();
    if let ("Bounce" | "Complaint" | "Delivery", Some(object)) =
        (kind.as_str(), event.as_object_mut())
    {
        object.remove("eventType");
        object.insert("notificationType".into(), Value::String(kind));
    }
    event.to_string()
}

/// The topic a destination stands for, shaped as SNS names topics, with
/// the organization where SNS has the account: a receiver that checks the
/// whole ARN tells one organization's messages from another's.
fn topic_arn(org_id: Option<&str>, webhook_id: &str) -> String {
    format!(
        "arn:aws:sns:absender:{}:{webhook_id}",
        org_id.unwrap_or("platform")
    )
}

/// Makes a signer: a new RSA-2048 key and a self-signed certificate for it.
fn new_signer() -> Result<(Vec<u8>, String), ServiceError> {
    let failed = |what: &str| ServiceError::Internal(format!("SNS signing key: {what}"));
    let made = absender_mail::dkim::generate_rsa_key(absender_mail::dkim::RsaBits::Rsa2048)
        .map_err(|e| failed(&e.to_string()))?;
    let pair =
        rcgen::KeyPair::try_from(made.pkcs8_der.as_slice()).map_err(|e| failed(&e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(vec!["sns.absender.invalid".to_string()])
        .map_err(|e| failed(&e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "absender SNS signing");
    let certificate = params
        .self_signed(&pair)
        .map_err(|e| failed(&e.to_string()))?;
    Ok((made.pkcs8_der, certificate.pem()))
}

impl Webhooks<'_> {
    /// The platform's signer: made once for every node (the first node to
    /// store one wins; the others read it), then kept in memory.
    pub async fn sns_signer(&self) -> Result<Arc<SnsSigner>, ServiceError> {
        let inner = &self.app.inner;
        inner
            .sns_signer
            .get_or_try_init(|| async {
                let store = &inner.store;
                if store.setting(SIGNER_SETTING).await?.is_none() {
                    let (pkcs8, pem) = tokio::task::spawn_blocking(new_signer)
                        .await
                        .map_err(|e| ServiceError::Internal(e.to_string()))??;
                    let sealed = inner.master_key.seal(SEALING_LABEL, &pkcs8);
                    let value = json!({"key": STANDARD.encode(sealed), "certificate": pem});
                    store
                        .insert_setting_if_absent(SIGNER_SETTING, &value.to_string())
                        .await?;
                }
                let stored = store
                    .setting(SIGNER_SETTING)
                    .await?
                    .ok_or_else(|| ServiceError::corrupt("SNS signer"))?;
                let stored: Value = serde_json::from_str(&stored)
                    .map_err(|_| ServiceError::corrupt("SNS signer"))?;
                let sealed = STANDARD
                    .decode(stored["key"].as_str().unwrap_or_default())
                    .map_err(|_| ServiceError::corrupt("SNS signer"))?;
                let pkcs8 = inner
                    .master_key
                    .open(SEALING_LABEL, &sealed)
                    .map_err(|_| ServiceError::corrupt("SNS signer"))?;
                let key =
                    KeyPair::from_pkcs8(&pkcs8).map_err(|_| ServiceError::corrupt("SNS signer"))?;
                Ok(Arc::new(SnsSigner {
                    key,
                    certificate_pem: stored["certificate"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                }))
            })
            .await
            .cloned()
    }

    /// The token in a destination's SubscribeURL and UnsubscribeURL.
    fn sns_token(&self, webhook_id: &str) -> String {
        let mac = self
            .app
            .inner
            .master_key
            .mac(TOKEN_PURPOSE, webhook_id.as_bytes());
        data_encoding::HEXLOWER.encode(&mac[..20])
    }

    fn sns_url(&self, action: &str, webhook_id: &str) -> String {
        format!(
            "{}/sns/{action}/{webhook_id}/{}",
            self.app.inner.public_url,
            self.sns_token(webhook_id)
        )
    }

    /// The signed SNS message for `job` (a SubscriptionConfirmation or a Notification).
    pub(crate) async fn sns_message(&self, job: &WebhookJob) -> Result<String, ServiceError> {
        let signer = self.sns_signer().await?;
        let topic = topic_arn(job.org_id.as_deref(), &job.webhook_id);
        let mut message = if job.event_type == "SubscriptionConfirmation" {
            json!({
                "Type": "SubscriptionConfirmation",
                "MessageId": job.event_id,
                "Token": self.sns_token(&job.webhook_id),
                "TopicArn": topic,
                "Message": format!("You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message."),
                "SubscribeURL": self.sns_url("confirm", &job.webhook_id),
                "Timestamp": timestamp(job.event_created_at),
            })
        } else {
            json!({
                "Type": "Notification",
                "MessageId": job.event_id,
                "TopicArn": topic,
                "Message": ses_notification(&job.body),
                "Timestamp": timestamp(job.event_created_at),
                "UnsubscribeURL": self.sns_url("unsubscribe", &job.webhook_id),
            })
        };
        let signature = signer.sign(&canonical(&message))?;
        message["SignatureVersion"] = json!("2");
        message["Signature"] = json!(signature);
        message["SigningCertURL"] = json!(format!(
            "{}/sns/signing-cert.pem",
            self.app.inner.public_url
        ));
        Ok(message.to_string())
    }

    /// `GET /sns/confirm/{id}/{token}`: confirms an `sns` destination.
    pub async fn confirm_sns(&self, webhook_id: &str, token: &str) -> Result<(), ServiceError> {
        self.check_sns_token(webhook_id, token)?;
        let store = &self.app.inner.store;
        store.confirm_sns(webhook_id, self.app.now_ms()).await?;
        self.wake();
        Ok(())
    }

    /// `GET /sns/unsubscribe/{id}/{token}`: the receiver turns the destination off.
    pub async fn unsubscribe_sns(&self, webhook_id: &str, token: &str) -> Result<(), ServiceError> {
        self.check_sns_token(webhook_id, token)?;
        self.app
            .inner
            .store
            .disable_webhook(
                webhook_id,
                "unsubscribed by its receiver",
                self.app.now_ms(),
            )
            .await?;
        Ok(())
    }

    fn check_sns_token(&self, webhook_id: &str, token: &str) -> Result<(), ServiceError> {
        let expected = self.sns_token(webhook_id);
        if crate::app::constant_time_eq(expected.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(ServiceError::NotFound("subscription"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sns_signs_the_fields_of_its_type_in_its_order() {
        let notification = json!({"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:t",
            "Message": "{}", "Timestamp": "2026-12-07T10:00:00.000Z", "UnsubscribeURL": "u"});
        assert_eq!(
            canonical(&notification),
            "Message\n{}\nMessageId\nm1\nTimestamp\n2026-12-07T10:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n"
        );
        let confirmation = json!({"Type": "SubscriptionConfirmation", "MessageId": "m2", "Token": "t",
            "TopicArn": "arn:t", "Message": "hi", "SubscribeURL": "https://x/c", "Timestamp": "T"});
        assert_eq!(
            canonical(&confirmation),
            "Message\nhi\nMessageId\nm2\nSubscribeURL\nhttps://x/c\nTimestamp\nT\nToken\nt\nTopicArn\narn:t\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn bounces_complaints_and_deliveries_become_ses_notifications() {
        let bounce =
            ses_notification(r#"{"eventType":"Bounce","mail":{"messageId":"m"},"bounce":{}}"#);
        let bounce: Value = serde_json::from_str(&bounce).unwrap();
        assert_eq!(bounce["notificationType"], "Bounce");
        assert!(bounce.get("eventType").is_none());
        let send = ses_notification(r#"{"eventType":"Send","mail":{},"send":{}}"#);
        let send: Value = serde_json::from_str(&send).unwrap();
        assert_eq!(send["eventType"], "Send");
    }
}
