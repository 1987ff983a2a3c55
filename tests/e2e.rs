//! End to end: the real operator loop (`live::run`: lease, watches, passes, execution) against
//! the fake API server and the modelled clouds. Convergence from a fresh AWS cluster, silence
//! at the fixpoint while watches relist and unrelated objects change, convergence through
//! injected API errors without a second bucket, the finalizer path on deletion, and leader
//! election handing over when one instance stops.

use crate::cluster;

use image_registry_core::storage::s3;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster::{NS, dynamic, object, set_management_state};
use fake_apiserver::{FakeApiServer, Fault, serve};
use image_registry_core::action::CloudAction;
use image_registry_core::observed::OperatorEnv;
use image_registry_operator::cloud::FakeCloud;
use image_registry_operator::controller::LoopSettings;
use image_registry_operator::lease::LeaseSettings;
use image_registry_operator::live::{self, Ended, RunSettings};
use image_registry_operator::metrics::Metrics;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Stand {
    fake: FakeApiServer,
    cloud: Arc<FakeCloud>,
}

fn stand(fixture: &str) -> Stand {
    let fake = FakeApiServer::default();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(fixture);
    serve::load_fixture(&fake, &path).unwrap();
    Stand { fake, cloud: Arc::new(FakeCloud::new(Default::default())) }
}

/// A stand loaded with a fixture's objects and starting with the clouds its scenario states.
fn stand_of(path: &std::path::Path) -> Stand {
    let fake = FakeApiServer::default();
    serve::load_fixture(&fake, path).unwrap_or_else(|e| panic!("{e}"));
    let clouds = image_registry_tests::load(path).observed.cloud;
    Stand { fake, cloud: Arc::new(FakeCloud::new(clouds)) }
}

fn operator_env() -> OperatorEnv {
    OperatorEnv {
        release_version: "4.20.0".into(),
        image: "quay.io/openshift/origin-docker-registry:4.20".into(),
        image_pruner: "quay.io/openshift/origin-cli:4.20".into(),
        operator_image: "quay.io/openshift/origin-cluster-image-registry-operator:4.20".into(),
    }
}

struct Running {
    task: JoinHandle<Result<Ended, String>>,
    stop: oneshot::Sender<()>,
    metrics: Arc<Metrics>,
}

/// The tests' settings: a 3-second lease and a 2-second resync.
fn settings(identity: &str) -> RunSettings {
    let mut lease = LeaseSettings::reference(identity.to_owned());
    lease.lease_duration = Duration::from_secs(3);
    lease.renew_deadline = Duration::from_secs(2);
    lease.retry_period = Duration::from_millis(200);
    RunSettings {
        metrics_address: None,
        tls: None,
        lease,
        looping: LoopSettings {
            resync: Duration::from_secs(2),
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
        },
        operator: operator_env(),
    }
}

fn start(stand: &Stand, identity: &str) -> Running {
    start_with(stand, kube::Client::new(stand.fake.clone(), NS), settings(identity))
}

fn start_with(stand: &Stand, client: kube::Client, settings: RunSettings) -> Running {
    let metrics = Arc::new(Metrics::new());
    let (stop, stopped) = oneshot::channel();
    let cloud: Arc<dyn image_registry_operator::cloud::CloudApi> = stand.cloud.clone();
    let task = tokio::spawn(live::run(client, cloud, settings, metrics.clone(), async move {
        let _ = stopped.await;
    }));
    Running { task, stop, metrics }
}

impl Running {
    async fn stop(self) -> Ended {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap()
    }
}

fn condition(fake: &FakeApiServer, kind: &str, type_: &str) -> Option<String> {
    let object = object(fake, kind, if kind == "ClusterOperator" { "image-registry" } else { "cluster" })?;
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["status"].as_str().map(str::to_owned))
}

fn available(fake: &FakeApiServer) -> bool {
    condition(fake, "Config", "Available").as_deref() == Some("True")
        && condition(fake, "Config", "Degraded").as_deref() == Some("False")
        && condition(fake, "ClusterOperator", "Available").as_deref() == Some("True")
        && object(fake, "Deployment", "image-registry").is_some()
        && object(fake, "Service", "image-registry").is_some()
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The operator's writes: everything but leader election's lease heartbeats and the test's own.
fn operator_writes(fake: &FakeApiServer) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|e| e.write && !e.path.contains("/leases") && e.manager != "someone-else")
        .map(|e| format!("{} {} {} -> {}", e.verb, e.path, e.query, e.code))
        .collect()
}

