//! Every fixture's plan, snapshot-tested, and planned again with its input order shuffled.

use image_registry_core::render::{self, Format};
use image_registry_core::{fixture, reconcile};
use image_registry_tests::{all_fixtures, documents, fixture_name, load, shuffle};
use serde_json::Value;

#[test]
fn there_are_fixtures() {
    // Guards the other tests against passing vacuously on an empty directory.
    assert!(all_fixtures().len() >= 9, "fixtures/ should hold the scenarios");
}

#[test]
fn plan_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/plans");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for path in all_fixtures() {
            let fixture = load(&path);
            let plan = reconcile(&fixture.observed);
            let yaml = render::render(&plan, Format::Yaml).unwrap();
            let name = fixture_name(&path).replace('/', "__");
            insta::assert_snapshot!(name, format!("# exit code {}\n{yaml}", plan.exit_code()));
        }
    });
}

#[test]
fn text_rendering_snapshot() {
    let path = image_registry_tests::fixtures_dir().join("aws-fresh.yaml");
    let plan = reconcile(&load(&path).observed);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/plans");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("aws-fresh.text", render::text(&plan)));
}

/// Shuffles the order of documents and of `List` items: the order a server or `kubectl`
/// returns objects in must never change a plan. (Lists inside an object, such as env vars or
/// conditions, are data whose order means something, so they are kept.)
#[test]
fn plans_do_not_depend_on_input_order() {
    for path in all_fixtures() {
        let name = fixture_name(&path);
        let expected = reconcile(&load(&path).observed);
        for seed in 1..=5u64 {
            let mut docs = documents(&path);
            shuffle(&mut docs, seed);
            for doc in &mut docs {
                if doc.value.get("kind").and_then(Value::as_str) == Some("List")
                    && let Some(Value::Array(items)) = doc.value.get_mut("items")
                {
                    shuffle(items, seed);
                }
            }
            let shuffled = fixture::assemble(&name, docs).unwrap();
            assert_eq!(reconcile(&shuffled.observed), expected, "{name} with shuffle seed {seed}");
        }
    }
}

#[test]
fn plans_are_deterministic_byte_for_byte() {
    for path in all_fixtures() {
        let observed = load(&path).observed;
        let a = render::render(&reconcile(&observed), Format::Json).unwrap();
        let b = render::render(&reconcile(&observed), Format::Json).unwrap();
        assert_eq!(a, b, "{}", fixture_name(&path));
    }
}

/// The tests see JSON objects as the shipped binary does: keys sorted. A dependency that turns
/// on serde_json's `preserve_order` (the AWS SDK's `test-util` features do) would change it for
/// every test of the workspace and not for the shipped binary.
#[test]
fn json_objects_keep_keys_sorted_as_in_the_shipped_binary() {
    let object = serde_json::json!({"zeta": 1, "alpha": 2});
    let keys: Vec<&String> = object.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["alpha", "zeta"], "serde_json's preserve_order is on in the test build");
}
