//! Store behaviour that must hold on every backend.

use absender_store::*;

crate::battery!(
    settings_are_written_once,
    orgs_round_trip_and_update,
    rotated_keys_end_at_once_or_after_their_grace,
    identities_are_unique_per_org_and_scoped,
    tokens_are_single_use_and_superseded_by_newer_ones,
    dkim_keys_keep_the_first_writer_and_are_withdrawn,
    a_rotated_key_replaces_the_one_read_once_and_waits_for_queued_mail,
    an_own_key_restarts_dkim_and_signs_once_a_current_check_verified_it,
    webhook_events_fan_out_to_who_wants_them_and_are_leased_once,
    outbox_is_scoped_by_org,
    local_dns_zones_keep_records_and_bump_serials,
    due_checks_are_leased_once_and_released_on_save,
    imports_write_many_rows_at_once,
    send_settings_are_replaced_whole_and_follow_deleted_identities,
    the_newest_platform_key_comes_first,
    queued_deliveries_are_leased_once_finished_and_suppress_hard_bounces,
    large_batches_are_stored_and_finished_row_by_row_correctly,
    ui_sessions_expire_and_sign_in_links_work_once,
    a_silent_node_is_declared_dead_once_and_its_work_freed_at_once,
    a_send_rate_bucket_gives_each_token_once_and_refills,
);

fn new_org(id: &str) -> NewOrg {
    NewOrg {
        id: id.into(),
        name: format!("Org {id}"),
        contact_email: format!("contact@{id}.test"),
        locale: "de".into(),
        api_key_hash: format!("hash-{id}"),
        created_at: 1_000,
        sandbox: false,
    }
}

fn new_identity(id: &str, org: &str, address: &str) -> NewIdentity {
    NewIdentity {
        id: id.into(),
        org_id: org.into(),
        address: address.into(),
        domain: address.split('@').nth(1).unwrap().into(),
        scope: "recipients".into(),
        address_status: "PENDING".into(),
        dkim_status: "PENDING".into(),
        spf_status: "PENDING".into(),
        created_at: 2_000,
        mail_from_domain: format!("bounce.{}", address.split('@').nth(1).unwrap()),
        mail_from_status: "PENDING".into(),
        kind: "address".into(),
        tags: "[]".into(),
    }
}

async fn settings_are_written_once(store: &Store) {
    assert!(
        store
            .insert_setting_if_absent("admin", "first")
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_setting_if_absent("admin", "second")
            .await
            .unwrap()
    );
    assert_eq!(
        store.setting("admin").await.unwrap().as_deref(),
        Some("first")
    );
    assert_eq!(store.setting("absent").await.unwrap(), None);
}

async fn rotated_keys_end_at_once_or_after_their_grace(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    let who =
        async |hash: &str, at: i64| store.org_by_key_hash(hash, at).await.unwrap().map(|o| o.id);
    // With a grace period the old key works until it ends.
    assert!(
        store
            .rotate_org_key("acme", "hash-2", 5_000, 1_000)
            .await
            .unwrap()
    );
    assert_eq!(who("hash-2", 1_000).await.as_deref(), Some("acme"));
    assert_eq!(who("hash-acme", 4_999).await.as_deref(), Some("acme"));
    assert_eq!(who("hash-acme", 5_000).await, None);
    // Without, at once; and the key before that stays gone.
    assert!(
        store
            .rotate_org_key("acme", "hash-3", 0, 2_000)
            .await
            .unwrap()
    );
    assert_eq!(who("hash-2", 2_000).await, None);
    assert_eq!(who("hash-acme", 2_000).await, None);
    assert_eq!(who("hash-3", 2_000).await.as_deref(), Some("acme"));
    assert!(
        !store
            .rotate_org_key("nobody", "hash-4", 0, 2_000)
            .await
            .unwrap()
    );
}

async fn orgs_round_trip_and_update(store: &Store) {
    let created = store.insert_org(&new_org("acme")).await.unwrap();
    assert!(!created.custom_sender_enabled);
    assert_eq!(created.locale, "de");
    store.insert_org(&new_org("beta")).await.unwrap();
    assert!(matches!(
        store.insert_org(&new_org("acme")).await,
        Err(StoreError::Conflict)
    ));

    assert_eq!(
        store
            .org_by_key_hash("hash-acme", 1)
            .await
            .unwrap()
            .unwrap()
            .id,
        "acme"
    );
    assert_eq!(store.org_by_key_hash("nope", 1).await.unwrap(), None);

    let changes = OrgChanges {
        custom_sender_enabled: Some(true),
        ..Default::default()
    };
    let updated = store
        .update_org("acme", &changes, 5_000)
        .await
        .unwrap()
        .unwrap();
    assert!(updated.custom_sender_enabled);
    assert_eq!(updated.name, "Org acme");
    assert_eq!(updated.updated_at, 5_000);
    assert_eq!(
        store.update_org("missing", &changes, 5_000).await.unwrap(),
        None
    );

    let ids: Vec<String> = store
        .list_orgs()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, ["acme", "beta"]);
}

async fn identities_are_unique_per_org_and_scoped(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store.insert_org(&new_org("beta")).await.unwrap();
    store
        .insert_identity(&new_identity("i1", "acme", "events@acme.test"))
        .await
        .unwrap();
    let dup = store
        .insert_identity(&new_identity("i2", "acme", "events@acme.test"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)));
    store
        .insert_identity(&new_identity("i3", "beta", "events@acme.test"))
        .await
        .unwrap();

    assert!(store.identity("acme", "i1").await.unwrap().is_some());
    assert_eq!(
        store.identity("beta", "i1").await.unwrap(),
        None,
        "cross-tenant read"
    );
    assert!(
        !store.delete_identity("beta", "i1").await.unwrap(),
        "cross-tenant delete"
    );
    assert_eq!(
        store
            .count_identities_for_domain("acme", "acme.test")
            .await
            .unwrap(),
        1
    );

    store
        .set_address_status("i1", "SUCCESS", 3_000)
        .await
        .unwrap();
    let row = store.identity("acme", "i1").await.unwrap().unwrap();
    assert_eq!(
        (row.address_status.as_str(), row.updated_at),
        ("SUCCESS", 3_000)
    );

    assert!(store.delete_identity("acme", "i1").await.unwrap());
    assert_eq!(
        store
            .count_identities_for_domain("acme", "acme.test")
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.list_identities("beta").await.unwrap().len(), 1);
}

async fn tokens_are_single_use_and_superseded_by_newer_ones(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store
        .insert_identity(&new_identity("i1", "acme", "events@acme.test"))
        .await
        .unwrap();
    store
        .insert_token("old", "i1", 1_000, 10_000)
        .await
        .unwrap();
    store
        .insert_token("new", "i1", 2_000, 20_000)
        .await
        .unwrap();
    assert!(store.token("old").await.unwrap().unwrap().superseded);
    assert!(!store.use_token("old", 3_000).await.unwrap());

    assert!(!store.use_token("new", 20_000).await.unwrap(), "expired");
    assert!(store.use_token("new", 3_000).await.unwrap());
    assert!(!store.use_token("new", 3_001).await.unwrap(), "second use");
    assert_eq!(
        store.token("new").await.unwrap().unwrap().used_at,
        Some(3_000)
    );
    assert_eq!(store.token_send_times("i1", 1_500).await.unwrap(), [2_000]);

    store.delete_identity("acme", "i1").await.unwrap();
    assert_eq!(
        store.token("new").await.unwrap(),
        None,
        "tokens go with their identity"
    );
}

