//! Sender identities: the upgrade gate, address rules, duplicates, deletion.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn without_the_upgrade_a_request_is_refused_naming_the_contact() {
    let app = spawn_app().await;
    let org = app.create_org("Acme", "en").await;
    let body = json!({"address": "events@acme.test", "scope": "recipients"});
    let r = app
        .json(
            Method::POST,
            "/api/v1/identities",
            Some(&org.key),
            Some(body),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&r), "upgrade_required");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("upgrade@absender.test")
    );
    let list = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_requested_identity_has_the_documented_shape() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app.request_identity(&org, "events@acme.test", "all").await;
    assert!(identity["id"].as_str().unwrap().starts_with("idn_"));
    assert_eq!(identity["address"], "events@acme.test");
    assert_eq!(identity["domain"], "acme.test");
    assert_eq!(identity["scope"], "all");
    assert_eq!(identity["status"], "PENDING");
    assert_eq!(identity["parts"]["address"]["status"], "PENDING");
    assert_eq!(identity["parts"]["dkim"]["status"], "PENDING");
    assert_eq!(identity["parts"]["dkim"]["diagnostics"], json!([]));
    assert_eq!(identity["parts"]["spf"]["status"], "PENDING");
    assert_eq!(
        identity["categories"],
        json!(["booking", "invitation", "account_notification"])
    );
    assert!(identity["created_at"].as_str().unwrap().ends_with('Z'));

    let id = identity["id"].as_str().unwrap();
    let shown = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    // The first DNS check runs in the background meanwhile: compare what it leaves alone.
    let stable = |i: &serde_json::Value| {
        (
            i["id"].clone(),
            i["address"].clone(),
            i["scope"].clone(),
            i["created_at"].clone(),
        )
    };
    assert_eq!(stable(&shown), stable(&identity));
    let list = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(stable(&list["items"][0]), stable(&identity));
}

#[tokio::test]
async fn idn_domains_become_a_labels_and_domains_are_lowercased() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Bäckerei", "de").await;
    let identity = app
        .request_identity(&org, "Info@Bäckerei-Müller.DE", "recipients")
        .await;
    assert_eq!(identity["address"], "Info@xn--bckerei-mller-bfb28a.de");
    assert_eq!(identity["domain"], "xn--bckerei-mller-bfb28a.de");
    assert_eq!(identity["domain_unicode"], "bäckerei-müller.de");
    let id = identity["id"].as_str().unwrap();
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        records["records"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with("._domainkey.xn--bckerei-mller-bfb28a.de")
    );
}

