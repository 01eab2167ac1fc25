//! The platform's DKIM key zone and SPF include domain.

use crate::harness::start;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

/// 392 characters, the length of a 2048-bit key's base64 SubjectPublicKeyInfo.
fn long_key() -> String {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..392)
        .map(|i| alphabet.as_bytes()[(i * 7 + 3) % 64] as char)
        .collect()
}

fn txt_strings(lookup: &hickory_resolver::lookup::Lookup) -> Vec<Vec<String>> {
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8(s.to_vec()).unwrap())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_long_key_is_split_into_255_byte_strings_that_reassemble_exactly() {
    let h = start().await;
    let key = long_key();
    h.add_key("sel1sel1sel1sel1sel1sel1sel1sel1", &key).await;
    for tcp in [false, true] {
        let lookup = h
            .resolver(tcp)
            .lookup(
                "sel1sel1sel1sel1sel1sel1sel1sel1.dkim.absender.test.",
                RecordType::TXT,
            )
            .await
            .unwrap();
        let strings = txt_strings(&lookup);
        assert_eq!(strings.len(), 1, "one TXT record");
        assert!(strings[0].len() >= 2, "split into several strings");
        assert!(strings[0].iter().all(|s| s.len() <= 255));
        assert_eq!(strings[0].concat(), format!("v=DKIM1; k=rsa; p={key}"));
    }
}

#[tokio::test]
async fn unknown_selectors_are_nxdomain_with_the_zone_soa() {
    let h = start().await;
    let err = h
        .resolver(false)
        .lookup("nope.dkim.absender.test.", RecordType::TXT)
        .await
        .unwrap_err();
    assert!(err.is_nx_domain(), "{err:?}");
    let soa = err.into_soa().expect("SOA in the authority section");
    assert_eq!(soa.name.to_ascii(), "dkim.absender.test.");
    assert_eq!(soa.data.mname.to_ascii(), "ns1.absender.test.");
}

#[tokio::test]
async fn a_withdrawn_key_disappears_at_once() {
    let h = start().await;
    h.add_key("gonegonegonegonegonegonegonegone", "AAAA").await;
    let name = "gonegonegonegonegonegonegonegone.dkim.absender.test.";
    assert!(
        h.resolver(false)
            .lookup(name, RecordType::TXT)
            .await
            .is_ok()
    );
    h.store
        .retire_dkim_keys("org-gonegonegonegonegonegonegonegone", "acme.test", 1)
        .await
        .unwrap();
    // No queued mail needs it: the next sweep withdraws it.
    h.store.delete_retired_dkim_keys(0).await.unwrap();
    assert!(
        h.resolver(false)
            .lookup(name, RecordType::TXT)
            .await
            .unwrap_err()
            .is_nx_domain()
    );
}

#[tokio::test]
async fn the_zone_apex_has_soa_and_ns_and_a_key_name_has_only_txt() {
    let h = start().await;
    let r = h.resolver(false);
    let soa = r
        .lookup("dkim.absender.test.", RecordType::SOA)
        .await
        .unwrap();
    assert!(matches!(soa.answers()[0].data, RData::SOA(_)));
    let ns = r
        .lookup("dkim.absender.test.", RecordType::NS)
        .await
        .unwrap();
    assert!(
        matches!(&ns.answers()[0].data, RData::NS(n) if n.0.to_ascii() == "ns1.absender.test.")
    );
    h.add_key("onlytxtonlytxtonlytxtonlytxtonly", "AAAA").await;
    let err = r
        .lookup(
            "onlytxtonlytxtonlytxtonlytxtonly.dkim.absender.test.",
            RecordType::A,
        )
        .await
        .unwrap_err();
    assert!(
        err.is_no_records_found() && !err.is_nx_domain(),
        "NODATA: {err:?}"
    );
}

#[tokio::test]
async fn the_spf_include_domain_lists_the_sending_ips() {
    let h = start().await;
    let lookup = h
        .resolver(false)
        .lookup("spf.absender.test.", RecordType::TXT)
        .await
        .unwrap();
    assert_eq!(
        txt_strings(&lookup),
        [["v=spf1 ip4:127.0.0.1 ip6:::1 ~all"]]
    );
}

#[tokio::test]
async fn names_outside_every_zone_are_refused() {
    let h = start().await;
    let err = h
        .resolver(false)
        .lookup("example.com.", RecordType::A)
        .await
        .unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("Refused"), "{text}");
    let _ = ResponseCode::Refused;
}

#[tokio::test]
async fn another_nodes_write_is_answered_within_the_cache_ttl() {
    let h = start().await;
    let name = "nodebnodebnodebnodebnodebnodebno.dkim.absender.test.";
    assert!(
        h.resolver(false)
            .lookup(name, RecordType::TXT)
            .await
            .unwrap_err()
            .is_nx_domain()
    );
    // A second node: its own store handle on the same database.
    let other = absender_store::Store::open_sqlite(&h.dir.path().join("absender.db"))
        .await
        .unwrap();
    other
        .insert_org(&absender_store::NewOrg {
            id: "org-b".into(),
            name: "B".into(),
            contact_email: "b@b.test".into(),
            locale: "en".into(),
            api_key_hash: "hash-b".into(),
            created_at: 0,
            sandbox: false,
        })
        .await
        .unwrap();
    let key = absender_store::DkimKeyRow {
        id: "dk-b".into(),
        org_id: "org-b".into(),
        domain: "b.test".into(),
        slot: 0,
        selector: "nodebnodebnodebnodebnodebnodebno".into(),
        algorithm: "rsa-sha256".into(),
        private_key_enc: vec![1],
        public_key: "KEYB".into(),
        created_at: 0,
        signs_from: 0,
    };
    other.insert_dkim_keys_if_absent(&[key]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let lookup = h
        .resolver(false)
        .lookup(name, RecordType::TXT)
        .await
        .unwrap();
    assert!(txt_strings(&lookup)[0].concat().ends_with("p=KEYB"));
}