async fn dkim_keys_keep_the_first_writer_and_are_withdrawn(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    let key = |slot: i64, selector: &str| DkimKeyRow {
        id: format!("k-{selector}"),
        org_id: "acme".into(),
        domain: "acme.test".into(),
        slot,
        selector: selector.into(),
        algorithm: "rsa-sha256".into(),
        private_key_enc: vec![1, 2, 3, 0, 255],
        public_key: "MIIB".into(),
        created_at: 1_000,
        signs_from: 0,
    };
    store
        .insert_dkim_keys_if_absent(&[key(0, "a"), key(1, "b")])
        .await
        .unwrap();
    store
        .insert_dkim_keys_if_absent(&[key(1, "x"), key(2, "c")])
        .await
        .unwrap();
    let keys = store.dkim_keys("acme", "acme.test").await.unwrap();
    let selectors: Vec<&str> = keys.iter().map(|k| k.selector.as_str()).collect();
    assert_eq!(selectors, ["a", "b", "c"]);
    assert_eq!(keys[0].private_key_enc, [1, 2, 3, 0, 255]);
    assert_eq!(
        store.dkim_key_by_selector("b").await.unwrap().unwrap().slot,
        1
    );
    // Retired keys stay published; withdrawn once no queued mail needs them.
    assert_eq!(
        store
            .retire_dkim_keys("acme", "acme.test", 1_000)
            .await
            .unwrap(),
        3
    );
    assert!(store.dkim_key_by_selector("b").await.unwrap().is_some());
    // Requested again: back in use, nothing to withdraw.
    assert_eq!(
        store.revive_dkim_keys("acme", "acme.test").await.unwrap(),
        3
    );
    assert_eq!(store.delete_retired_dkim_keys(5_000).await.unwrap(), 0);
    store
        .retire_dkim_keys("acme", "acme.test", 2_000)
        .await
        .unwrap();
    assert_eq!(store.delete_retired_dkim_keys(1_000).await.unwrap(), 3);
    assert_eq!(store.dkim_key_by_selector("b").await.unwrap(), None);
}

