//! Sender identities. Every read and write that an organization can trigger is
//! scoped by its id, so one organization can never reach another's rows.

use crate::{IdentityRow, Store, StoreError};

/// The columns of an [`IdentityRow`], in its order.
macro_rules! identity_columns {
    () => {
        "id, org_id, address, domain, scope, address_status, dkim_status, spf_status, created_at, updated_at, next_check_at, checks_in_status, mail_from_domain, mail_from_status, kind, tags, mail_from_behavior, dkim_generation"
    };
}
pub(crate) use identity_columns;

const INSERT: &str = concat!(
    "INSERT INTO identities (id, org_id, address, domain, scope, address_status, dkim_status, spf_status, created_at, updated_at, next_check_at, mail_from_domain, mail_from_status, kind, tags) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, NULL, $10, $11, $12, $13) RETURNING ",
    identity_columns!()
);
const LIST: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM identities WHERE org_id = $1 ORDER BY created_at, id"
);
const ALL: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM identities ORDER BY org_id, created_at, id"
);
const GET: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM identities WHERE org_id = $1 AND id = $2"
);
const GET_UNSCOPED: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM identities WHERE id = $1"
);
const BY_ADDRESS: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM identities WHERE address = $1 ORDER BY created_at, id"
);
const DELETE: &str = "DELETE FROM identities WHERE org_id = $1 AND id = $2";
const COUNT_DOMAIN: &str = "SELECT COUNT(*) FROM identities WHERE org_id = $1 AND domain = $2";
// A new MAIL FROM domain starts unverified; the same one keeps its status.
const SET_MAIL_FROM: &str = "UPDATE identities SET mail_from_status = CASE WHEN mail_from_domain = $3 THEN mail_from_status ELSE $5 END, \
     mail_from_domain = $3, mail_from_behavior = $4, updated_at = $6 WHERE org_id = $1 AND id = $2";
const SET_ADDRESS_STATUS: &str =
    "UPDATE identities SET address_status = $2, updated_at = $3 WHERE id = $1";

/// A new identity with the statuses its parts start in.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub id: String,
    pub org_id: String,
    pub address: String,
    pub domain: String,
    pub scope: String,
    pub address_status: String,
    pub dkim_status: String,
    pub spf_status: String,
    pub created_at: i64,
    /// The custom MAIL FROM domain.
    pub mail_from_domain: String,
    pub mail_from_status: String,
    /// `address` or `domain` (then `address` holds the domain).
    pub kind: String,
    /// SES's tags, a JSON array of `{"Key", "Value"}`.
    pub tags: String,
}

impl Store {
    /// Creates an identity; `Conflict` if the organization has the address already.
    pub async fn insert_identity(&self, new: &NewIdentity) -> Result<IdentityRow, StoreError> {
        Ok(sqlx::query_as(INSERT)
            .bind(&new.id)
            .bind(&new.org_id)
            .bind(&new.address)
            .bind(&new.domain)
            .bind(&new.scope)
            .bind(&new.address_status)
            .bind(&new.dkim_status)
            .bind(&new.spf_status)
            .bind(new.created_at)
            .bind(&new.mail_from_domain)
            .bind(&new.mail_from_status)
            .bind(&new.kind)
            .bind(&new.tags)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Creates many identities in one transaction (an import).
    pub async fn insert_identities(&self, new: &[NewIdentity]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for identity in new {
            sqlx::query(INSERT)
                .bind(&identity.id)
                .bind(&identity.org_id)
                .bind(&identity.address)
                .bind(&identity.domain)
                .bind(&identity.scope)
                .bind(&identity.address_status)
                .bind(&identity.dkim_status)
                .bind(&identity.spf_status)
                .bind(identity.created_at)
                .bind(&identity.mail_from_domain)
                .bind(&identity.mail_from_status)
                .bind(&identity.kind)
                .bind(&identity.tags)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many identities have each (DKIM status, SPF status), e.g. for metrics.
    pub async fn identity_status_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT dkim_status, spf_status, COUNT(*) FROM identities GROUP BY dkim_status, spf_status")
            .fetch_all(&self.pool)
            .await?)
    }

    /// The organization's identities, oldest first.
    pub async fn list_identities(&self, org_id: &str) -> Result<Vec<IdentityRow>, StoreError> {
        Ok(sqlx::query_as(LIST)
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every organization's identities, by organization, oldest first (the
    /// operator's overview).
    pub async fn all_identities(&self) -> Result<Vec<IdentityRow>, StoreError> {
        Ok(sqlx::query_as(ALL).fetch_all(&self.pool).await?)
    }

    /// One identity of the organization.
    pub async fn identity(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<IdentityRow>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(org_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// One identity whatever its organization: only for flows that start from a
    /// secret (a verification token) rather than from a tenant's request.
    pub async fn identity_unscoped(&self, id: &str) -> Result<Option<IdentityRow>, StoreError> {
        Ok(sqlx::query_as(GET_UNSCOPED)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every organization's identity at `address`: for flows that identify
    /// the organization by the sender (trusted SMTP clients).
    pub async fn identities_by_address(
        &self,
        address: &str,
    ) -> Result<Vec<IdentityRow>, StoreError> {
        Ok(sqlx::query_as(BY_ADDRESS)
            .bind(address)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Deletes an identity (its tokens go with it); whether it existed.
    pub async fn delete_identity(&self, org_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE)
            .bind(org_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many of the organization's identities use `domain`.
    pub async fn count_identities_for_domain(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(COUNT_DOMAIN)
            .bind(org_id)
            .bind(domain)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Records the address part's new status.
    pub async fn set_address_status(
        &self,
        id: &str,
        status: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(SET_ADDRESS_STATUS)
            .bind(id)
            .bind(status)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets the custom MAIL FROM domain and what to do while it is not
    /// verified; a changed domain's part becomes `unverified_status`.
    /// Whether the identity exists.
    pub async fn set_mail_from(
        &self,
        org_id: &str,
        id: &str,
        domain: &str,
        behavior: &str,
        unverified_status: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(SET_MAIL_FROM)
            .bind(org_id)
            .bind(id)
            .bind(domain)
            .bind(behavior)
            .bind(unverified_status)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
