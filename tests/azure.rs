//! The shipped Azure clients: the blob container calls against azurite, signed with the
//! account key by the project's Shared Key policy (the official blob crate signs only with
//! tokens), and refused with a wrong key.

mod stand;

use image_registry_core::outcome::ErrorClass;
use image_registry_operator::cloud::azure::blob::{BlobAuth, Containers};
use image_registry_operator::cloud::calls::CallCounter;

/// azurite's well-known development account and key (public, in every Azure emulator doc).
const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn containers(endpoint: &str, key: &str) -> Containers {
    let http = image_registry_operator::cloud::http::client(
        image_registry_operator::cloud::http::roots(None, "Azure").unwrap(),
        "Azure",
    )
    .unwrap();
    Containers::new(
        ACCOUNT,
        &format!("{endpoint}/{ACCOUNT}"),
        BlobAuth::Key(key.to_owned()),
        http,
        CallCounter::default(),
    )
}

#[tokio::test]
async fn containers_are_created_found_and_deleted_with_the_account_key() {
    let Some(endpoint) = stand::azurite() else { return };
    let blob = containers(&endpoint, KEY);
    let name = stand::unique("registry").to_lowercase().replace('_', "-");
    let name: String = name.chars().take(63).collect();
    assert!(!blob.exists(&name).await.unwrap());
    blob.create(&name).await.unwrap();
    assert!(blob.exists(&name).await.unwrap());
    blob.create(&name).await.expect("creating an existing container is done");
    blob.delete(&name).await.unwrap();
    assert!(!blob.exists(&name).await.unwrap());
    blob.delete(&name).await.expect("deleting a deleted container is done");
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_named() {
    let Some(endpoint) = stand::azurite() else { return };
    let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
    let err = containers(&endpoint, wrong).exists("registry").await.unwrap_err();
    assert_eq!((err.status, err.class), (Some(403), ErrorClass::Forbidden), "{err:?}");
    assert!(err.message.starts_with("GetContainerProperties: "), "{}", err.message);
    assert!(!err.message.contains(wrong));
}