fn bucket_creations(cloud: &FakeCloud) -> usize {
    cloud.calls().iter().filter(|c| matches!(c, CloudAction::S3(s3::call::Call::CreateBucket { .. }))).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_from_aws_fresh_then_writes_nothing_while_idle() {
    let stand = stand("aws-fresh.yaml");
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    assert_eq!(bucket_creations(&stand.cloud), 1);
    // Let the last passes settle, then listen for 30 seconds while watches relist and objects
    // the operator watches but does not own change.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = operator_writes(&stand.fake);
    let requests_before = stand.fake.requests().len();
    let other = dynamic(&stand.fake, "", "ConfigMap", "configmaps", Some("openshift-config"));
    let started = Instant::now();
    let mut round = 0;
    while started.elapsed() < Duration::from_secs(30) {
        round += 1;
        stand.fake.close_watches();
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated", "namespace": "openshift-config"}, "data": {"round": round.to_string()}});
        other.patch("unrelated", &PatchParams::apply("someone-else"), &Patch::Apply(&body)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let after = operator_writes(&stand.fake);
    assert_eq!(after[before.len()..].to_vec(), Vec::<String>::new(), "writes at the fixpoint");
    // Lease renewals cost one request each: an update guarded by the resourceVersion held.
    let lease: Vec<String> = stand.fake.requests()[requests_before..]
        .iter()
        .filter(|e| e.path.contains("/leases/"))
        .map(|e| format!("{} {}", e.verb, e.code))
        .collect();
    assert!(lease.len() >= 30, "{} renewals in 30 s", lease.len());
    assert!(lease.iter().all(|r| r == "update 200"), "{lease:?}");
    let exists = object(&stand.fake, "Config", "cluster").unwrap()["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "StorageExists")
        .unwrap()
        .clone();
    assert_eq!(exists["reason"], "S3 Bucket Exists", "re-checked every pass: {exists}");
    // One rollout: the Deployment is written once, and stays at generation 1.
    let deployment_writes: Vec<&String> = after.iter().filter(|w| w.contains("/deployments/image-registry ")).collect();
    assert_eq!(deployment_writes.len(), 1, "{deployment_writes:?}");
    assert_eq!(object(&stand.fake, "Deployment", "image-registry").unwrap()["metadata"]["generation"], 1);
    assert!(operator.metrics.sample("image_registry_operator_reconcile_passes_total").is_some_and(|n| n >= 3.0));
    // The install's Events, as the reference records them (and the bucket); none while idle
    // (the writes above include Events).
    let events: Vec<Value> =
        stand.fake.with_store(|s| s.dump()).into_iter().filter(|o| o["apiVersion"] == "events.k8s.io/v1").collect();
    let mut reasons: Vec<&str> = events.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    reasons.sort_unstable();
    assert_eq!(
        reasons,
        [
            "DaemonSetCreated",
            "DeploymentCreated",
            "LeaderElection",
            "NetworkPolicyCreated",
            "NetworkPolicyCreated",
            "ObserveTLSSecurityProfile",
            "ObserveTLSSecurityProfile",
            "StorageCreated"
        ]
    );
    let related: Vec<&str> = events.iter().filter_map(|e| e["related"]["name"].as_str()).collect();
    assert!(related.contains(&"image-registry") && related.contains(&"node-ca"), "{related:?}");
    assert!(events.iter().all(|e| e["reportingController"] == "image-registry-operator"
        && e["metadata"]["namespace"] == NS
        && e["regarding"]["name"] == "cluster-image-registry-operator"));
    assert_eq!(operator.stop().await, Ended::Shutdown);
    assert_eq!(bucket_creations(&stand.cloud), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_through_api_errors_on_every_write_kind_without_duplicates() {
    let stand = stand("aws-fresh.yaml");
    let fault = |verb: &str, resource: Option<&str>, code, count| Fault {
        verb: Some(verb.into()),
        resource: resource.map(Into::into),
        name: None,
        code,
        count,
        delay_ms: 0,
    };
    for verb in ["create", "apply", "patch", "update", "delete"] {
        for code in [409, 429, 500, 503] {
            stand.fake.inject(fault(verb, None, code, 1));
        }
    }
    // The status subresource and the Config itself fail too.
    stand.fake.inject(fault("apply", Some("configs/status"), 503, 2));
    stand.fake.inject(fault("get", Some("configs"), 500, 2));
    let operator = start(&stand, "a");
    wait_for("the registry to be available despite the faults", Duration::from_secs(90), || available(&stand.fake))
        .await;
    let log = stand.fake.requests();
    assert!(log.iter().any(|e| e.code >= 400 && e.write), "faults were hit");
    assert_eq!(bucket_creations(&stand.cloud), 1, "exactly one bucket");
    assert_eq!(stand.cloud.facts().s3.len(), 1);
    let created: Vec<String> =
        log.iter().filter(|e| e.verb == "create" && e.code == 201).map(|e| e.path.clone()).collect();
    let configs = created.iter().filter(|p| p.ends_with("/configs")).count();
    assert_eq!(configs, 1, "one Config created: {created:?}");
    assert_eq!(operator.stop().await, Ended::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_config_removes_the_registry_and_its_managed_bucket_then_the_finalizer() {
    let stand = stand("aws-fresh.yaml");
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    let configs = dynamic(&stand.fake, "imageregistry.operator.openshift.io", "Config", "configs", None);
    let uid = configs.get("cluster").await.unwrap().metadata.uid.unwrap();
    configs.delete("cluster", &DeleteParams::default()).await.unwrap();
    wait_for("the finalizer to let the Config go", Duration::from_secs(60), || {
        object(&stand.fake, "Config", "cluster").is_none_or(|c| c["metadata"]["uid"] != uid.as_str())
    })
    .await;
    let calls = stand.cloud.calls();
    assert!(calls.iter().any(|c| matches!(c, CloudAction::S3(s3::call::Call::DeleteBucket { .. }))), "{calls:?}");
    let log = stand.fake.requests();
    let deployment_deleted =
        log.iter().any(|e| e.verb == "delete" && e.path.ends_with("/deployments/image-registry") && e.code == 200);
    assert!(deployment_deleted);
    let finalizer_removed =
        log.iter().any(|e| e.verb == "patch" && e.path.ends_with("/configs/cluster") && e.code == 200);
    assert!(finalizer_removed);
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_election_hands_over_when_the_leader_stops() {
    let stand = stand("aws-fresh.yaml");
    let first = start(&stand, "first");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    let second = start(&stand, "second");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(second.metrics.sample("image_registry_operator_leader"), Some(0.0), "the second waits");
    assert_eq!(first.stop().await, Ended::Shutdown);
    wait_for("the second instance to lead", Duration::from_secs(10), || {
        second.metrics.sample("image_registry_operator_leader") == Some(1.0)
    })
    .await;
    let lease = object(&stand.fake, "Lease", "openshift-master-controllers").unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "second", "{lease:#}");
    // The new leader finds nothing to do. Counted from its first finished pass: its leadership
    // Event is written after the metric says it leads, and on a busy machine that is later.
    wait_for("the second instance's first pass", Duration::from_secs(10), || {
        second.metrics.sample("image_registry_operator_reconcile_passes_total").is_some_and(|n| n >= 1.0)
    })
    .await;
    let before = operator_writes(&stand.fake).len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = operator_writes(&stand.fake);
    assert_eq!(after.len(), before, "{:#?}", after.get(before..));
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_dry_run_only_reads() {
    let stand = stand("aws-fresh.yaml");
    let client = kube::Client::new(stand.fake.clone(), NS);
    let plan = live::dry_run(
        &client,
        &image_registry_operator::cloud::Clouds::new(Duration::ZERO, Default::default()).unwrap(),
        operator_env(),
        None,
    )
    .await
    .unwrap();
    assert!(
        plan.steps.iter().any(|s| s.action.describe() == "create Config.imageregistry.operator.openshift.io cluster")
    );
    let log = stand.fake.requests();
    assert!(!log.is_empty());
    assert!(log.iter().all(|e| !e.write && matches!(e.verb.as_str(), "get" | "list")), "{log:?}");
    // Against a converged cluster the dry-run plans nothing.
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    operator.stop().await;
    stand.fake.clear_requests();
    let cloud = stand.cloud.clone();
    let plan = live::dry_run(&client, cloud.as_ref(), operator_env(), None).await.unwrap();
    let steps: Vec<String> = plan.steps.iter().map(|s| s.action.describe()).collect();
    assert_eq!(steps, Vec::<String>::new());
    assert!(stand.fake.requests().iter().all(|e| !e.write));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_that_loses_the_lease_stops() {
    let stand = stand("aws-fresh.yaml");
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    // Another instance takes the lease (as after a network partition healed the other way).
    let leases = dynamic(&stand.fake, "coordination.k8s.io", "Lease", "leases", Some(NS));
    let mut lease = leases.get("openshift-master-controllers").await.unwrap();
    lease.data["spec"]["holderIdentity"] = json!("intruder");
    lease.data["spec"]["renewTime"] = json!(jiff::Timestamp::now().to_string());
    leases.replace("openshift-master-controllers", &Default::default(), &lease).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), operator.task).await.unwrap().unwrap().unwrap();
    assert_eq!(ended, Ended::LostLease);
    assert_eq!(operator.metrics.sample("image_registry_operator_leader"), Some(0.0));
}

/// Operator writes answered with an error, as `verb path -> code`.
fn rejected_writes(fake: &FakeApiServer) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|e| e.write && e.code >= 400 && e.manager != "someone-else")
        .map(|e| format!("{} {} -> {}", e.verb, e.path, e.code))
        .collect()
}

/// Waits until the operator has written nothing (lease aside) for `quiet`, longer than the
/// test loop's resync, so at least one full pass found nothing to do; returns its writes.
async fn settle(fake: &FakeApiServer, what: &str, limit: Duration, quiet: Duration) -> usize {
    let started = Instant::now();
    let first = operator_writes(fake).len();
    let mut count = first;
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = operator_writes(fake).len();
        if now != count {
            count = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return count - first;
        }
        assert!(started.elapsed() < limit, "no fixpoint after {limit:?}: {what}");
    }
}

/// The reproduction of the Removed hot loop: a converged AWS cluster set to Removed reaches
/// `Removed=True`, its bucket gone, and then writes nothing; no write is rejected on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_is_reached_and_then_nothing_is_written() {
    let stand = stand("aws-fresh.yaml");
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    settle(&stand.fake, "Managed", Duration::from_secs(30), Duration::from_secs(3)).await;
    set_management_state(&stand.fake, "Removed").await;
    wait_for("Removed=True", Duration::from_secs(30), || {
        condition(&stand.fake, "Config", "Removed").as_deref() == Some("True")
    })
    .await;
    let writes = settle(&stand.fake, "Removed", Duration::from_secs(30), Duration::from_secs(3)).await;
    assert!(writes < 40, "{writes} writes to reach Removed");
    let before = operator_writes(&stand.fake).len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(operator_writes(&stand.fake)[before..].to_vec(), Vec::<String>::new(), "writes after Removed");
    assert!(stand.cloud.calls().iter().any(|c| matches!(c, CloudAction::S3(s3::call::Call::DeleteBucket { .. }))));
    let config = object(&stand.fake, "Config", "cluster").unwrap();
    assert_eq!(config["status"]["storage"], json!({}), "{:#}", config["status"]);
    assert_eq!(rejected_writes(&stand.fake), Vec::<String>::new());
    operator.stop().await;
}

/// Writes the operator sent that the server rejected as invalid (422): a real API server would
/// have rejected them too, and nothing the operator does should ever be invalid.
fn invalid_writes(fake: &FakeApiServer) -> Vec<String> {
    rejected_writes(fake).into_iter().filter(|w| w.ends_with("-> 422")).collect()
}

/// Convergence on the fake API server, not only in `simulate`: for every fixture, Managed →
/// fixpoint → Removed → fixpoint → Managed → fixpoint → Config deleted → fixpoint, each step
/// within a bounded number of writes, then silent (no write for longer than a resync), and no
/// write the server finds invalid on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_reaches_a_quiet_fixpoint_through_the_lifecycle_on_the_fake() {
    const WRITES_PER_STEP: usize = 80;
    const STUCK: &[&str] = image_registry_tests::STUCK_BY_DESIGN;
    let limit = Duration::from_secs(120);
    let quiet = Duration::from_millis(2500);
    let gate = Arc::new(tokio::sync::Semaphore::new(6));
    let mut runs = Vec::new();
    for path in image_registry_tests::all_fixtures() {
        let gate = gate.clone();
        runs.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let name = image_registry_tests::fixture_name(&path);
            let stand = stand_of(&path);
            let operator = start(&stand, "a");
            let mut steps = Vec::new();
            let writes = settle(&stand.fake, &format!("{name}: start"), limit, quiet).await;
            steps.push(("start", writes));
            // Every fixture ends with a Config: kept, bootstrapped, or bootstrapped anew after
            // a deletion finished (the stuck-by-design ones keep theirs).
            assert!(
                object(&stand.fake, "Config", "cluster").is_some() || STUCK.contains(&name.as_str()),
                "{name}: no Config"
            );
            if object(&stand.fake, "Config", "cluster").is_some() {
                for state in ["Removed", "Managed"] {
                    set_management_state(&stand.fake, state).await;
                    let writes = settle(&stand.fake, &format!("{name}: {state}"), limit, quiet).await;
                    steps.push((state, writes));
                }
                let configs = dynamic(&stand.fake, "imageregistry.operator.openshift.io", "Config", "configs", None);
                configs.delete("cluster", &DeleteParams::default()).await.unwrap();
                let writes = settle(&stand.fake, &format!("{name}: deleted"), limit, quiet).await;
                steps.push(("deleted", writes));
            }
            operator.stop().await;
            for (step, writes) in &steps {
                assert!(*writes <= WRITES_PER_STEP, "{name}: {writes} writes to settle after {step}");
            }
            assert_eq!(invalid_writes(&stand.fake), Vec::<String>::new(), "{name}");
            (name, steps)
        }));
    }
    let mut report = Vec::new();
    for run in runs {
        report.push(run.await.unwrap());
    }
    assert!(report.len() >= 20, "{report:?}");
    eprintln!("{report:?}");
}

