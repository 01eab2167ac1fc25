//! Local DNS zones (operator only): absender serves them itself, playing the
//! customer's DNS provider in development, demos and tests.

use super::Zones;
use crate::api::{CreateZone, CreateZoneRecord, Zone, ZoneRecord};
use crate::clock::rfc3339;
use crate::secrets::new_id;
use crate::{Caller, ServiceError};
use absender_core::dns::{DnsError, DnsName, LocalRecordData, LocalRecordType, parse_ttl};
use absender_store::{DnsRecordRow, DnsZoneRow};

fn zone_view(row: &DnsZoneRow) -> Zone {
    Zone {
        name: row.name.clone(),
        serial: row.serial,
        created_at: rfc3339(row.created_at),
    }
}

fn record_view(row: &DnsRecordRow) -> ZoneRecord {
    ZoneRecord {
        id: row.id.clone(),
        zone: row.zone.clone(),
        name: row.name.clone(),
        record_type: row.rtype.clone(),
        value: row.value.clone(),
        ttl: u32::try_from(row.ttl).unwrap_or_default(),
        created_at: rfc3339(row.created_at),
    }
}

fn invalid(field: &'static str) -> impl Fn(DnsError) -> ServiceError {
    move |e| ServiceError::Invalid {
        field,
        message: e.to_string(),
    }
}

impl Zones<'_> {
    async fn zone_row(&self, name: &str) -> Result<DnsZoneRow, ServiceError> {
        let name = DnsName::parse(name).map_err(|_| ServiceError::NotFound("zone"))?;
        self.app
            .inner
            .store
            .dns_zone(name.as_str())
            .await?
            .ok_or(ServiceError::NotFound("zone"))
    }

    /// Declares a local zone. Zones of the platform itself cannot be shadowed.
    pub async fn create_zone(
        &self,
        caller: &Caller,
        request: CreateZone,
    ) -> Result<Zone, ServiceError> {
        caller.require_operator()?;
        let name = DnsName::parse(&request.name).map_err(invalid("name"))?;
        if !name.as_str().contains('.') {
            return Err(ServiceError::Invalid {
                field: "name",
                message: "a zone needs at least two labels, such as acme.test".into(),
            });
        }
        let dns = &self.app.inner.platform_dns;
        for platform in [&dns.dkim_zone, &dns.spf_domain] {
            let platform = DnsName::from(platform);
            // A zone around a platform zone is fine (the more specific zone
            // answers); one inside it would be shadowed.
            if name.is_within(&platform) {
                return Err(ServiceError::Conflict {
                    code: "zone_overlaps_platform",
                    message: format!(
                        "{name} overlaps the platform's zone {platform}, which absender answers itself"
                    ),
                });
            }
        }
        let row = self
            .app
            .inner
            .store
            .insert_dns_zone(name.as_str(), self.app.now_ms())
            .await
            .map_err(ServiceError::exists("zone_exists", || {
                format!("the zone {name} exists already")
            }))?;
        Ok(zone_view(&row))
    }

    /// Every local zone.
    pub async fn list_zones(&self, caller: &Caller) -> Result<Vec<Zone>, ServiceError> {
        caller.require_operator()?;
        Ok(self
            .app
            .inner
            .store
            .dns_zones()
            .await?
            .iter()
            .map(zone_view)
            .collect())
    }

    /// Deletes a local zone with all its records.
    pub async fn delete_zone(&self, caller: &Caller, name: &str) -> Result<(), ServiceError> {
        caller.require_operator()?;
        let zone = self.zone_row(name).await?;
        self.app.inner.store.delete_dns_zone(&zone.name).await?;
        Ok(())
    }

    /// Adds a record to a local zone.
    pub async fn add_zone_record(
        &self,
        caller: &Caller,
        zone: &str,
        request: CreateZoneRecord,
    ) -> Result<ZoneRecord, ServiceError> {
        caller.require_operator()?;
        let zone = self.zone_row(zone).await?;
        let apex = DnsName::parse(&zone.name).expect("stored zones are valid");
        let name = DnsName::parse(&request.name).map_err(invalid("name"))?;
        if !name.is_within(&apex) {
            return Err(invalid("name")(DnsError::OutsideZone {
                name: name.to_string(),
                zone: zone.name,
            }));
        }
        let rtype = LocalRecordType::parse(&request.record_type).map_err(invalid("type"))?;
        let data = LocalRecordData::parse(rtype, &request.value).map_err(invalid("value"))?;
        let ttl = parse_ttl(request.ttl).map_err(invalid("ttl"))?;
        let row = DnsRecordRow {
            id: new_id("rr"),
            zone: zone.name,
            name: name.to_string(),
            rtype: rtype.as_str().to_string(),
            value: data.to_value(),
            ttl: i64::from(ttl),
            created_at: self.app.now_ms(),
        };
        self.app.inner.store.insert_dns_record(&row).await?;
        Ok(record_view(&row))
    }

    /// The records of a local zone.
    pub async fn list_zone_records(
        &self,
        caller: &Caller,
        zone: &str,
    ) -> Result<Vec<ZoneRecord>, ServiceError> {
        caller.require_operator()?;
        let zone = self.zone_row(zone).await?;
        Ok(self
            .app
            .inner
            .store
            .dns_records_in_zone(&zone.name)
            .await?
            .iter()
            .map(record_view)
            .collect())
    }

    /// Removes a record from a local zone.
    pub async fn remove_zone_record(
        &self,
        caller: &Caller,
        zone: &str,
        id: &str,
    ) -> Result<(), ServiceError> {
        caller.require_operator()?;
        let zone = self.zone_row(zone).await?;
        if !self
            .app
            .inner
            .store
            .delete_dns_record(&zone.name, id)
            .await?
        {
            return Err(ServiceError::NotFound("record"));
        }
        Ok(())
    }
}
