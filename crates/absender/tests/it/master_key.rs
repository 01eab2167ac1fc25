//! DKIM private keys are sealed under the configured or generated master key.

use crate::helpers::{spawn_app, spawn_with};
use absender::config::Config;
use absender_service::MasterKey;

#[tokio::test]
async fn keys_are_sealed_under_the_configured_master_key() {
    let master = MasterKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        master_key: Some(master.to_base64().into()),
        ..Config::default()
    };
    let app = spawn_with(config, Some(dir)).await;
    let org = app.upgraded_org("Acme", "en").await;
    app.request_identity(&org, "events@acme.test", "recipients")
        .await;
    let keys = app
        .app()
        .store()
        .dkim_keys(&org.id, "acme.test")
        .await
        .unwrap();
    assert_eq!(keys.len(), 3);
    for key in keys {
        let der = master
            .open(&key.selector, &key.private_key_enc)
            .expect("opens with the configured key");
        assert!(der.len() > 1000, "an RSA-2048 PKCS#8 key");
        assert!(
            MasterKey::generate()
                .open(&key.selector, &key.private_key_enc)
                .is_err()
        );
    }
    assert!(
        !app.config.data_dir.join("master.key").exists(),
        "no key file when one is configured"
    );
}

#[tokio::test]
async fn a_generated_master_key_is_kept_in_the_data_dir_for_the_owner_only() {
    let app = spawn_app().await;
    let path = app.config.data_dir.join("master.key");
    let key = MasterKey::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let org = app.upgraded_org("Acme", "en").await;
    app.request_identity(&org, "events@acme.test", "recipients")
        .await;
    let sealed = &app
        .app()
        .store()
        .dkim_keys(&org.id, "acme.test")
        .await
        .unwrap()[0];
    assert!(key.open(&sealed.selector, &sealed.private_key_enc).is_ok());
}