/// A write the server keeps rejecting reaches the conditions: the status is still written after
/// the failed action, Progressing names the object and the server's message, and the
/// ClusterOperator follows; once the fault goes, it converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_keeps_failing_reaches_the_conditions() {
    let stand = stand("aws-fresh.yaml");
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    settle(&stand.fake, "Managed", Duration::from_secs(30), Duration::from_secs(3)).await;
    // Both ways the operator writes the Service are refused: the take-back (a JSON patch) and
    // the apply. Refusing the apply alone would let the take-back repair the Service, and the
    // failure would show for one pass only.
    for verb in ["patch", "apply"] {
        stand.fake.inject(Fault {
            verb: Some(verb.into()),
            resource: Some("services".into()),
            name: Some("image-registry".into()),
            code: 403,
            count: 1000,
            delay_ms: 0,
        });
    }
    // A user renumbers the port (an update, which the faults leave alone): the operator's
    // revert is refused every time.
    let services = dynamic(&stand.fake, "", "Service", "services", Some(NS));
    let mut service = services.get("image-registry").await.unwrap();
    service.data["spec"]["ports"] = json!([{"name": "5000-tcp", "port": 5001, "protocol": "TCP", "targetPort": 5000}]);
    let params = PostParams { field_manager: Some("someone-else".into()), ..PostParams::default() };
    services.replace("image-registry", &params, &service).await.unwrap();
    let message = |kind: &str| {
        let name = if kind == "ClusterOperator" { "image-registry" } else { "cluster" };
        let object = object(&stand.fake, kind, name).unwrap();
        object["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Progressing")
            .map(|c| {
                (
                    c["status"].as_str().unwrap_or_default().to_owned(),
                    c["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .unwrap()
    };
    wait_for("Progressing to name the failing write", Duration::from_secs(30), || {
        let (status, text) = message("Config");
        status == "True"
            && text.contains("Service openshift-image-registry/image-registry")
            && text.contains("injected fault: 403")
    })
    .await;
    wait_for("the ClusterOperator to follow", Duration::from_secs(30), || {
        message("ClusterOperator").1.contains("injected fault: 403")
    })
    .await;
    // Every failed attempt is a Warning about the Service, folded into one Event's series
    // (waited for: the second attempt comes after the operator's backoff).
    let failed = || -> Vec<Value> {
        let events = stand.fake.with_store(|s| s.dump()).into_iter();
        events.filter(|o| o["apiVersion"] == "events.k8s.io/v1" && o["reason"] == "ServiceUpdateFailed").collect()
    };
    wait_for("a second failed attempt in the Event's series", Duration::from_secs(30), || {
        failed().first().is_some_and(|e| e["series"]["count"].as_i64().is_some_and(|n| n >= 2))
    })
    .await;
    let failed = failed();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["type"], "Warning");
    stand.fake.clear_faults();
    wait_for("the revert once the server accepts it", Duration::from_secs(30), || {
        object(&stand.fake, "Service", "image-registry").unwrap()["spec"]["ports"]
            == json!([{"name": "5000-tcp", "port": 5000, "protocol": "TCP", "targetPort": 5000}])
            && message("Config").0 == "False"
    })
    .await;
    assert_eq!(invalid_writes(&stand.fake), Vec::<String>::new());
    operator.stop().await;
}

/// A Config a user made with `storage.s3: {}` and no management state: the bucket the operator
/// names and creates is `Managed` (tagged, protected, and removed on Removed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_made_config_with_an_empty_bucket_gets_a_managed_bucket() {
    let stand = stand("aws-fresh.yaml");
    let configs = dynamic(&stand.fake, "imageregistry.operator.openshift.io", "Config", "configs", None);
    let body = json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config",
        "metadata": {"name": "cluster"}, "spec": {"managementState": "Managed", "replicas": 1, "storage": {"s3": {}}}});
    configs.create(&Default::default(), &serde_json::from_value(body).unwrap()).await.unwrap();
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    let config = object(&stand.fake, "Config", "cluster").unwrap();
    assert_eq!(config["spec"]["storage"]["managementState"], "Managed", "{:#}", config["spec"]["storage"]);
    assert_eq!(bucket_creations(&stand.cloud), 1);
    let calls = stand.cloud.calls();
    assert!(
        calls.iter().any(|c| matches!(c, CloudAction::S3(s3::call::Call::PutBucketTagging { .. }))),
        "the operator's bucket is tagged"
    );
    operator.stop().await;
}

