//! The `cluster-image-registry-operator` binary, run as a user would run it.

// Helpers outside `#[test]` functions fail the test by panicking, as tests do.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cluster-image-registry-operator"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn aws_fresh_json_creates_the_config_with_s3_and_two_replicas() {
    let out = run(&["plan", "--observed", "fixtures/aws-fresh.yaml", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let actions = plan["actions"].as_array().unwrap();
    let config = actions
        .iter()
        .find(|a| a["describe"] == "create Config.imageregistry.operator.openshift.io cluster")
        .expect("a create of Config cluster");
    let spec = &config["action"]["object"]["spec"];
    // The deterministic bucket name is persisted at bootstrap (docs/differences.md).
    assert_eq!(
        spec["storage"]["s3"],
        serde_json::json!({"bucket": "mycluster-x7k2p-image-registry-us-east-1", "trustedCA": {"name": ""}, "virtualHostedStyle": false})
    );
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["managementState"], "Managed");
    assert_eq!(spec["httpSecret"], "<redacted>");
    assert_eq!(
        config["action"]["object"]["metadata"]["finalizers"],
        serde_json::json!(["imageregistry.operator.openshift.io/finalizer"])
    );
    assert!(actions.iter().all(|a| a["describe"].is_string() && a["reason"].is_string()));
}

#[test]
fn baremetal_bootstraps_removed() {
    let out = run(&["plan", "--observed", "fixtures/baremetal-fresh.yaml", "--output", "yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("managementState: Removed"), "{text}");
}

#[test]
fn missing_platform_status_exits_1_naming_the_field() {
    let out = run(&["plan", "--observed", "fixtures/infrastructure-missing-platformstatus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("status.platformStatus"), "{}", stdout(&out));
}

#[test]
fn text_output_reads_like_a_terraform_plan() {
    let out = run(&["plan", "--observed", "fixtures/ovirt-fresh.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.starts_with("Plan: 7 to create, 0 to change, 0 to delete (0 cloud)."), "{text}");
    assert!(text.contains("\n  + create PersistentVolumeClaim openshift-image-registry/image-registry-storage\n"));
    assert!(text.contains("storageClassName = \"ovirt-csi-sc\""));
}

#[test]
fn now_override_is_accepted_and_a_bad_one_is_rejected() {
    let out = run(&["plan", "--observed", "fixtures/aws-fresh.yaml", "--now", "2026-01-01T00:10:00Z"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["plan", "--observed", "fixtures/aws-fresh.yaml", "--now", "ten minutes later"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--now"));
}

#[test]
fn bad_fixture_names_file_document_and_field() {
    let dir = std::env::temp_dir().join(format!("cli-bad-fixture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: fixtures/v1\nkind: Scenario\nnow: 2026-01-01T00:00:00Z\nseed: x\n---\n\
         apiVersion: config.openshift.io/v1\nkind: Infrastructure\nmetadata:\n  name: cluster\n\
         status:\n  infrastructureTopology: [1, 2]\n",
    )
    .unwrap();
    let out = run(&["plan", "--observed", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.yaml: document 2 (line 6): field status.infrastructureTopology:"), "{err}");
    let out = run(&["plan", "--observed", "fixtures/does-not-exist.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read fixtures/does-not-exist.yaml"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn no_secret_reaches_any_output() {
    // The seed drives the generated httpSecret; neither may appear in any rendering.
    let fixture = image_registry_core::fixture::parse(
        "aws-fresh",
        &std::fs::read_to_string(root().join("fixtures/aws-fresh.yaml")).unwrap(),
    )
    .unwrap();
    let secret = image_registry_core::seed::http_secret(&fixture.observed.seed);
    for format in ["text", "yaml", "json"] {
        let out = run(&["plan", "--observed", "fixtures/aws-fresh.yaml", "--output", format]);
        assert!(!stdout(&out).contains(&secret), "{format} output leaks the httpSecret");
        assert!(!stdout(&out).contains(&secret[..16]), "{format} output leaks part of the httpSecret");
    }
}

#[test]
fn usage_errors_exit_1() {
    let out = run(&["plan"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("plan needs --observed FILE"));
    let out = run(&["help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Usage: cluster-image-registry-operator"));
}
