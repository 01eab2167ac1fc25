//! Local DNS zones and their records. Every change bumps the zone's SOA serial
//! in the same transaction, so the serial tells that something changed.

use crate::{DnsRecordRow, DnsZoneRow, Store, StoreError};

const ZONES: &str = "SELECT name, serial, created_at FROM dns_zones ORDER BY name";
// The zones whose apex is one of the name's last 1..=10 labels (padding: '').
const ZONES_CONTAINING: &str = "SELECT name, serial, created_at FROM dns_zones \
     WHERE name IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ORDER BY LENGTH(name) DESC";
const ZONE: &str = "SELECT name, serial, created_at FROM dns_zones WHERE name = $1";
const INSERT_ZONE: &str = "INSERT INTO dns_zones (name, serial, created_at) VALUES ($1, 1, $2) \
     RETURNING name, serial, created_at";
const DELETE_ZONE: &str = "DELETE FROM dns_zones WHERE name = $1";
const BUMP_SERIAL: &str = "UPDATE dns_zones SET serial = serial + 1 WHERE name = $1";
const INSERT_RECORD: &str = "INSERT INTO dns_records (id, zone, name, rtype, value, ttl, created_at, rname) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const DELETE_RECORD: &str = "DELETE FROM dns_records WHERE zone = $1 AND id = $2";
const RECORDS_IN_ZONE: &str = "SELECT id, zone, name, rtype, value, ttl, created_at \
     FROM dns_records WHERE zone = $1 ORDER BY name, created_at, id";
const RECORDS_AT: &str = "SELECT id, zone, name, rtype, value, ttl, created_at \
     FROM dns_records WHERE name = $1 ORDER BY created_at, id";
// Names below a name (for empty non-terminals): reversed names between
// "<reversed>." and "<reversed>/" ('/' follows '.'), an indexed range.
const HAS_DESCENDANTS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM dns_records \
     WHERE zone = $1 AND rname > $2 AND rname < $3 LIMIT 1) below";

impl Store {
    /// Every local zone, by name.
    pub async fn dns_zones(&self) -> Result<Vec<DnsZoneRow>, StoreError> {
        Ok(sqlx::query_as(ZONES).fetch_all(&self.pool).await?)
    }

    /// The local zones that hold `name`, most specific first (apexes of up to
    /// ten labels: one indexed query, whatever the number of zones).
    pub async fn dns_zones_containing(&self, name: &str) -> Result<Vec<DnsZoneRow>, StoreError> {
        let labels: Vec<&str> = name.split('.').collect();
        let mut query = sqlx::query_as(ZONES_CONTAINING);
        for k in 1..=10 {
            let suffix = if k <= labels.len() {
                labels[labels.len() - k..].join(".")
            } else {
                String::new()
            };
            query = query.bind(suffix);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// One local zone.
    pub async fn dns_zone(&self, name: &str) -> Result<Option<DnsZoneRow>, StoreError> {
        Ok(sqlx::query_as(ZONE)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Creates a zone; `Conflict` if it exists.
    pub async fn insert_dns_zone(&self, name: &str, now_ms: i64) -> Result<DnsZoneRow, StoreError> {
        let zone = sqlx::query_as(INSERT_ZONE)
            .bind(name)
            .bind(now_ms)
            .fetch_one(&self.pool)
            .await?;
        self.dns_changed();
        Ok(zone)
    }

    /// Deletes a zone with its records; whether it existed.
    pub async fn delete_dns_zone(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM dns_records WHERE zone = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(DELETE_ZONE)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.dns_changed();
        Ok(done.rows_affected() == 1)
    }

    /// Adds a record and bumps the zone's serial.
    pub async fn insert_dns_record(&self, record: &DnsRecordRow) -> Result<(), StoreError> {
        self.insert_dns_records(&record.zone, std::slice::from_ref(record))
            .await
    }

    /// Adds many records to one zone in one transaction (an import) and bumps
    /// the zone's serial once.
    pub async fn insert_dns_records(
        &self,
        zone: &str,
        records: &[DnsRecordRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for record in records {
            sqlx::query(INSERT_RECORD)
                .bind(&record.id)
                .bind(zone)
                .bind(&record.name)
                .bind(&record.rtype)
                .bind(&record.value)
                .bind(record.ttl)
                .bind(record.created_at)
                .bind(reversed(&record.name))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(BUMP_SERIAL)
            .bind(zone)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.dns_changed();
        Ok(())
    }

    /// Removes a record and bumps the zone's serial; whether it existed.
    pub async fn delete_dns_record(&self, zone: &str, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(DELETE_RECORD)
            .bind(zone)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            sqlx::query(BUMP_SERIAL)
                .bind(zone)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.dns_changed();
        Ok(done.rows_affected() == 1)
    }

    /// The zone's records, by name.
    pub async fn dns_records_in_zone(&self, zone: &str) -> Result<Vec<DnsRecordRow>, StoreError> {
        Ok(sqlx::query_as(RECORDS_IN_ZONE)
            .bind(zone)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The records at exactly `name`, whatever their zone.
    pub async fn dns_records_at(&self, name: &str) -> Result<Vec<DnsRecordRow>, StoreError> {
        Ok(sqlx::query_as(RECORDS_AT)
            .bind(name)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Whether the zone has records below `name` (so `name` exists, empty).
    pub async fn dns_name_has_descendants(
        &self,
        zone: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let reversed = reversed(name);
        let count: i64 = sqlx::query_scalar(HAS_DESCENDANTS)
            .bind(zone)
            .bind(format!("{reversed}."))
            .bind(format!("{reversed}/"))
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }
}

/// `sel._domainkey.acme.test` → `test.acme._domainkey.sel`.
fn reversed(name: &str) -> String {
    name.rsplit('.').collect::<Vec<_>>().join(".")
}