/// What another writer adds to the operator's objects is taken back: an env var and a
/// container port in the registry Deployment, a label in a NetworkPolicy's pod selector (a
/// security change); a label on the Deployment's metadata stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn additions_to_owned_objects_are_taken_back_and_metadata_labels_stay() {
    let stand = stand("aws-fresh.yaml");
    let operator = start(&stand, "a");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    settle(&stand.fake, "Managed", Duration::from_secs(30), Duration::from_secs(3)).await;
    let params = PatchParams { field_manager: Some("someone-else".into()), ..PatchParams::default() };
    let deployments = dynamic(&stand.fake, "apps", "Deployment", "deployments", Some(NS));
    let ops = json!([
        {"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "FOO", "value": "BAR"}},
        {"op": "add", "path": "/spec/template/spec/containers/0/ports/-", "value": {"containerPort": 9999, "protocol": "TCP"}},
        {"op": "add", "path": "/metadata/labels/team", "value": "storage"}
    ]);
    deployments
        .patch("image-registry", &params, &Patch::<()>::Json(serde_json::from_value(ops).unwrap()))
        .await
        .unwrap();
    let policies = dynamic(&stand.fake, "networking.k8s.io", "NetworkPolicy", "networkpolicies", Some(NS));
    let selector = json!({"spec": {"podSelector": {"matchLabels": {"extra": "x"}}}});
    policies.patch("image-registry-networkpolicy", &params, &Patch::Merge(&selector)).await.unwrap();
    let container = |d: &Value| d["spec"]["template"]["spec"]["containers"][0].clone();
    wait_for("the additions to be taken back", Duration::from_secs(30), || {
        let deployment = object(&stand.fake, "Deployment", "image-registry").unwrap();
        let policy = object(&stand.fake, "NetworkPolicy", "image-registry-networkpolicy").unwrap();
        let c = container(&deployment);
        !c["env"].as_array().unwrap().iter().any(|e| e["name"] == "FOO")
            && !c["ports"].as_array().unwrap().iter().any(|p| p["containerPort"] == 9999)
            && policy["spec"]["podSelector"]["matchLabels"].get("extra").is_none()
    })
    .await;
    let deployment = object(&stand.fake, "Deployment", "image-registry").unwrap();
    assert_eq!(deployment["metadata"]["labels"]["team"], "storage", "others' metadata labels stay");
    let policy = object(&stand.fake, "NetworkPolicy", "image-registry-networkpolicy").unwrap();
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"], json!({"docker-registry": "default"}));
    // Then quiet again: nothing flaps.
    settle(&stand.fake, "taken back", Duration::from_secs(30), Duration::from_secs(3)).await;
    assert_eq!(invalid_writes(&stand.fake), Vec::<String>::new());
    operator.stop().await;
}