async fn a_rotated_key_replaces_the_one_read_once_and_waits_for_queued_mail(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    let key = |id: &str, slot: i64, created_at: i64, signs_from: i64| DkimKeyRow {
        id: id.into(),
        org_id: "acme".into(),
        domain: "acme.test".into(),
        slot,
        selector: format!("sel{slot}"),
        algorithm: "rsa-sha256".into(),
        private_key_enc: vec![slot as u8],
        public_key: format!("key-{id}"),
        created_at,
        signs_from,
    };
    store
        .insert_dkim_keys_if_absent(&[key("a", 0, 1_000, 0), key("b", 1, 1_000, 0)])
        .await
        .unwrap();
    assert_eq!(
        store.domains_due_for_rotation(2_000, 10).await.unwrap(),
        [("acme".to_string(), "acme.test".to_string())]
    );
    assert!(
        store
            .domains_due_for_rotation(1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Slot 1 takes a new key once; a second writer that read the old key loses.
    let new = key("b2", 1, 5_000, 9_000);
    assert!(store.replace_dkim_key("b", &new).await.unwrap());
    assert!(
        !store
            .replace_dkim_key("b", &key("b3", 1, 5_000, 9_000))
            .await
            .unwrap()
    );
    // While b2 waits for its turn (9000), no other slot takes a key.
    assert!(
        !store
            .replace_dkim_key("a", &key("a2", 0, 6_000, 9_500))
            .await
            .unwrap()
    );
    let keys = store.dkim_keys("acme", "acme.test").await.unwrap();
    assert_eq!(keys[1].id, "b2");
    assert_eq!(
        (keys[1].signs_from, keys[1].selector.as_str()),
        (9_000, "sel1")
    );
    assert_eq!(keys[1].public_key, "key-b2");
    assert_eq!(
        store
            .dkim_key_by_selector("sel1")
            .await
            .unwrap()
            .unwrap()
            .public_key,
        "key-b2",
        "the DNS answers the new key under the same selector"
    );
    assert!(
        store
            .domains_due_for_rotation(2_000, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The oldest mail from the domain that still waits to go.
    assert_eq!(
        store
            .oldest_queued_from_domain("acme", "acme.test")
            .await
            .unwrap(),
        None
    );
    store
        .enqueue_messages(&[
            &queued("m1", &["a@x.test"], 10),
            &queued("m2", &["b@x.test"], 20),
        ])
        .await
        .unwrap();
    assert_eq!(
        store
            .oldest_queued_from_domain("acme", "acme.test")
            .await
            .unwrap(),
        Some(10)
    );
    assert_eq!(
        store
            .oldest_queued_from_domain("acme", "other.test")
            .await
            .unwrap(),
        None
    );
}

async fn an_own_key_restarts_dkim_and_signs_once_a_current_check_verified_it(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store.insert_org(&new_org("other")).await.unwrap();
    for (id, org, address) in [
        ("i1", "acme", "a@acme.test"),
        ("i2", "acme", "b@acme.test"),
        ("i3", "other", "c@acme.test"),
    ] {
        store
            .insert_identity(&new_identity(id, org, address))
            .await
            .unwrap();
        store.schedule_check(id, 5_000).await.unwrap();
    }
    // A check of i1 is under way when the organization gives its own key.
    let stale = store
        .claim_due_checks(10_000, 20_000, 10, "node-a")
        .await
        .unwrap();
    let i1 = stale.iter().find(|r| r.id == "i1").unwrap().clone();
    let key = OwnDkimKeyRow {
        org_id: "acme".into(),
        domain: "acme.test".into(),
        selector: "s1".into(),
        private_key_enc: vec![1, 2, 3],
        public_key: "PUB1".into(),
        bits: 2048,
        created_at: 11_000,
        verified_at: None,
    };
    let event = |id: &str| IdentityEventRow {
        id: format!("e-{id}"),
        identity_id: id.into(),
        org_id: "acme".into(),
        part: "dkim".into(),
        from_status: "NOT_STARTED".into(),
        to_status: "PENDING".into(),
        detail: "own key".into(),
        created_at: 11_000,
    };
    store
        .set_own_dkim_key(
            "acme",
            "acme.test",
            Some(&key),
            "PENDING",
            11_000,
            &[event("i1"), event("i2")],
        )
        .await
        .unwrap();
    assert_eq!(
        store.own_dkim_key("acme", "acme.test").await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        store.own_dkim_key("other", "acme.test").await.unwrap(),
        None
    );
    let row = |id: &'static str| async move {
        store
            .identity(if id == "i3" { "other" } else { "acme" }, id)
            .await
            .unwrap()
            .unwrap()
    };
    for id in ["i1", "i2"] {
        let r = row(id).await;
        assert_eq!(
            (r.dkim_status.as_str(), r.dkim_generation, r.next_check_at),
            ("PENDING", 1, Some(11_000))
        );
        assert_eq!(store.identity_events(id).await.unwrap().len(), 1);
    }
    assert_eq!(
        row("i3").await.dkim_generation,
        0,
        "another organization's identity is untouched"
    );

    // The check judged against the old key is not written, not even by the
    // node that holds the lease again.
    let verdict = |generation: i64| CheckUpdate {
        identity_id: "i1".into(),
        dkim_status: "SUCCESS".into(),
        spf_status: "SUCCESS".into(),
        mail_from_status: "PENDING".into(),
        next_check_at: Some(90_000),
        checks_in_status: 0,
        now_ms: 12_000,
        parts: vec![],
        events: vec![],
        dkim_generation: generation,
        own_public_key: Some("PUB1".into()),
    };
    assert_eq!(i1.dkim_generation, 0);
    store
        .claim_check("i1", 11_500, 20_000, "node-a")
        .await
        .unwrap();
    assert!(
        !store
            .save_check(&verdict(i1.dkim_generation), "node-a")
            .await
            .unwrap()
    );
    assert_eq!(row("i1").await.dkim_status, "PENDING");
    assert_eq!(
        store
            .own_dkim_key("acme", "acme.test")
            .await
            .unwrap()
            .unwrap()
            .verified_at,
        None
    );
    // A current check that saw another key does not verify this one.
    assert!(
        store
            .save_check(
                &CheckUpdate {
                    own_public_key: Some("PUB0".into()),
                    ..verdict(1)
                },
                "node-a"
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .own_dkim_key("acme", "acme.test")
            .await
            .unwrap()
            .unwrap()
            .verified_at,
        None
    );
    store
        .claim_check("i1", 12_500, 20_000, "node-a")
        .await
        .unwrap();
    assert!(store.save_check(&verdict(1), "node-a").await.unwrap());
    assert_eq!(
        store
            .own_dkim_key("acme", "acme.test")
            .await
            .unwrap()
            .unwrap()
            .verified_at,
        Some(12_000)
    );

    // A new key replaces it unverified; none goes back to Easy DKIM.
    let newer = OwnDkimKeyRow {
        public_key: "PUB2".into(),
        created_at: 13_000,
        ..key
    };
    store
        .set_own_dkim_key("acme", "acme.test", Some(&newer), "PENDING", 13_000, &[])
        .await
        .unwrap();
    assert_eq!(
        store.own_dkim_key("acme", "acme.test").await.unwrap(),
        Some(newer)
    );
    assert_eq!(row("i2").await.dkim_generation, 2);
    store
        .set_own_dkim_key("acme", "acme.test", None, "PENDING", 14_000, &[])
        .await
        .unwrap();
    assert_eq!(store.own_dkim_key("acme", "acme.test").await.unwrap(), None);
    assert!(
        !store
            .delete_own_dkim_key("acme", "acme.test")
            .await
            .unwrap()
    );
}

async fn webhook_events_fan_out_to_who_wants_them_and_are_leased_once(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store.insert_org(&new_org("other")).await.unwrap();
    let hook = |id: &str, org: Option<&str>, events: &str| WebhookRow {
        id: id.into(),
        org_id: org.map(String::from),
        url: format!("https://hooks.example.test/{id}"),
        events: events.into(),
        format: "standard".into(),
        description: String::new(),
        enabled: true,
        secret_enc: vec![1, 2, 3],
        previous_secret_enc: None,
        previous_until: None,
        failing_since: None,
        disabled_reason: None,
        created_at: 10,
        updated_at: 10,
    };
    store
        .insert_webhook(&hook("w1", Some("acme"), r#"["Bounce","Send"]"#))
        .await
        .unwrap();
    store
        .insert_webhook(&hook("w2", None, r#"["Bounce"]"#))
        .await
        .unwrap();
    assert_eq!(
        store.webhooks(None).await.unwrap().len(),
        1,
        "the operator's own"
    );
    assert_eq!(store.webhooks(Some("acme")).await.unwrap()[0].id, "w1");
    assert!(store.webhook(Some("other"), "w1").await.unwrap().is_none());
    assert!(store.webhook(None, "w1").await.unwrap().is_none());

    let event = |id: &str, org: &str, event_type: &str| NewWebhookEvent {
        id: id.into(),
        org_id: Some(org.into()),
        event_type: event_type.into(),
        body: "{}".into(),
        created_at: 20,
    };
    store
        .insert_webhook_event(&event("e1", "acme", "Bounce"))
        .await
        .unwrap();
    store
        .insert_webhook_event(&event("e2", "other", "Bounce"))
        .await
        .unwrap();
    // Nobody wants it: not even stored.
    store
        .insert_webhook_event(&event("e3", "other", "Send"))
        .await
        .unwrap();
    let jobs = store
        .claim_webhook_deliveries(25, 1_000, 10, "node-a")
        .await
        .unwrap();
    let mut got: Vec<(String, String)> = jobs
        .iter()
        .map(|j| (j.event_id.clone(), j.webhook_id.clone()))
        .collect();
    got.sort();
    let pair = |e: &str, w: &str| (e.to_string(), w.to_string());
    assert_eq!(got, [pair("e1", "w1"), pair("e1", "w2"), pair("e2", "w2")]);
    assert!(
        store
            .claim_webhook_deliveries(30, 1_000, 10, "node-b")
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    let attempt = |status: &'static str, next: i64, at: i64| WebhookAttempt {
        status,
        attempts: 1,
        next_attempt_at: next,
        http_status: Some(500),
        latency_ms: 7,
        error: Some("HTTP 500".into()),
        at_ms: at,
    };
    store
        .finish_webhook_delivery("e1", "w1", &attempt("pending", 2_000, 40), "node-a")
        .await
        .unwrap();
    assert_eq!(
        store
            .webhook(Some("acme"), "w1")
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        Some(40)
    );
    // w2's leases ran out (taken up again, until 3,000); w1's retry is not due yet.
    let expired = store
        .claim_webhook_deliveries(1_500, 3_000, 10, "node-b")
        .await
        .unwrap();
    assert!(expired.iter().all(|j| j.webhook_id == "w2") && expired.len() == 2);
    let again = store
        .claim_webhook_deliveries(2_000, 3_000, 10, "node-a")
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert!(
        !store
            .disable_failing_webhook("w1", 39, 2_000)
            .await
            .unwrap(),
        "failing since 40"
    );
    store
        .finish_webhook_delivery(
            "e1",
            "w1",
            &WebhookAttempt {
                http_status: Some(200),
                error: None,
                ..attempt("delivered", 0, 2_100)
            },
            "node-a",
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .webhook(Some("acme"), "w1")
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        None
    );
    let recent = store.recent_webhook_deliveries("w1", 5).await.unwrap();
    assert_eq!(
        (recent[0].status.as_str(), recent[0].last_status),
        ("delivered", Some(200))
    );

    // Node a's lease on e2 was taken by node b: its late result is not written.
    assert!(
        !store
            .finish_webhook_delivery("e2", "w2", &attempt("delivered", 0, 45), "node-a")
            .await
            .unwrap()
    );
    store
        .finish_webhook_delivery("e2", "w2", &attempt("failed", 0, 50), "node-b")
        .await
        .unwrap();
    assert!(
        store
            .disable_failing_webhook("w2", 60, 3_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .disable_failing_webhook("w2", 60, 3_001)
            .await
            .unwrap(),
        "once"
    );
    // e1 still waits for w2: only e2 is done and old.
    assert_eq!(store.delete_old_webhook_events(5_000, 10).await.unwrap(), 1);
    assert!(store.delete_webhook(Some("acme"), "w1").await.unwrap());
    assert!(!store.delete_webhook(Some("acme"), "w1").await.unwrap());
}

async fn outbox_is_scoped_by_org(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store.insert_org(&new_org("beta")).await.unwrap();
    let message = |id: &str, org: Option<&str>, at: i64| OutboxRow {
        id: id.into(),
        org_id: org.map(Into::into),
        category: "system".into(),
        mail_from: "noreply@absender.test".into(),
        rcpt_to: "a@acme.test".into(),
        subject: "Hallo".into(),
        raw: b"Subject: Hallo\r\n\r\nBody\r\n".to_vec(),
        created_at: at,
        operator_only: false,
        redacted: false,
    };
    store
        .insert_outbox(&message("m1", Some("acme"), 1))
        .await
        .unwrap();
    store
        .insert_outbox(&message("m2", Some("beta"), 2))
        .await
        .unwrap();
    store.insert_outbox(&message("m3", None, 3)).await.unwrap();
    let all: Vec<String> = store
        .list_outbox(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(all, ["m3", "m2", "m1"]);
    let acme: Vec<String> = store
        .list_outbox(Some("acme"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(acme, ["m1"]);
    assert!(
        store
            .outbox_message("m2", Some("acme"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.outbox_message("m2", None).await.unwrap().unwrap().raw,
        message("m2", None, 2).raw
    );
    // A mail with a live secret is the operator's alone, even for its organization.
    let secret = OutboxRow {
        operator_only: true,
        ..message("m4", Some("acme"), 4)
    };
    store.insert_outbox(&secret).await.unwrap();
    let acme_now: Vec<String> = store
        .list_outbox(Some("acme"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(acme_now, ["m1"]);
    assert!(
        store
            .outbox_message("m4", Some("acme"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .outbox_message("m4", None)
            .await
            .unwrap()
            .unwrap()
            .operator_only
    );
    assert_eq!(store.list_outbox(None, 10).await.unwrap().len(), 4);
}

async fn local_dns_zones_keep_records_and_bump_serials(store: &Store) {
    let zone = store.insert_dns_zone("acme.test", 1).await.unwrap();
    assert_eq!(zone.serial, 1);
    assert!(matches!(
        store.insert_dns_zone("acme.test", 2).await,
        Err(StoreError::Conflict)
    ));
    let record = |id: &str, name: &str, rtype: &str, value: &str| DnsRecordRow {
        id: id.into(),
        zone: "acme.test".into(),
        name: name.into(),
        rtype: rtype.into(),
        value: value.into(),
        ttl: 60,
        created_at: 5,
    };
    store
        .insert_dns_record(&record(
            "r1",
            "sel._domainkey.acme.test",
            "CNAME",
            "sel.dkim.absender.test",
        ))
        .await
        .unwrap();
    store
        .insert_dns_record(&record("r2", "acme.test", "TXT", "v=spf1 -all"))
        .await
        .unwrap();
    assert_eq!(
        store.dns_zone("acme.test").await.unwrap().unwrap().serial,
        3
    );
    assert_eq!(
        store.dns_records_at("acme.test").await.unwrap()[0].value,
        "v=spf1 -all"
    );
    assert!(
        store
            .dns_name_has_descendants("acme.test", "_domainkey.acme.test")
            .await
            .unwrap()
    );
    assert!(
        !store
            .dns_name_has_descendants("acme.test", "xdomainkey.acme.test")
            .await
            .unwrap(),
        "_ is no wildcard"
    );
    assert!(
        !store
            .dns_name_has_descendants("acme.test", "sel._domainkey.acme.test")
            .await
            .unwrap()
    );
    assert_eq!(
        store.dns_records_in_zone("acme.test").await.unwrap().len(),
        2
    );

    assert!(
        !store.delete_dns_record("other.test", "r2").await.unwrap(),
        "scoped by zone"
    );
    assert!(store.delete_dns_record("acme.test", "r2").await.unwrap());
    assert_eq!(
        store.dns_zone("acme.test").await.unwrap().unwrap().serial,
        4
    );
    assert!(store.delete_dns_zone("acme.test").await.unwrap());
    assert!(
        store
            .dns_records_at("sel._domainkey.acme.test")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.dns_zones().await.unwrap().is_empty());
}

async fn due_checks_are_leased_once_and_released_on_save(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store
        .insert_identity(&new_identity("i1", "acme", "a@acme.test"))
        .await
        .unwrap();
    store
        .insert_identity(&new_identity("i2", "acme", "b@acme.test"))
        .await
        .unwrap();
    assert!(
        store
            .claim_due_checks(10_000, 20_000, 10, "node-a")
            .await
            .unwrap()
            .is_empty(),
        "nothing scheduled yet"
    );
    store.schedule_check("i1", 5_000).await.unwrap();
    store.schedule_check("i2", 50_000).await.unwrap();

    let claimed = store
        .claim_due_checks(10_000, 20_000, 10, "node-a")
        .await
        .unwrap();
    assert_eq!(
        claimed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["i1"]
    );
    assert!(
        store
            .claim_due_checks(10_001, 20_001, 10, "node-a")
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    assert_eq!(
        store
            .claim_due_checks(20_001, 30_000, 10, "node-b")
            .await
            .unwrap()
            .len(),
        1,
        "an expired lease is taken up again"
    );

    let event = IdentityEventRow {
        id: "e1".into(),
        identity_id: "i1".into(),
        org_id: "acme".into(),
        part: "dkim".into(),
        from_status: "PENDING".into(),
        to_status: "SUCCESS".into(),
        detail: "records verified".into(),
        created_at: 21_000,
    };
    let part = IdentityCheckRow {
        identity_id: "i1".into(),
        part: "dkim".into(),
        status_since: 21_000,
        diagnostics: "[]".into(),
        error_type: None,
        soa_zone: Some("acme.test".into()),
        soa_mname: Some("ns1.absender.test".into()),
        soa_serial: Some(7),
        last_checked_at: Some(21_000),
        last_success_at: Some(21_000),
    };
    let update = CheckUpdate {
        identity_id: "i1".into(),
        dkim_status: "SUCCESS".into(),
        spf_status: "PENDING".into(),
        mail_from_status: "PENDING".into(),
        next_check_at: Some(25_000),
        checks_in_status: 0,
        now_ms: 21_000,
        parts: vec![part.clone()],
        events: vec![event.clone()],
        dkim_generation: 0,
        own_public_key: None,
    };
    // Node a's lease ran out and node b took the identity: a's outcome is dropped.
    assert!(!store.save_check(&update, "node-a").await.unwrap());
    assert!(store.identity_events("i1").await.unwrap().is_empty());
    assert!(store.save_check(&update, "node-b").await.unwrap());
    assert!(
        store
            .save_check(
                &CheckUpdate {
                    events: vec![],
                    ..update
                },
                "node-b"
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.identity_checks("i1").await.unwrap(),
        std::slice::from_ref(&part),
        "upserted, not duplicated"
    );
    assert_eq!(store.identity_events("i1").await.unwrap(), [event]);
    let row = store.identity("acme", "i1").await.unwrap().unwrap();
    assert_eq!(
        (row.dkim_status.as_str(), row.next_check_at),
        ("SUCCESS", Some(25_000))
    );
    assert_eq!(
        store
            .claim_due_checks(25_000, 26_000, 10, "node-a")
            .await
            .unwrap()
            .len(),
        1,
        "lease released by the save"
    );

    // Lists read a whole organization's findings at once, and never another's.
    store.insert_org(&new_org("other")).await.unwrap();
    store
        .insert_identity(&new_identity("i3", "other", "c@other.test"))
        .await
        .unwrap();
    let other_part = IdentityCheckRow {
        identity_id: "i3".into(),
        ..part.clone()
    };
    store
        .save_check(
            &CheckUpdate {
                identity_id: "i3".into(),
                dkim_status: "SUCCESS".into(),
                spf_status: "PENDING".into(),
                mail_from_status: "PENDING".into(),
                next_check_at: None,
                checks_in_status: 0,
                now_ms: 22_000,
                parts: vec![other_part.clone()],
                events: vec![],
                dkim_generation: 0,
                own_public_key: None,
            },
            // Never claimed: no owner.
            "",
        )
        .await
        .unwrap();
    assert_eq!(
        store.org_identity_checks("acme").await.unwrap(),
        std::slice::from_ref(&part)
    );
    assert_eq!(
        store.org_identity_checks("other").await.unwrap(),
        std::slice::from_ref(&other_part)
    );
    assert_eq!(
        store.all_identity_checks().await.unwrap(),
        [part, other_part]
    );
    let all = store.all_identities().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|r| (r.org_id.as_str(), r.id.as_str()))
            .collect::<Vec<_>>(),
        [("acme", "i1"), ("acme", "i2"), ("other", "i3")]
    );
}

async fn imports_write_many_rows_at_once(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    let identities: Vec<NewIdentity> = (0..50)
        .map(|i| new_identity(&format!("i{i}"), "acme", &format!("a{i}@acme.test")))
        .collect();
    store.insert_identities(&identities).await.unwrap();
    assert_eq!(store.list_identities("acme").await.unwrap().len(), 50);
    assert_eq!(
        store.identity_status_counts().await.unwrap(),
        [("PENDING".to_string(), "PENDING".to_string(), 50)]
    );
    assert_eq!(store.schedule_all_checks(1_000).await.unwrap(), 50);
    assert_eq!(
        store
            .claim_due_checks(1_000, 2_000, 100, "node-a")
            .await
            .unwrap()
            .len(),
        50
    );

    store.insert_dns_zone("acme.test", 1).await.unwrap();
    let records: Vec<DnsRecordRow> = (0..20)
        .map(|i| DnsRecordRow {
            id: format!("r{i}"),
            zone: "acme.test".into(),
            name: format!("h{i}.acme.test"),
            rtype: "A".into(),
            value: "192.0.2.1".into(),
            ttl: 60,
            created_at: 1,
        })
        .collect();
    store
        .insert_dns_records("acme.test", &records)
        .await
        .unwrap();
    assert_eq!(
        store.dns_records_in_zone("acme.test").await.unwrap().len(),
        20
    );
    assert_eq!(
        store.dns_zone("acme.test").await.unwrap().unwrap().serial,
        2,
        "one bump for the import"
    );
}

async fn send_settings_are_replaced_whole_and_follow_deleted_identities(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store
        .insert_identity(&new_identity("i1", "acme", "a@acme.test"))
        .await
        .unwrap();
    store
        .insert_identity(&new_identity("i2", "acme", "b@acme.test"))
        .await
        .unwrap();
    let choices = vec![
        ("booking".to_string(), "i1".to_string()),
        ("invitation".to_string(), "i2".to_string()),
    ];
    store
        .replace_send_settings("acme", &choices, 1)
        .await
        .unwrap();
    assert_eq!(store.send_settings("acme").await.unwrap(), choices);
    store
        .replace_send_settings("acme", &choices[..1], 2)
        .await
        .unwrap();
    assert_eq!(store.send_settings("acme").await.unwrap(), &choices[..1]);
    store.delete_identity("acme", "i1").await.unwrap();
    assert!(
        store.send_settings("acme").await.unwrap().is_empty(),
        "the choice goes with its identity"
    );
}

async fn the_newest_platform_key_comes_first(store: &Store) {
    let key = |selector: &str, at: i64| PlatformKeyRow {
        selector: selector.into(),
        domain: "absender.test".into(),
        algorithm: "rsa-sha256".into(),
        private_key_enc: vec![1, 2],
        public_key: "PUB".into(),
        created_at: at,
    };
    store.insert_platform_key(&key("old", 1)).await.unwrap();
    store.insert_platform_key(&key("new", 2)).await.unwrap();
    let keys = store.platform_keys("absender.test").await.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.selector.as_str()).collect::<Vec<_>>(),
        ["new", "old"]
    );
    assert_eq!(
        store
            .platform_key_by_selector("old")
            .await
            .unwrap()
            .unwrap()
            .created_at,
        1
    );
    assert!(store.platform_keys("other.test").await.unwrap().is_empty());

    // Three nodes starting at once each made a first key: one is kept.
    let firsts = ["n1", "n2", "n3"].map(|s| PlatformKeyRow {
        domain: "first.test".into(),
        ..key(s, 3)
    });
    let won = futures_join3(
        store.insert_first_platform_key(&firsts[0]),
        store.insert_first_platform_key(&firsts[1]),
        store.insert_first_platform_key(&firsts[2]),
    )
    .await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    assert_eq!(store.platform_keys("first.test").await.unwrap().len(), 1);
    // Later rotations add keys as before.
    store
        .insert_platform_key(&PlatformKeyRow {
            domain: "first.test".into(),
            ..key("n4", 4)
        })
        .await
        .unwrap();
    assert_eq!(store.platform_keys("first.test").await.unwrap().len(), 2);
}

/// Runs three claims side by side (on PostgreSQL each on its own connection).
async fn futures_join3(
    a: impl std::future::Future<Output = Result<bool, StoreError>>,
    b: impl std::future::Future<Output = Result<bool, StoreError>>,
    c: impl std::future::Future<Output = Result<bool, StoreError>>,
) -> [bool; 3] {
    let (a, b, c) = tokio::join!(a, b, c);
    [a.unwrap(), b.unwrap(), c.unwrap()]
}

fn queued(id: &str, recipients: &[&str], at: i64) -> NewMessage {
    let message = MessageRow {
        id: id.into(),
        org_id: "acme".into(),
        category: "booking".into(),
        from_address: "events@acme.test".into(),
        identity_id: None,
        fallback_reason: None,
        reply_to: None,
        envelope_from: format!("bounces+{id}@bounce.acme.test"),
        recipients: recipients.join(","),
        subject: "Hallo".into(),
        status: "queued".into(),
        created_at: at,
    };
    let deliveries = recipients
        .iter()
        .zip(0..)
        .map(|(r, rcpt_index)| DeliveryRow {
            message_id: id.into(),
            recipient: (*r).into(),
            org_id: "acme".into(),
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: at,
            lease_until: 0,
            last_reply: None,
            created_at: at,
            updated_at: at,
            rcpt_index,
            lease_owner: String::new(),
        })
        .collect();
    NewMessage {
        message,
        raw: Some(b"Subject: Hallo\r\n\r\nHi\r\n".to_vec()),
        deliveries,
        captured: None,
    }
}

async fn queued_deliveries_are_leased_once_finished_and_suppress_hard_bounces(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store
        .enqueue_messages(&[
            &queued("m1", &["a@x.test", "b@x.test"], 10),
            &queued("m2", &["c@x.test"], 20),
        ])
        .await
        .unwrap();
    assert_eq!(store.queued_count().await.unwrap(), 3);
    // What the 24-hour quota counts: recipients, and when the oldest was sent.
    assert_eq!(store.count_recipients_since("acme", 0).await.unwrap(), 3);
    assert_eq!(store.count_recipients_since("acme", 15).await.unwrap(), 1);
    assert_eq!(store.count_recipients_since("other", 0).await.unwrap(), 0);
    assert_eq!(
        store.oldest_message_since("acme", 15).await.unwrap(),
        Some(20)
    );
    assert_eq!(store.oldest_message_since("acme", 21).await.unwrap(), None);

    // Two due at 15 (m1's), leased until 100; a second claim gets nothing of them.
    let first = store
        .claim_due_deliveries(15, 100, 10, "node-a")
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|d| d.lease_until == 100));
    let second = store
        .claim_due_deliveries(50, 150, 10, "node-a")
        .await
        .unwrap();
    assert_eq!(
        second
            .iter()
            .map(|d| d.recipient.as_str())
            .collect::<Vec<_>>(),
        ["c@x.test"]
    );
    // A lease that ran out is taken up again, by another node.
    let again = store
        .claim_due_deliveries(120, 300, 10, "node-b")
        .await
        .unwrap();
    assert_eq!(again.len(), 2, "m1's leases expired at 100");
    assert!(again.iter().all(|d| d.lease_owner == "node-b"));

    let update = |recipient: &str, status: &str, suppress: Option<&str>| DeliveryUpdate {
        message_id: "m1".into(),
        recipient: recipient.into(),
        org_id: "acme".into(),
        status: status.into(),
        attempts: 1,
        next_attempt_at: 500,
        last_reply: Some("550 5.1.1 unknown".into()),
        suppress: suppress.map(String::from),
        delayed: false,
    };
    // The node that lost the lease writes nothing; the owner renews and writes.
    let late = [update("a@x.test", "delivered", None)];
    store
        .finish_deliveries(&late, 125, Some("node-a"))
        .await
        .unwrap();
    assert!(
        store
            .deliveries("m1")
            .await
            .unwrap()
            .iter()
            .all(|d| d.status == "queued")
    );
    let keys = [("m1".to_string(), "a@x.test".to_string())];
    assert_eq!(
        store
            .renew_delivery_leases(&keys, "node-a", 900)
            .await
            .unwrap(),
        []
    );
    assert_eq!(
        store
            .renew_delivery_leases(&keys, "node-b", 320)
            .await
            .unwrap(),
        keys
    );
    store
        .finish_deliveries(
            &[
                update("a@x.test", "delivered", None),
                update("b@x.test", "queued", None),
            ],
            130,
            Some("node-b"),
        )
        .await
        .unwrap();
    // b is deferred until 500: the bytes stay, nothing is due before then.
    assert!(
        store
            .queued_message("m1")
            .await
            .unwrap()
            .unwrap()
            .raw
            .is_some()
    );
    assert!(
        store
            .claim_due_deliveries(400, 600, 10, "node-a")
            .await
            .unwrap()
            .iter()
            .all(|d| d.message_id != "m1")
    );
    store
        .finish_deliveries(
            &[update("b@x.test", "bounced", Some("hard_bounce"))],
            140,
            Some("node-b"),
        )
        .await
        .unwrap();
    let m1 = store.deliveries("m1").await.unwrap();
    assert_eq!(
        m1.iter().map(|d| d.status.as_str()).collect::<Vec<_>>(),
        ["delivered", "bounced"]
    );
    let raw =
        |id: &'static str| async move { store.queued_message(id).await.unwrap().unwrap().raw };
    assert!(
        raw("m1").await.is_none(),
        "bytes dropped with the last result"
    );
    assert!(raw("m2").await.is_some(), "m2 still waits");
    let suppressed = store
        .suppressed_among("acme", &["b@x.test".into(), "a@x.test".into()])
        .await
        .unwrap();
    assert_eq!(suppressed.len(), 1);
    // Reputation: the owner's results are sends (the dropped one is not).
    let org = store.org("acme").await.unwrap().unwrap();
    assert_eq!((org.rep_sends, org.rep_bounces), (2, 1));
    // A bounce report about a delivered mail is a bounce but no new send;
    // the same report again changes nothing, nor does one about a delivery
    // that never left (m2's c@x.test waits in the queue).
    let report = update("a@x.test", "bounced", Some("hard_bounce"));
    let waiting = DeliveryUpdate {
        message_id: "m2".into(),
        ..update("c@x.test", "bounced", Some("hard_bounce"))
    };
    for _ in 0..2 {
        store
            .finish_deliveries(&[report.clone(), waiting.clone()], 145, None)
            .await
            .unwrap();
    }
    let org = store.org("acme").await.unwrap().unwrap();
    assert_eq!((org.rep_sends, org.rep_bounces), (2, 2));
    assert_eq!(store.deliveries("m2").await.unwrap()[0].status, "queued");

    // A complaint counts once per delivery, suppresses with its reason, and
    // never more complaints than sends are counted.
    let complaint = |recipient: &str| ComplaintRow {
        message_id: "m1".into(),
        recipient: recipient.into(),
        org_id: "acme".into(),
        feedback_type: "abuse".into(),
        user_agent: None,
        arrival_date: None,
        created_at: 146,
    };
    let event = |id: &str| NewWebhookEvent {
        id: id.into(),
        org_id: Some("acme".into()),
        event_type: "Complaint".into(),
        body: "{}".into(),
        created_at: 146,
    };
    let (b_row, c1) = (complaint("b@x.test"), event("c1"));
    assert!(
        store
            .record_complaint(&b_row, "b@x.test", &c1, true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_complaint(&b_row, "b@x.test", &c1, true)
            .await
            .unwrap()
    );
    for (n, recipient) in ["a@x.test", "x@x.test"].iter().enumerate() {
        let (row, e) = (complaint(recipient), event(&format!("c{n}x")));
        assert!(
            store
                .record_complaint(&row, recipient, &e, true)
                .await
                .unwrap()
        );
    }
    // An untrusted reporter's complaint suppresses but does not count.
    let (untrusted, e) = (complaint("y@x.test"), event("c9"));
    let recorded = store.record_complaint(&untrusted, "y@x.test", &e, false);
    assert!(recorded.await.unwrap());
    let org = store.org("acme").await.unwrap().unwrap();
    assert_eq!(org.rep_complaints, 2, "capped at the 2 sends");
    let y = store
        .suppressed_among("acme", &["y@x.test".into()])
        .await
        .unwrap();
    assert_eq!(y[0].reason, "complaint");
    let b = store
        .suppressed_among("acme", &["b@x.test".into()])
        .await
        .unwrap();
    assert_eq!(b[0].reason, "complaint");
    let listed = store.complaints_since("acme", 0, 10).await.unwrap();
    assert_eq!(listed.len(), 4);

    let changed = OrgRow {
        updated_at: 1,
        ..org.clone()
    };
    assert!(
        !store.pause_org(&changed, "stale", 150).await.unwrap(),
        "judged on an older row"
    );
    assert!(
        store
            .pause_org(&org, "bounce rate 100%", 150)
            .await
            .unwrap()
    );
    let paused = store.org("acme").await.unwrap().unwrap();
    assert!(
        !store.pause_org(&paused, "again", 151).await.unwrap(),
        "paused once"
    );
    assert_eq!(
        (paused.sending_enabled, paused.paused_reason.as_deref()),
        (false, Some("bounce rate 100%"))
    );
    let resume = OrgChanges {
        sending_enabled: Some((true, None)),
        ..OrgChanges::default()
    };
    let org = store
        .update_org("acme", &resume, 160)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            org.sending_enabled,
            org.paused_reason,
            org.rep_sends,
            org.rep_bounces,
            org.rep_complaints
        ),
        (true, None, 0, 0, 0)
    );
    assert_eq!(suppressed[0].reason, "hard_bounce");
    assert_eq!(
        store.release_delivery_leases().await.unwrap(),
        1,
        "m2's lease"
    );
}

async fn large_batches_are_stored_and_finished_row_by_row_correctly(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    // 21 messages, 42 deliveries: every chunk size of the multi-row statements.
    let ids: Vec<String> = (0..21).map(|n| format!("m{n:02}")).collect();
    let messages: Vec<NewMessage> = ids
        .iter()
        .map(|id| queued(id, &["a@x.test", "b@x.test"], 10))
        .collect();
    store
        .enqueue_messages(&messages.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(store.queued_count().await.unwrap(), 42);
    let claimed = store
        .claim_due_deliveries(15, 100, 100, "node-a")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 42);

    // Each row gets its own result: the reply names message and recipient.
    let updates: Vec<DeliveryUpdate> = claimed
        .iter()
        .map(|d| DeliveryUpdate {
            message_id: d.message_id.clone(),
            recipient: d.recipient.clone(),
            org_id: "acme".into(),
            status: if d.recipient == "a@x.test" {
                "delivered"
            } else {
                "queued"
            }
            .into(),
            attempts: 1,
            next_attempt_at: if d.recipient == "a@x.test" { 15 } else { 700 },
            last_reply: Some(format!("250 {} {}", d.message_id, d.recipient)),
            suppress: None,
            delayed: false,
        })
        .collect();
    store
        .finish_deliveries(&updates, 130, Some("node-a"))
        .await
        .unwrap();
    assert_eq!(store.queued_count().await.unwrap(), 21, "the b's wait");
    for id in &ids {
        let rows = store.deliveries(id).await.unwrap();
        assert_eq!(rows.len(), 2);
        for d in rows {
            assert_eq!(
                d.last_reply.as_deref(),
                Some(format!("250 {id} {}", d.recipient).as_str())
            );
            assert_eq!(d.lease_until, 0);
            assert_eq!(d.updated_at, 130);
            let expected = if d.recipient == "a@x.test" {
                ("delivered", 15)
            } else {
                ("queued", 700)
            };
            assert_eq!((d.status.as_str(), d.next_attempt_at), expected);
        }
        assert!(
            store
                .queued_message(id)
                .await
                .unwrap()
                .unwrap()
                .raw
                .is_some()
        );
    }
}

async fn ui_sessions_expire_and_sign_in_links_work_once(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store
        .insert_ui_session("h-org", Some("acme"), 10, 100)
        .await
        .unwrap();
    store
        .insert_ui_session("h-op", None, 10, 100)
        .await
        .unwrap();
    assert_eq!(
        store.ui_session("h-org", 50).await.unwrap(),
        Some(Some("acme".into()))
    );
    assert_eq!(store.ui_session("h-op", 50).await.unwrap(), Some(None));
    assert_eq!(
        store.ui_session("h-org", 100).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.ui_session("nope", 50).await.unwrap(), None);
    store.delete_ui_session("h-op", 50).await.unwrap();
    assert_eq!(store.ui_session("h-op", 50).await.unwrap(), None);

    store
        .insert_sign_in_link("l1", "acme", 10, 100)
        .await
        .unwrap();
    store
        .insert_sign_in_link("l2", "acme", 20, 30)
        .await
        .unwrap();
    assert_eq!(store.sign_in_links_since("acme", 0).await.unwrap(), 2);
    assert_eq!(store.sign_in_links_since("acme", 15).await.unwrap(), 1);
    assert_eq!(
        store.sign_in_link_org("l1", 50).await.unwrap().as_deref(),
        Some("acme")
    );
    assert_eq!(
        store.use_sign_in_link("l2", 50).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.use_sign_in_link("l1", 50).await.unwrap().as_deref(),
        Some("acme")
    );
    assert_eq!(
        store.use_sign_in_link("l1", 51).await.unwrap(),
        None,
        "used"
    );
    assert_eq!(store.sign_in_link_org("l1", 52).await.unwrap(), None);
    // The sweep drops expired sessions and old links, nothing else.
    store
        .insert_ui_session("h-new", Some("acme"), 60, 500)
        .await
        .unwrap();
    store.sweep_ui(200, 15).await.unwrap();
    assert_eq!(
        store.ui_session("h-new", 200).await.unwrap(),
        Some(Some("acme".into()))
    );
    assert_eq!(
        store.sign_in_links_since("acme", 0).await.unwrap(),
        1,
        "l1 (10) went, l2 (20) stays"
    );
    let contacts = store.orgs_by_contact("CONTACT@acme.test").await.unwrap();
    assert_eq!(contacts.len(), 1);
}

fn node(id: &str, at: i64) -> NodeRow {
    NodeRow {
        id: id.into(),
        listeners: format!(r#"{{"http":"127.0.0.1:{at}"}}"#),
        version: "0.1.0".into(),
        started_at: at,
        last_heartbeat_at: at,
        dead_at: None,
        stopped_at: None,
    }
}

async fn a_silent_node_is_declared_dead_once_and_its_work_freed_at_once(store: &Store) {
    store.insert_org(&new_org("acme")).await.unwrap();
    store
        .enqueue_messages(&[&queued("m1", &["a@x.test", "b@x.test"], 10)])
        .await
        .unwrap();
    store
        .insert_identity(&new_identity("i1", "acme", "a@acme.test"))
        .await
        .unwrap();
    store.schedule_check("i1", 5).await.unwrap();
    for id in ["node-a", "node-b", "node-c"] {
        store.register_node(&node(id, 100)).await.unwrap();
    }
    // node-a holds both deliveries and the check, with leases far ahead.
    let held = store
        .claim_due_deliveries(100, 1_000_000, 10, "node-a")
        .await
        .unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(
        store
            .claim_due_checks(100, 1_000_000, 10, "node-a")
            .await
            .unwrap()
            .len(),
        1
    );
    let listed = store.nodes(200).await.unwrap();
    assert_eq!(listed.len(), 3);
    let a = listed.iter().find(|n| n.node.id == "node-a").unwrap();
    assert_eq!((a.deliveries_held, a.checks_held), (2, 1));

    // node-b and node-c beat at 5,000; node-a does not.
    assert!(store.node_heartbeat("node-b", 5_000).await.unwrap());
    assert!(store.node_heartbeat("node-c", 5_000).await.unwrap());
    assert!(
        store
            .declare_dead_nodes("node-b", 5_000, 50)
            .await
            .unwrap()
            .is_empty(),
        "node-a beat at 100, after the cut-off"
    );
    // node-b and node-c look at once; one of them declares node-a dead.
    let (by_b, by_c) = tokio::join!(
        store.declare_dead_nodes("node-b", 5_100, 1_000),
        store.declare_dead_nodes("node-c", 5_100, 1_000),
    );
    let mut freed: Vec<FreedWork> = by_b.unwrap();
    freed.extend(by_c.unwrap());
    assert_eq!(
        freed,
        [FreedWork {
            node: "node-a".into(),
            deliveries: 2,
            checks: 1,
            webhook_deliveries: 0,
        }],
        "declared once, everything it held freed"
    );
    // Freed at once: another node takes them now, long before the leases end.
    let taken = store
        .claim_due_deliveries(5_200, 20_000, 10, "node-b")
        .await
        .unwrap();
    assert_eq!(taken.len(), 2);
    assert_eq!(
        store
            .claim_due_checks(5_200, 20_000, 10, "node-c")
            .await
            .unwrap()
            .len(),
        1
    );
    // node-a, back from its pause, learns that it is dead and takes nothing.
    assert!(!store.node_heartbeat("node-a", 5_300).await.unwrap());
    store
        .enqueue_messages(&[&queued("m2", &["c@x.test"], 10)])
        .await
        .unwrap();
    assert!(
        store
            .claim_due_deliveries(5_300, 30_000, 10, "node-a")
            .await
            .unwrap()
            .is_empty(),
        "a dead node claims nothing"
    );

    // node-c stops in good order: what it holds is freed, and nobody
    // declares it dead later.
    let stopped = store.stop_node("node-c", 6_000).await.unwrap();
    assert_eq!(stopped.checks, 1);
    assert!(
        !store
            .claim_check("i1", 6_000, 30_000, "node-a")
            .await
            .unwrap(),
        "a dead node checks nothing"
    );
    assert!(
        store
            .claim_due_deliveries(6_000, 30_000, 10, "node-c")
            .await
            .unwrap()
            .is_empty(),
        "a stopped node claims nothing"
    );
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let database = store.database_now_ms().await.unwrap();
    assert!((database - system).abs() < 60_000, "{database} vs {system}");
    assert!(
        store
            .claim_check("i1", 6_000, 30_000, "node-b")
            .await
            .unwrap()
    );
    assert!(!store.node_heartbeat("node-c", 6_100).await.unwrap());
    assert!(
        store
            .declare_dead_nodes("node-b", 100_000, 90_000)
            .await
            .unwrap()
            .is_empty()
    );
    let listed = store.nodes(6_200).await.unwrap();
    let state = |id: &str| {
        let n = &listed.iter().find(|n| n.node.id == id).unwrap().node;
        (n.dead_at, n.stopped_at)
    };
    assert_eq!(state("node-a"), (Some(5_100), None));
    assert_eq!(state("node-b"), (None, None));
    assert_eq!(state("node-c"), (None, Some(6_000)));
    let b = listed.iter().find(|n| n.node.id == "node-b").unwrap();
    assert_eq!((b.deliveries_held, b.checks_held), (2, 1));

    // Ended nodes are forgotten after a while; a live one stays.
    assert_eq!(store.sweep_nodes(7_000).await.unwrap(), 2);
    assert_eq!(store.nodes(7_000).await.unwrap().len(), 1);
}

async fn a_send_rate_bucket_gives_each_token_once_and_refills(store: &Store) {
    // 2 a second, 2 saved up at most.
    let take = |at: i64| store.take_send_token("acme", 2.0, 2.0, at);
    assert_eq!(take(1_000).await.unwrap(), None);
    assert_eq!(take(1_000).await.unwrap(), None);
    let (tokens, at) = take(1_000).await.unwrap().expect("empty");
    assert!(tokens < 1.0 && at == 1_000, "{tokens} at {at}");
    assert_eq!(
        take(1_500).await.unwrap(),
        None,
        "one back after half a second"
    );
    assert!(take(1_500).await.unwrap().is_some());
    // Ten seconds later it holds two, not twenty; takers at once get two.
    let (a, b, c, d) = tokio::join!(take(11_500), take(11_500), take(11_500), take(11_500));
    let takes = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    assert_eq!(takes.iter().filter(|t| t.is_none()).count(), 2, "{takes:?}");
    assert_eq!(
        store
            .take_send_token("other", 0.5, 1.0, 11_500)
            .await
            .unwrap(),
        None,
        "another organization has its own; a rate below one saves up one"
    );
    assert!(
        store
            .take_send_token("other", 0.5, 1.0, 12_000)
            .await
            .unwrap()
            .is_some()
    );
}
