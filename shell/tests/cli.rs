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
    assert!(text.starts_with("Plan: 14 to create, 1 to change, 0 to delete (0 cloud)."), "{text}");
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
    let plan = image_registry_core::reconcile(&fixture.observed);
    let secret = plan
        .steps
        .iter()
        .find_map(|step| match &step.action {
            image_registry_core::Action::Kube(action) => {
                action.payload()?.expose().pointer("/spec/httpSecret")?.as_str().map(str::to_owned)
            }
            image_registry_core::Action::Cloud(_) => None,
        })
        .expect("a fresh cluster's plan generates the httpSecret");
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
    assert!(stderr(&out).contains("--observed <FILE>"), "{}", stderr(&out));
    let out = run(&["help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Usage: cluster-image-registry-operator"));
}

#[test]
fn converged_cluster_plans_nothing_now_and_ten_minutes_later() {
    let out = run(&["plan", "--observed", "fixtures/aws-converged.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let fixture = std::fs::read_to_string(root().join("fixtures/aws-converged.yaml")).unwrap();
    let now: jiff::Timestamp =
        fixture.lines().find_map(|l| l.strip_prefix("now: ")).unwrap().trim_matches('\'').parse().unwrap();
    let later = (now + jiff::SignedDuration::from_secs(600)).to_string();
    let out = run(&["plan", "--observed", "fixtures/aws-converged.yaml", "--now", &later]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("No changes."));
}

#[test]
fn aws_fresh_creates_the_cluster_operator_pruner_and_cronjob() {
    // The first pass bootstraps the Config, creates the ClusterOperator and the ImagePruner, and
    // plans the pruner's CronJob from the ImagePruner it creates.
    let first = stdout(&run(&["plan", "--observed", "fixtures/aws-fresh.yaml"]));
    for line in [
        "+ create ClusterOperator.config.openshift.io image-registry",
        "+ create CronJob.batch openshift-image-registry/image-pruner",
        "+ create ImagePruner.imageregistry.operator.openshift.io cluster",
    ] {
        assert!(first.contains(line), "missing {line}:\n{first}");
    }
    let pruner = first.find("create ImagePruner").unwrap();
    assert!(pruner < first.find("create CronJob").unwrap(), "the ImagePruner is created before its CronJob");
}

#[cfg(feature = "fake-cloud")]
#[test]
fn simulate_reports_convergence_and_exit_codes() {
    let out = run(&["simulate", "--observed", "fixtures/aws-fresh.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    let last = stdout(&out).lines().last().unwrap().to_owned();
    assert!(last.starts_with("converged in 4 passes: "), "{last}");
    assert!(last.ends_with(" writes, 5 cloud mutations"), "{last}");
    let out = run(&["simulate", "--observed", "fixtures/aws-fresh.yaml", "--max-passes", "2"]);
    assert_eq!(out.status.code(), Some(3), "not converged within the bound");
    assert!(stdout(&out).lines().last().unwrap().starts_with("not converged after 2 passes"));
    let out = run(&["simulate", "--observed", "fixtures/infrastructure-missing-platformstatus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let out =
        run(&["simulate", "--observed", "fixtures/aws-fresh.yaml", "--faults", "unavailable:S3*2,conflict:Deployment"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("failed (Unavailable): injected Unavailable"));
    let out = run(&["simulate", "--observed", "fixtures/aws-fresh.yaml", "--faults", "explode"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown error class"));
}

#[cfg(feature = "fake-cloud")]
#[test]
fn simulate_writes_the_final_state_as_a_fixture() {
    let dir = std::env::temp_dir().join(format!("cli-final-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("final.yaml");
    let out = run(&["simulate", "--observed", "fixtures/ovirt-fresh.yaml", "--write-final", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["plan", "--observed", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "the final state plans nothing: {}", stdout(&out));
    std::fs::remove_dir_all(dir).ok();
}