/// Taking over the cluster the reference operator converged: the operator settles without
/// rolling the registry or node-ca (their generations stay) and without touching the pruner's
/// job template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_over_from_the_reference_bumps_no_generation() {
    let stand = stand("adopt-from-reference-emptydir.yaml");
    let generation =
        |kind: &str, name: &str| object(&stand.fake, kind, name).unwrap()["metadata"]["generation"].clone();
    let before = [
        generation("Deployment", "image-registry"),
        generation("DaemonSet", "node-ca"),
        generation("CronJob", "image-pruner"),
    ];
    let operator = start(&stand, "a");
    settle(&stand.fake, "the take-over", Duration::from_secs(60), Duration::from_secs(3)).await;
    let after = [
        generation("Deployment", "image-registry"),
        generation("DaemonSet", "node-ca"),
        generation("CronJob", "image-pruner"),
    ];
    assert_eq!(after, before, "generations (Deployment, DaemonSet, CronJob)");
    assert!(available(&stand.fake));
    assert_eq!(operator.stop().await, Ended::Shutdown);
}

/// `snapshot` against the fake API server: read-only, no secret of the cluster in the file,
/// and the file plans what the cluster plans (the same steps, the same exit code), on a
/// converged cluster, a drifted one, one with the user's credentials, one the reference
/// converged, and a fresh one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_plans_what_the_cluster_plans_and_holds_no_secret() {
    let fixtures = image_registry_tests::fixtures_dir();
    for name in [
        "aws-converged.yaml",
        "aws-drifted.yaml",
        "storage/s3/user-credentials.yaml",
        "adopt-from-reference-emptydir.yaml",
        "aws-fresh.yaml",
    ] {
        let stand = stand_of(&fixtures.join(name));
        let client = kube::Client::new(stand.fake.clone(), NS);
        stand.fake.clear_requests();
        let now = "2026-06-01T00:00:00Z".parse().unwrap();
        let (text, differ) = live::snapshot(&client, stand.cloud.as_ref(), operator_env(), Some(now)).await.unwrap();
        assert_eq!(differ, Vec::<String>::new(), "{name}");
        assert!(stand.fake.requests().iter().all(|e| !e.write), "{name}: the snapshot wrote");
        let from_file =
            image_registry_core::reconcile(&image_registry_core::fixture::parse(name, &text).unwrap().observed);
        let live = live::dry_run(&client, stand.cloud.as_ref(), operator_env(), Some(now)).await.unwrap();
        let steps =
            |plan: &image_registry_core::Plan| plan.steps.iter().map(|s| s.action.describe()).collect::<Vec<_>>();
        assert_eq!(steps(&from_file), steps(&live), "{name}");
        assert_eq!(from_file.exit_code(), live.exit_code(), "{name}");
        // No secret value of the cluster, encoded or decoded, is in the file.
        for secret in stand.fake.with_store(|s| s.dump()).into_iter().filter(|o| o["kind"] == "Secret") {
            for value in secret["data"].as_object().into_iter().flat_map(|d| d.values()) {
                let encoded = value.as_str().unwrap();
                assert!(encoded.len() < 8 || !text.contains(encoded), "{name}: {} leaked", secret["metadata"]["name"]);
                let decoded =
                    serde_json::from_value::<k8s_openapi::ByteString>(value.clone()).map(|b| b.0).unwrap_or_default();
                let decoded = String::from_utf8(decoded).unwrap_or_default();
                assert!(decoded.len() < 8 || !text.contains(&decoded), "{name}: {} leaked", secret["metadata"]["name"]);
            }
        }
    }
}

