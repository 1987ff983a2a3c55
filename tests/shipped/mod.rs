//! The operator binary as shipped (default features: the real cloud clients, no test doubles;
//! `scripts/test` builds it apart and names it in `SHIPPED_OPERATOR`), run against the fake API
//! server over HTTP: starting it, its conditions, waiting with its log on failure, and the
//! operator's own API writes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_apiserver::{FakeApiServer, serve};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use crate::cluster::{USER, dynamic, object};

/// A cluster served over HTTP to the operator process.
pub struct Stand {
    /// The fake API server.
    pub fake: FakeApiServer,
    /// A kubeconfig for it.
    pub kubeconfig: PathBuf,
    /// The cluster's infrastructure name (its own, so its storage names are its own).
    pub infra: String,
}

/// The cluster of `fixture` with an infrastructure name of its own (`prefix-...`), and `config`
/// (the Config the user made before the operator started) when given.
pub async fn stand(fixture: &str, prefix: &str, config: Option<Value>) -> Stand {
    let fake = FakeApiServer::default();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(fixture);
    serve::load_fixture(&fake, &path).unwrap();
    let infra = crate::stand::unique(prefix);
    let infrastructures = dynamic(&fake, "config.openshift.io", "Infrastructure", "infrastructures", None);
    let status = json!({"status": {"infrastructureName": infra}});
    infrastructures.patch_status("cluster", &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
    if let Some(body) = config {
        let configs = dynamic(&fake, "imageregistry.operator.openshift.io", "Config", "configs", None);
        configs.create(&Default::default(), &serde_json::from_value(body).unwrap()).await.unwrap();
    }
    let address = serve::spawn(fake.clone()).await.unwrap();
    let kubeconfig = std::env::temp_dir().join(format!("{infra}.kubeconfig"));
    serve::write_kubeconfig(address, &kubeconfig).unwrap();
    Stand { fake, kubeconfig, infra }
}

/// The Config a user makes: Managed, one replica, `storage` as given.
pub fn users_config(storage: Value) -> Value {
    json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config",
        "metadata": {"name": "cluster"}, "spec": {"managementState": "Managed", "replicas": 1, "storage": storage}})
}

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

impl Operator {
    /// Waits up to `limit` for the process to end by itself: its exit status, if it did.
    pub async fn ended_within(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        None
    }
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
    run_with(binary, kubeconfig, resync, env, &[])
}

/// As [`run`], with more of `run`'s flags.
pub fn run_with(binary: &Path, kubeconfig: &Path, resync: u64, env: &[(&str, &str)], args: &[&str]) -> Operator {
    let log = kubeconfig.with_extension("log");
    let file = std::fs::File::create(&log).unwrap();
    let child = command(binary)
        .envs(env.iter().copied())
        .args(["run", "--kubeconfig"])
        .arg(kubeconfig)
        .args(["--metrics-address", "none", "--identity", "e2e", "--resync", &resync.to_string()])
        .args(args)
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

/// Stops the operator, then checks that none of `secrets` is in its log or in the statuses it
/// wrote (the Config's and the ClusterOperator's).
pub fn assert_secrets_kept(fake: &FakeApiServer, operator: Operator, secrets: &[&str]) {
    let log_path = operator.log.clone();
    drop(operator);
    let log = std::fs::read_to_string(log_path).unwrap();
    let status = |kind, name| object(fake, kind, name).map(|o| o["status"].to_string()).unwrap_or_default();
    let statuses = format!("{} {}", status("Config", "cluster"), status("ClusterOperator", "image-registry"));
    for secret in secrets {
        assert!(!log.contains(secret) && !statuses.contains(secret), "{secret} leaked");
    }
}

/// With the user's own storage in the Config: the registry becomes available with the storage
/// recorded `Unmanaged`, then Removed takes the registry away.
pub async fn users_storage_is_adopted_then_removed(fake: &FakeApiServer, operator: &Operator) {
    wait_for("the registry to be available", operator, Duration::from_secs(120), async || available(fake)).await;
    let config = object(fake, "Config", "cluster").unwrap();
    assert_eq!(config["spec"]["storage"]["managementState"], "Unmanaged", "{:#}", config["spec"]["storage"]);
    crate::cluster::set_management_state(fake, "Removed").await;
    wait_for("the registry to be removed", operator, Duration::from_secs(60), async || {
        object(fake, "Deployment", "image-registry").is_none()
    })
    .await;
}

/// A quiet minute at the fixpoint: no cloud call through `proxy` that changes something, at
/// most `budget` reads, no API write by the operator. Returns the calls made.
pub async fn quiet_minute(
    fake: &FakeApiServer,
    proxy: &crate::stand::Recorder,
    budget: usize,
) -> Vec<crate::stand::Logged> {
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (cloud_before, api_before) = (proxy.log().len(), operator_writes(fake).len());
    tokio::time::sleep(Duration::from_secs(60)).await;
    let idle: Vec<crate::stand::Logged> = proxy.log()[cloud_before..].to_vec();
    assert_eq!(crate::stand::mutations(&idle), Vec::<String>::new(), "cloud mutations at the fixpoint");
    assert!(idle.len() <= budget, "{} reads in a quiet minute, budget {budget}: {idle:?}", idle.len());
    assert_eq!(operator_writes(fake)[api_before..].to_vec(), Vec::<String>::new(), "API writes at the fixpoint");
    idle
}
