//! The operator binary as shipped (default features: the real cloud clients, no test doubles;
//! `scripts/test` builds it apart and names it in `SHIPPED_OPERATOR`), run against the fake API
//! server over HTTP: starting it, its conditions, waiting with its log on failure, and the
//! operator's own API writes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_apiserver::FakeApiServer;
use serde_json::{Value, json};

use crate::cluster::{USER, object};

/// The shipped binary, or `None` (with a notice) when the test command did not build it.
pub fn shipped() -> Option<PathBuf> {
    match std::env::var("SHIPPED_OPERATOR") {
        Ok(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            assert!(
                std::env::var("IMAGE_REGISTRY_EMULATORS").as_deref() != Ok("required"),
                "the test command asked for the end-to-end stand but SHIPPED_OPERATOR is not set"
            );
            eprintln!("SHIPPED_OPERATOR is not set (run scripts/test): skipping");
            None
        }
    }
}

/// The operator process; killed when dropped, its log kept beside the kubeconfig.
pub struct Operator {
    child: Child,
    /// Where its log is.
    pub log: PathBuf,
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shipped binary with the operator's environment, and none of the caller's proxy,
/// kubeconfig or emulator settings.
pub fn command(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    let callers = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "KUBECONFIG"];
    for var in callers.into_iter().chain(["STORAGE_EMULATOR_HOST"]) {
        command.env_remove(var);
    }
    command
        .env("RELEASE_VERSION", "4.20.0")
        .env("IMAGE", "quay.io/openshift/origin-docker-registry:4.20")
        .env("IMAGE_PRUNER", "quay.io/openshift/origin-cli:4.20")
        .env("OPERATOR_IMAGE", "quay.io/openshift/origin-cluster-image-registry-operator:4.20");
    command
}

/// The operator's `run` against the cluster at `kubeconfig`, with `env` added; its log is kept
/// beside the kubeconfig.
pub fn run(binary: &Path, kubeconfig: &Path, resync: u64, env: &[(&str, &str)]) -> Operator {
    let log = kubeconfig.with_extension("log");
    let file = std::fs::File::create(&log).unwrap();
    let child = command(binary)
        .envs(env.iter().copied())
        .args(["run", "--kubeconfig"])
        .arg(kubeconfig)
        .args(["--metrics-address", "none", "--identity", "e2e", "--resync", &resync.to_string()])
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap();
    Operator { child, log }
}

pub fn condition(fake: &FakeApiServer, kind: &str, type_: &str) -> Option<Value> {
    let name = if kind == "ClusterOperator" { "image-registry" } else { "cluster" };
    object(fake, kind, name)?["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == type_).cloned()
}

pub fn available(fake: &FakeApiServer) -> bool {
    let status = |kind, type_| condition(fake, kind, type_).map(|c| c["status"].clone());
    status("Config", "Available") == Some(json!("True"))
        && status("ClusterOperator", "Available") == Some(json!("True"))
}

pub async fn wait_for(what: &str, operator: &Operator, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        if started.elapsed() > limit {
            let log = std::fs::read_to_string(&operator.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            panic!("timed out after {limit:?} waiting for {what}; the operator's last log lines:\n{}", tail.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn operator_writes(fake: &FakeApiServer) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|e| e.write && !e.path.contains("/leases") && e.manager != USER)
        .map(|e| format!("{} {} -> {}", e.verb, e.path, e.code))
        .collect()
}