/// The objects the operator wrote (its field manager in managedFields), leases and events
/// aside, as the fake's keys: group, plural, namespace, name.
fn owned_keys(fake: &FakeApiServer) -> std::collections::BTreeSet<(String, String, String, String)> {
    fake.with_store(|s| s.dump())
        .into_iter()
        .filter(|o| {
            o["metadata"]["managedFields"].as_array().is_some_and(|fields| {
                fields.iter().any(|f| f["manager"] == image_registry_operator::execute::FIELD_MANAGER)
            })
        })
        .filter(|o| o["kind"] != "Lease" && o["kind"] != "Event")
        .filter_map(|o| {
            let r = fake_apiserver::resources::by_kind(o["apiVersion"].as_str()?, o["kind"].as_str()?)?;
            let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
            Some((r.group.to_owned(), r.plural.to_owned(), text("/metadata/namespace"), text("/metadata/name")))
        })
        .collect()
}

fn condition_of(object: &Value, type_: &str) -> Option<String> {
    object["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == type_)?["status"]
        .as_str()
        .map(str::to_owned)
}

/// Issue 25: the API server loses its state (an etcd restore from a backup taken before the
/// install; here the fake reset to the fixture: revisions start again, every watch ends). The
/// operator, at the reference's 10-minute resync, must not wait for it: the watches' resumes
/// are refused as too large, the lease is gone, every watch relists, and every object the
/// operator owns is back within 30 seconds. Every state the server holds meanwhile is
/// checked, in order: Available=True never while one of them is missing, Progressing=True on
/// the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_api_server_loses_its_state_every_owned_object_is_back_within_30_s() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/aws-fresh.yaml");
    let stand = stand("aws-fresh.yaml");
    let mut run = settings("a");
    run.looping.resync = Duration::from_secs(600);
    let operator = start_with(&stand, kube::Client::new(stand.fake.clone(), NS), run);
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let owned = owned_keys(&stand.fake);
    assert!(owned.len() > 15, "{owned:?}");
    let backup = fake_apiserver::serve::fixture_objects(&path).unwrap();
    stand.fake.reset(backup).unwrap();
    let lost = std::time::Instant::now();
    let (mut events, mut present) = stand.fake.with_store(|s| {
        let present: std::collections::BTreeSet<_> = s
            .dump()
            .into_iter()
            .filter_map(|o| {
                let r = fake_apiserver::resources::by_kind(o["apiVersion"].as_str()?, o["kind"].as_str()?)?;
                let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
                Some((r.group.to_owned(), r.plural.to_owned(), text("/metadata/namespace"), text("/metadata/name")))
            })
            .collect();
        (s.subscribe(), present)
    });
    let mut progressing = false;
    let mut states = 0;
    loop {
        let left = Duration::from_secs(30).saturating_sub(lost.elapsed());
        let Ok(Ok(event)) = tokio::time::timeout(left, events.recv()).await else {
            let missing: Vec<_> = owned.difference(&present).collect();
            panic!("after 30 s still missing: {missing:?}");
        };
        let key = (
            event.key.group.to_owned(),
            event.key.plural.to_owned(),
            event.key.namespace.clone(),
            event.key.name.clone(),
        );
        if event.kind == "DELETED" {
            present.remove(&key);
        } else {
            present.insert(key);
        }
        states += 1;
        let all_back = owned.is_subset(&present);
        if matches!(event.key.plural, "configs" | "clusteroperators") {
            if condition_of(&event.object, "Available").as_deref() == Some("True") {
                let missing: Vec<_> = owned.difference(&present).collect();
                assert!(all_back, "{} says Available=True while missing {missing:?}", event.key.plural);
            }
            progressing |= condition_of(&event.object, "Progressing").as_deref() == Some("True");
        }
        if all_back && available(&stand.fake) {
            break;
        }
    }
    let took = lost.elapsed();
    assert!(progressing, "Progressing=True was reported on the way back");
    eprintln!("every owned object back and Available in {took:?}, {states} states checked");
    assert_eq!(operator.stop().await, Ended::Shutdown);
}

