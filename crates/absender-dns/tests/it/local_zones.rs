//! Local zones play the customer's DNS provider.

use crate::harness::start;
use hickory_resolver::proto::rr::{RData, RecordType};

#[tokio::test]
async fn local_records_are_served_by_type() {
    let h = start().await;
    h.store.insert_dns_zone("acme.test", 0).await.unwrap();
    h.add_record(
        "acme.test",
        "sel._domainkey.acme.test",
        "CNAME",
        "sel.dkim.absender.test",
    )
    .await;
    h.add_record(
        "acme.test",
        "acme.test",
        "TXT",
        "v=spf1 include:spf.absender.test ~all",
    )
    .await;
    h.add_record("acme.test", "acme.test", "MX", "10 mx.acme.test")
        .await;
    h.add_record("acme.test", "mx.acme.test", "A", "192.0.2.7")
        .await;
    h.add_record("acme.test", "mx.acme.test", "AAAA", "2001:db8::7")
        .await;
    let r = h.resolver(false);

    let cname = r
        .lookup("sel._domainkey.acme.test.", RecordType::CNAME)
        .await
        .unwrap();
    assert!(
        matches!(&cname.answers()[0].data, RData::CNAME(t) if t.0.to_ascii() == "sel.dkim.absender.test.")
    );
    let txt = r.lookup("acme.test.", RecordType::TXT).await.unwrap();
    assert!(
        matches!(&txt.answers()[0].data, RData::TXT(t) if t.to_string().contains("include:spf.absender.test"))
    );
    let mx = r.lookup("acme.test.", RecordType::MX).await.unwrap();
    assert!(
        matches!(&mx.answers()[0].data, RData::MX(m) if m.preference == 10 && m.exchange.to_ascii() == "mx.acme.test.")
    );
    let a = r.lookup("mx.acme.test.", RecordType::A).await.unwrap();
    assert!(matches!(&a.answers()[0].data, RData::A(ip) if ip.0.to_string() == "192.0.2.7"));
    let aaaa = r.lookup("mx.acme.test.", RecordType::AAAA).await.unwrap();
    assert!(
        matches!(&aaaa.answers()[0].data, RData::AAAA(ip) if ip.0.to_string() == "2001:db8::7")
    );
}

#[tokio::test]
async fn a_cname_answers_other_types_and_resolvers_follow_it_into_the_key_zone() {
    let h = start().await;
    h.add_key("abcdabcdabcdabcdabcdabcdabcdabcd", "KEYDATA")
        .await;
    h.store.insert_dns_zone("acme.test", 0).await.unwrap();
    h.add_record(
        "acme.test",
        "abcdabcdabcdabcdabcdabcdabcdabcd._domainkey.acme.test",
        "CNAME",
        "abcdabcdabcdabcdabcdabcdabcdabcd.dkim.absender.test.",
    )
    .await;
    let lookup = h
        .resolver(false)
        .lookup(
            "abcdabcdabcdabcdabcdabcdabcdabcd._domainkey.acme.test.",
            RecordType::TXT,
        )
        .await
        .unwrap();
    let txt: Vec<String> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(t.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(txt.len(), 1, "{:?}", lookup.answers());
    assert!(txt[0].contains("p=KEYDATA"));
}

#[tokio::test]
async fn absent_names_are_nxdomain_and_empty_names_nodata() {
    let h = start().await;
    h.store.insert_dns_zone("acme.test", 0).await.unwrap();
    h.add_record(
        "acme.test",
        "sel._domainkey.acme.test",
        "CNAME",
        "sel.dkim.absender.test",
    )
    .await;
    let r = h.resolver(false);
    let err = r
        .lookup("nothing.acme.test.", RecordType::TXT)
        .await
        .unwrap_err();
    assert!(err.is_nx_domain());
    let soa = err.into_soa().unwrap();
    assert_eq!(soa.name.to_ascii(), "acme.test.");
    assert_eq!(
        soa.data.serial, 2,
        "one record added since the zone was created"
    );
    let err = r
        .lookup("_domainkey.acme.test.", RecordType::TXT)
        .await
        .unwrap_err();
    assert!(
        err.is_no_records_found() && !err.is_nx_domain(),
        "an empty non-terminal exists: {err:?}"
    );
    let err = r.lookup("acme.test.", RecordType::MX).await.unwrap_err();
    assert!(!err.is_nx_domain(), "the apex exists");
}

#[tokio::test]
async fn a_cname_beside_other_data_is_served_as_published() {
    let h = start().await;
    h.store.insert_dns_zone("acme.test", 0).await.unwrap();
    h.add_record(
        "acme.test",
        "s._domainkey.acme.test",
        "CNAME",
        "s.dkim.absender.test",
    )
    .await;
    h.add_record(
        "acme.test",
        "s._domainkey.acme.test",
        "TXT",
        "v=DKIM1; p=old",
    )
    .await;
    let r = h.resolver(false);
    assert!(matches!(
        r.lookup("s._domainkey.acme.test.", RecordType::CNAME)
            .await
            .unwrap()
            .answers()[0]
            .data,
        RData::CNAME(_)
    ));
    let txt = r
        .lookup("s._domainkey.acme.test.", RecordType::TXT)
        .await
        .unwrap();
    assert!(
        txt.answers()
            .iter()
            .any(|a| matches!(&a.data, RData::TXT(t) if t.to_string().contains("p=old")))
    );
}

#[tokio::test]
async fn a_removed_record_and_zone_stop_answering() {
    let h = start().await;
    h.store.insert_dns_zone("acme.test", 0).await.unwrap();
    let id = h.add_record("acme.test", "acme.test", "TXT", "hello").await;
    let r = h.resolver(false);
    assert!(r.lookup("acme.test.", RecordType::TXT).await.is_ok());
    h.store.delete_dns_record("acme.test", &id).await.unwrap();
    assert!(r.lookup("acme.test.", RecordType::TXT).await.is_err());
    h.store.delete_dns_zone("acme.test").await.unwrap();
    let err = r.lookup("acme.test.", RecordType::TXT).await.unwrap_err();
    assert!(format!("{err:?}").contains("Refused"), "{err:?}");
}