#[tokio::test]
async fn malformed_addresses_and_scopes_are_refused() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let cases = [
        (
            json!({"address": "no-at-sign", "scope": "recipients"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"address": "a@b.test\r\nBcc: victim@else.test", "scope": "recipients"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"address": "a b@acme.test", "scope": "recipients"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"address": "a@xn--zz.test", "scope": "recipients"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"address": "a@[127.0.0.1]", "scope": "recipients"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"address": format!("{}@acme.test", "a".repeat(65)), "scope": "recipients"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"address": "a@acme.test", "scope": "everything"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // A missing scope names the field (domain identities need none).
        (
            json!({"address": "a@acme.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"address": ["a@acme.test"], "scope": "all"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, expected) in cases {
        let r = app
            .json(
                Method::POST,
                "/api/v1/identities",
                Some(&org.key),
                Some(body.clone()),
                status,
            )
            .await;
        assert_eq!(code(&r), expected, "{body}");
    }
    let list = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn duplicates_are_409_within_an_org_but_independent_across_orgs() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let other = app.upgraded_org("Other", "en").await;
    let first = app
        .request_identity(&acme, "events@acme.test", "recipients")
        .await;
    // The domain's case, and the local part's, make no other mailbox.
    for address in ["events@ACME.test", "Events@acme.test"] {
        let body = json!({"address": address, "scope": "all"});
        let r = app
            .json(
                Method::POST,
                "/api/v1/identities",
                Some(&acme.key),
                Some(body),
                StatusCode::CONFLICT,
            )
            .await;
        assert_eq!(code(&r), "identity_exists", "{address}");
    }

    let second = app
        .request_identity(&other, "events@acme.test", "recipients")
        .await;
    assert_ne!(first["id"], second["id"]);
    let records = |org: &crate::helpers::Org, id: &str| {
        let path = format!("/api/v1/identities/{id}/dns-records");
        let key = org.key.clone();
        let app = &app;
        async move {
            app.json(Method::GET, &path, Some(&key), None, StatusCode::OK)
                .await
        }
    };
    let a = records(&acme, first["id"].as_str().unwrap()).await;
    let b = records(&other, second["id"].as_str().unwrap()).await;
    assert_ne!(
        a["records"][0]["name"], b["records"][0]["name"],
        "each org has its own DKIM keys"
    );
}

#[tokio::test]
async fn deleting_the_last_identity_of_a_domain_withdraws_its_keys() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let events = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let info = app.request_identity(&org, "info@acme.test", "all").await;
    let store = app.app().store().clone();
    let keys = store.dkim_keys(&org.id, "acme.test").await.unwrap();
    assert_eq!(keys.len(), 3, "one set of keys per (org, domain)");
    let info_records = app
        .json(
            Method::GET,
            &format!(
                "/api/v1/identities/{}/dns-records",
                info["id"].as_str().unwrap()
            ),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        info_records["records"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with(&keys[0].selector)
    );

    let events_path = format!("/api/v1/identities/{}", events["id"].as_str().unwrap());
    let deleted = app
        .call(Method::DELETE, &events_path, Some(&org.key), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    app.json(
        Method::GET,
        &events_path,
        Some(&org.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        store.dkim_keys(&org.id, "acme.test").await.unwrap().len(),
        3,
        "info@ still uses the domain"
    );

    let info_path = format!("/api/v1/identities/{}", info["id"].as_str().unwrap());
    assert_eq!(
        app.call(Method::DELETE, &info_path, Some(&org.key), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // Retired, then withdrawn by the sweep (no queued mail needs them).
    app.app().sweep_retention().await.unwrap();
    assert!(
        store
            .dkim_keys(&org.id, "acme.test")
            .await
            .unwrap()
            .is_empty(),
        "keys withdrawn"
    );
    assert!(
        store
            .dkim_key_by_selector(&keys[0].selector)
            .await
            .unwrap()
            .is_none()
    );
    let again = app
        .json(
            Method::DELETE,
            &info_path,
            Some(&org.key),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(code(&again), "not_found");
}

#[tokio::test]
async fn private_keys_are_sealed_and_never_in_any_answer() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let keys = app
        .app()
        .store()
        .dkim_keys(&org.id, "acme.test")
        .await
        .unwrap();
    for key in &keys {
        assert_eq!(key.private_key_enc[0], 1, "sealed format");
        // An unsealed PKCS#8 RSA key starts with a DER SEQUENCE (0x30 0x82).
        assert_ne!(&key.private_key_enc[..2], &[0x30, 0x82]);
    }
    let id = identity["id"].as_str().unwrap();
    let mut answers = String::new();
    for path in [
        format!("/api/v1/identities/{id}"),
        format!("/api/v1/identities/{id}/dns-records"),
        format!("/api/v1/identities/{id}/dns-records.csv"),
        "/api/v1/identities".to_string(),
    ] {
        answers += &app
            .call(Method::GET, &path, Some(&org.key), None)
            .await
            .text()
            .await
            .unwrap();
    }
    for key in &keys {
        assert!(
            !answers.contains(&key.public_key[..40]),
            "not even the key material is echoed"
        );
    }
    assert!(!answers.contains("PRIVATE"));
    let _ = ADMIN_KEY;
}