/// A test-stand hook standing in for SIGSTOP: one operator's connection to the fake API server
/// that freezes its whole process (the operator runs alone on a current-thread runtime in its
/// own thread) right after the server answered its `freeze_at`-th write, until thawed: no
/// timer fires, nothing is polled, as a stopped process. Every request of every connection
/// gets a sequence number from one counter when it reaches the server, so the order the
/// server saw is known.
#[derive(Clone)]
struct Connection {
    fake: FakeApiServer,
    who: &'static str,
    freeze_at: Option<usize>,
    frozen: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
    order: Arc<std::sync::atomic::AtomicU64>,
}

/// A write as the server saw it: its place in the order, whose, `METHOD path`.
type Seen = (u64, &'static str, String);

/// A write other than a lease's, which the fence is about (lease writes are the re-check).
fn fenced_write(method: &http::Method, path: &str) -> bool {
    *method != http::Method::GET && !path.contains("/leases/")
}

impl Connection {
    fn writes(&self, who: &str) -> Vec<(u64, String)> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|(_, w, _)| *w == who).map(|(n, _, what)| (*n, what.clone())).collect()
    }

    fn is_frozen(&self) -> bool {
        *self.frozen.0.lock().unwrap()
    }

    fn thaw(&self) {
        *self.frozen.0.lock().unwrap() = false;
        self.frozen.1.notify_all();
    }
}

