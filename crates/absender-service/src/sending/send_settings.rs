//! Send settings: per mail category, the verified identity an organization
//! sends from (the seed's step 4). Health is judged again at every send.

use super::Sending;
use crate::api::SendSettings;
use crate::{Caller, ServiceError};
use absender_core::sender::unusable_reason;
use absender_core::{Category, IdentityKind};

impl Sending<'_> {
    /// The organization's choices.
    pub async fn send_settings(&self, caller: &Caller) -> Result<SendSettings, ServiceError> {
        let org = caller.org()?;
        // Every category an organization sends, `null` where none is chosen.
        let mut settings = SendSettings(Category::of_organizations().map(|c| (c, None)).collect());
        for (category, identity_id) in self.app.inner.store.send_settings(&org.id).await? {
            match Category::parse(&category).filter(|c| *c != Category::System) {
                Some(category) => settings.0.insert(category, Some(identity_id)),
                None => return Err(ServiceError::corrupt("send settings category")),
            };
        }
        Ok(settings)
    }

    /// Replaces the choices; each must be a verified identity of this
    /// organization whose scope allows the category.
    pub async fn put_send_settings(
        &self,
        caller: &Caller,
        settings: SendSettings,
    ) -> Result<SendSettings, ServiceError> {
        let org = caller.org()?;
        let mut choices = Vec::new();
        for (&category, chosen) in &settings.0 {
            if category == Category::System {
                return Err(ServiceError::BadRequest {
                    code: "invalid_category",
                    message: "system mail is absender's own and always comes from the platform"
                        .into(),
                });
            }
            let Some(id) = chosen else { continue };
            let identity =
                self.app
                    .identities()
                    .identity_of(org, id)
                    .await
                    .map_err(|e| match e {
                        ServiceError::NotFound(_) => ServiceError::Refused {
                            code: "unknown_identity",
                            message: format!(
                                "{}: this organization has no identity {id}",
                                category.as_str()
                            ),
                        },
                        other => other,
                    })?;
            if identity.name.kind() == IdentityKind::Domain {
                return Err(ServiceError::Refused {
                    code: "domain_identity",
                    message: format!(
                        "{}: {} is a domain; choose an address identity as a category's sender",
                        category.as_str(),
                        identity.row.address
                    ),
                });
            }
            let sender = identity.sender_identity();
            if let Some(reason) = unusable_reason(&sender, category) {
                let code = if sender.scope.allows(category) {
                    "identity_not_verified"
                } else {
                    "scope_not_allowed"
                };
                return Err(ServiceError::Refused {
                    code,
                    message: format!("{}: {reason}", category.as_str()),
                });
            }
            choices.push((category.as_str().to_string(), id.clone()));
        }
        self.app
            .inner
            .store
            .replace_send_settings(&org.id, &choices, self.app.now_ms())
            .await?;
        self.send_settings(caller).await
    }
}