impl tower::Service<http::Request<kube::client::Body>> for Connection {
    type Response = http::Response<fake_apiserver::http::Body>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<kube::client::Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let write = fenced_write(request.method(), request.uri().path());
            let what = format!("{} {}", request.method(), request.uri().path());
            let number = this.order.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let writes = {
                let mut seen = this.seen.lock().unwrap();
                if write {
                    seen.push((number, this.who, what));
                }
                seen.iter().filter(|(_, w, _)| *w == this.who).count()
            };
            let mut fake = this.fake.clone();
            let response = tower::Service::call(&mut fake, request).await;
            if write && this.freeze_at == Some(writes) {
                // SIGSTOP between this write and the next: the whole runtime stops here.
                let (lock, thawed) = &*this.frozen;
                let mut frozen = lock.lock().unwrap();
                *frozen = true;
                while *frozen {
                    frozen = thawed.wait(frozen).unwrap();
                }
            }
            response
        })
    }
}

/// Issue 25: a leader paused mid-pass past its lease (a stopped process, a stalled VM) must
/// not write once resumed: another instance has the lease by then. The first instance
/// freezes right after its fifth write (the registry's objects being created); the second
/// takes the lease when it expires and writes; then the first is thawed. No write of the
/// first may reach the server after the second's first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_paused_past_its_lease_writes_nothing_after_the_new_leader_began() {
    let stand = stand("aws-fresh.yaml");
    let connection = |who, freeze_at| Connection {
        fake: stand.fake.clone(),
        who,
        freeze_at,
        frozen: Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new())),
        seen: Arc::new(std::sync::Mutex::new(Vec::new())),
        order: Arc::new(std::sync::atomic::AtomicU64::new(0)),
    };
    let first = connection("first", Some(5));
    let second = Connection { who: "second", freeze_at: None, ..first.clone() };
    let (paused, cloud) = (first.clone(), stand.cloud.clone());
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let client = kube::Client::new(paused, NS);
            let cloud: Arc<dyn image_registry_operator::cloud::CloudApi> = cloud;
            live::run(client, cloud, settings("first"), Arc::new(Metrics::new()), std::future::pending()).await
        })
    });
    wait_for("the first instance to freeze mid-pass", Duration::from_secs(30), || first.is_frozen()).await;
    let froze = Instant::now();
    let new_leader = start_with(&stand, kube::Client::new(second.clone(), NS), settings("second"));
    wait_for("the second instance to write", Duration::from_secs(30), || !second.writes("second").is_empty()).await;
    let took_over = froze.elapsed();
    // Let the second go on a little, then resume the first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.thaw();
    let ended = tokio::task::spawn_blocking(move || thread.join().unwrap()).await.unwrap();
    assert_eq!(ended, Ok(Ended::LostLease));
    let (first_writes, second_writes) = (first.writes("first"), first.writes("second"));
    let (began, _) = second_writes.first().cloned().unwrap();
    let late: Vec<_> = first_writes.iter().filter(|(n, _)| *n > began).collect();
    assert!(late.is_empty(), "the paused leader wrote after the new one began: {late:?}");
    assert_eq!(first_writes.len(), 5, "{first_writes:?}");
    eprintln!("took over {took_over:?} after the freeze; the first stopped without a write");
    wait_for("the registry to be available", Duration::from_secs(60), || available(&stand.fake)).await;
    new_leader.stop().await;
}

/// Issue 25: the lease tells the watches the server's history moved when the lease this
/// instance held is gone after a restore; an ordinary renewal, or another candidate taking an
/// expired lease, tells nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lease_gone_after_a_restore_tells_the_watches_to_relist() {
    use image_registry_operator::lease::Elector;
    use image_registry_operator::watches::History;
    let stand = stand("aws-fresh.yaml");
    let history = Arc::new(History::default());
    let client = kube::Client::new(stand.fake.clone(), NS);
    let elector = Elector::new(client, settings("a").lease).telling(history.clone());
    assert!(elector.try_acquire_or_renew().await.unwrap());
    assert!(elector.try_acquire_or_renew().await.unwrap());
    assert_eq!(history.generation(), 0, "renewals are ordinary history");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/aws-fresh.yaml");
    stand.fake.reset(fake_apiserver::serve::fixture_objects(&path).unwrap()).unwrap();
    assert!(elector.try_acquire_or_renew().await.unwrap(), "the lease is taken again");
    assert_eq!(history.generation(), 1, "the lease vanished: every watch relists");
    assert!(elector.try_acquire_or_renew().await.unwrap());
    assert_eq!(history.generation(), 1);
}
