//! Properties of the core over generated snapshots (proptest). The default case counts run in
//! `scripts/test`; `PROPTEST_CASES=100000 cargo test -p image-registry-tests --test suite -- properties::`
//! is the nightly mode (README).

use image_registry_core::action::{Action, CloudAction};
use image_registry_core::api::openshift::KeyValue;
use image_registry_core::observed::{BucketState, ObjectKey, Observed};
use image_registry_core::outcome::ErrorClass;
use image_registry_core::render::{self, Format};
use image_registry_core::storage::s3;
use image_registry_core::storage::s3::call::S3Target;
use image_registry_core::storage::s3::facts::S3Bucket;
use image_registry_core::{reconcile, safety};
use image_registry_tests::{STUCK_BY_DESIGN, cases, edit_config, fixture, loaded};
use image_registry_world::Fault;
use image_registry_world::run::{Ending, simulate};
use proptest::prelude::*;
use serde_json::Value;

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![Just("Managed"), Just("Removed"), Just("s3"), Just("True"), Just("5000"), Just("")]
            .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the value at a pseudo-random path of `target` (chosen by `steps`) with `with`.
fn replace_somewhere(target: &mut Value, steps: &[usize], with: Value) {
    if let Some((step, rest)) = steps.split_first() {
        match target {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(step % map.len()).cloned().unwrap_or_default();
                if let Some(next) = map.get_mut(&key) {
                    return replace_somewhere(next, rest, with);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let len = items.len();
                if let Some(next) = items.get_mut(step % len) {
                    return replace_somewhere(next, rest, with);
                }
            }
            _ => {}
        }
    }
    *target = with;
}

/// A converged cluster at a point of its lifecycle: the Config's and the storage's management
/// states, maybe being deleted, maybe naming a bucket the cluster does not own.
fn at_lifecycle(
    mut observed: Observed,
    state: &str,
    storage_state: &str,
    deleting: bool,
    other_bucket: bool,
) -> Observed {
    let now = observed.now;
    edit_config(&mut observed, |c| {
        c.spec.management_state = state.into();
        c.spec.storage.management_state = storage_state.into();
        if deleting {
            c.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now));
        }
        if other_bucket {
            let storage = &mut c.spec.storage;
            if let Some(s3) = storage.s3.as_mut() {
                s3.bucket = "someone-elses-bucket".into();
            }
            if let Some(cos) = storage.ibmcos.as_mut() {
                cos.bucket = "someone-elses-bucket".into();
            }
        }
    });
    observed
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(cases(3000)))]

    /// Arbitrary JSON anywhere in any object (identity fields included) never panics the core.
    #[test]
    fn reconcile_never_panics(pick in any::<usize>(), object in any::<usize>(), steps in prop::collection::vec(any::<usize>(), 0..6), junk in arbitrary_json()) {
        let (_, base) = &loaded()[pick % loaded().len()];
        let mut observed = base.clone();
        let keys: Vec<ObjectKey> = observed.objects.iter().map(|(k, _)| k.clone()).collect();
        if !keys.is_empty() {
            let key = keys[object % keys.len()].clone();
            let mut value = observed.objects.raw(&key).cloned().unwrap_or_default();
            replace_somewhere(&mut value, &steps, junk);
            observed.objects.insert_at(key, value);
        }
        let plan = reconcile(&observed);
        for format in [Format::Text, Format::Yaml, Format::Json] {
            prop_assert!(render::render(&plan, format).is_ok());
        }
    }

    /// Storage is deleted only when the Config is Removed or deleted, the storage is Managed,
    /// and the bucket is recorded and tagged as this cluster's; buckets are created only under
    /// the persisted name. Checked over random states of a converged cluster.
    #[test]
    fn storage_safety(
        state in prop_oneof![Just("Managed"), Just("Unmanaged"), Just("Removed"), Just("Force")],
        storage_state in prop_oneof![Just("Managed"), Just("Unmanaged"), Just("")],
        deleting in any::<bool>(),
        bucket_state in prop_oneof![Just(BucketState::Exists), Just(BucketState::Missing), Just(BucketState::Forbidden), Just(BucketState::Unknown)],
        keep_tag in any::<bool>(),
        other_bucket in any::<bool>(),
    ) {
        let mut observed = at_lifecycle(fixture("aws-converged"), state, storage_state, deleting, other_bucket);
        for facts in observed.cloud.s3.values_mut() {
            facts.state = bucket_state;
            if !keep_tag {
                facts.tags.retain(|t| !t.key.starts_with("kubernetes.io/cluster/"));
            }
        }
        let plan = reconcile(&observed);
        prop_assert_eq!(safety::check(&observed, &plan), Ok(()));
    }

    /// The same for IBM COS, whose mark is the service instance the operator named for this
    /// cluster: a bucket in an instance of another name, or one the Config does not record, is
    /// never deleted, and the instance and its key never are.
    #[test]
    fn ibm_cos_storage_safety(
        state in prop_oneof![Just("Managed"), Just("Unmanaged"), Just("Removed"), Just("Force")],
        storage_state in prop_oneof![Just("Managed"), Just("Unmanaged"), Just("")],
        deleting in any::<bool>(),
        bucket_state in prop_oneof![Just(BucketState::Exists), Just(BucketState::Missing), Just(BucketState::Forbidden), Just(BucketState::Unknown)],
        keep_mark in any::<bool>(),
        other_bucket in any::<bool>(),
    ) {
        let mut observed = at_lifecycle(fixture("storage/ibmcos/converged"), state, storage_state, deleting, other_bucket);
        for facts in observed.cloud.ibmcos.buckets.values_mut() {
            facts.state = bucket_state;
        }
        if !keep_mark {
            for instance in observed.cloud.ibmcos.instances.values_mut() {
                instance.name = "a-users-instance".into();
            }
        }
        let plan = reconcile(&observed);
        prop_assert_eq!(safety::check(&observed, &plan), Ok(()));
        for step in &plan.steps {
            if let image_registry_core::Action::Cloud(call) = &step.action {
                let json = serde_json::to_value(call).unwrap();
                if json["call"] == "ibmcosDeleteBucket" {
                    prop_assert!(keep_mark && (state == "Removed" || deleting) && storage_state == "Managed", "{}", step.reason);
                }
            }
        }
    }

    /// Whatever transient faults the cluster throws, every fixture still reaches its fixpoint,
    /// within 5 + 2 × (faults) working passes, never breaking the safety rules and never
    /// creating a second bucket.
    #[test]
    fn convergence_under_transient_faults(
        pick in any::<usize>(),
        faults in prop::collection::vec((
            prop_oneof![Just(ErrorClass::Conflict), Just(ErrorClass::Throttled), Just(ErrorClass::Unavailable), Just(ErrorClass::Timeout)],
            prop_oneof![Just(""), Just("Deployment"), Just("Config"), Just("S3"), Just("status"), Just("Secret")],
            1u32..3,
        ), 0..4),
    ) {
        let runnable: Vec<&(String, _)> = loaded().iter().filter(|(n, _)| !STUCK_BY_DESIGN.contains(&n.as_str())).collect();
        let (name, observed) = runnable[pick % runnable.len()];
        let injected: u32 = faults.iter().map(|(_, _, n)| n).sum();
        let faults: Vec<Fault> = faults.into_iter().map(|(class, matching, remaining)| Fault { matching: matching.into(), class, remaining }).collect();
        let report = simulate(observed.clone(), 40, faults);
        prop_assert_eq!(&report.ending, &Ending::Converged, "{}: {}", name, report.summary());
        let bound = image_registry_tests::passes_to_converge(name) + 2 * injected as usize;
        prop_assert!(report.working_passes() <= bound, "{}: {} > {}", name, report.summary(), bound);
        let mut created = std::collections::BTreeSet::new();
        for pass in &report.passes {
            prop_assert_eq!(safety::check(&pass.observed, &pass.plan), Ok(()), "{}", name);
            for step in &pass.plan.steps {
                if let Action::Cloud(CloudAction::S3(s3::call::Call::CreateBucket { target })) = &step.action {
                    created.insert(target.bucket.clone());
                }
            }
        }
        prop_assert!(created.len() <= 1, "{}: buckets {:?}", name, created);
    }

    /// Once converged, further passes plan nothing, however much later they run.
    #[test]
    fn converged_stays_quiet_as_time_passes(pick in any::<usize>(), seconds in 0i64..(14 * 24 * 3600)) {
        let runnable: Vec<&(String, _)> = loaded().iter().filter(|(n, _)| !STUCK_BY_DESIGN.contains(&n.as_str())).collect();
        let (name, observed) = runnable[pick % runnable.len()];
        let report = simulate(observed.clone(), 20, vec![]);
        prop_assert_eq!(&report.ending, &Ending::Converged, "{}", name);
        let mut later = report.world.observed.clone();
        later.now += jiff::SignedDuration::from_secs(seconds);
        let plan = reconcile(&later);
        prop_assert!(plan.steps.is_empty(), "{} after {}s: {:?}", name, seconds, plan.steps.iter().map(|s| s.action.describe()).collect::<Vec<_>>());
    }

    /// No secret value put into a snapshot shows up in any rendering, description or error.
    #[test]
    fn secrets_never_leak(access in "[A-Z0-9]{16,24}", secret in "[a-zA-Z0-9/+]{30,40}", pull in "[a-zA-Z0-9]{20,30}", pick in any::<usize>()) {
        let names = ["aws-fresh", "aws-converged", "aws-drifted", "removed"];
        let mut observed = fixture(names[pick % names.len()]);
        let b64 = |s: &str| serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap();
        observed.objects.insert(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "installer-cloud-credentials", "namespace": "openshift-image-registry"},
            "data": {"aws_access_key_id": b64(&access), "aws_secret_access_key": b64(&secret)}
        })).unwrap();
        observed.objects.insert(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "pull-secret", "namespace": "openshift-config"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": b64(&format!("{{\"auths\":{{\"x\":{{\"auth\":\"{pull}\"}}}}}}"))}
        })).unwrap();
        let plan = reconcile(&observed);
        let mut texts: Vec<String> = [Format::Text, Format::Yaml, Format::Json].into_iter().map(|f| render::render(&plan, f).unwrap()).collect();
        texts.extend(plan.steps.iter().map(|s| s.action.describe()));
        texts.extend(plan.errors.iter().map(|e| e.message.clone()));
        for text in &texts {
            for value in [&access, &secret, &pull] {
                prop_assert!(!text.contains(value.as_str()));
            }
        }
    }
}

/// An invalid value put into field number `which` of a Config (each invalid by construction,
/// with `token` making it unlike anything else in a plan).
fn put_invalid(config: &mut image_registry_core::api::Config, which: usize, token: &str) -> String {
    let spec = &mut config.spec;
    match which % 9 {
        0 => {
            let value = format!("Bucket-{token}");
            spec.storage.s3.get_or_insert_default().bucket = value.clone();
            value
        }
        1 => {
            let value = format!("google-{}", token.to_lowercase());
            spec.storage.gcs.get_or_insert_default().bucket = value.clone();
            value
        }
        2 => {
            let value = format!("acct_{token}");
            spec.storage.azure.get_or_insert_default().account_name = value.clone();
            value
        }
        3 => {
            let value = format!("{token}/container");
            spec.storage.swift.get_or_insert_default().container = value.clone();
            value
        }
        4 => {
            let value = format!("{token}:{}", 70000 + token.len());
            spec.proxy.http = value.clone();
            value
        }
        5 => {
            let value = format!("key {token}");
            spec.node_selector = Some([(value.clone(), "v".to_owned())].into());
            value
        }
        6 => {
            let value = format!("Op{token}");
            spec.tolerations =
                Some(vec![serde_json::from_value(serde_json::json!({"key": "k", "operator": value})).unwrap()]);
            value
        }
        7 => {
            let value = format!("{}Qz", token.len());
            spec.resources = Some(serde_json::from_value(serde_json::json!({"limits": {"memory": value}})).unwrap());
            format!("\"{value}\"")
        }
        _ => {
            let value = format!("zone {token}");
            spec.topology_spread_constraints = Some(vec![
                serde_json::from_value(
                    serde_json::json!({"maxSkew": 1, "topologyKey": value, "whenUnsatisfiable": "DoNotSchedule"}),
                )
                .unwrap(),
            ]);
            value
        }
    }
}

proptest! {
    #![proptest_config(config(cases(300)))]

    /// Issue 25: no invalid value of a Config reaches a planned write or a cloud call, on any
    /// fixture with a Config, whatever else the pass does (a deleted Config's teardown still
    /// removes the storage its status records).
    #[test]
    fn no_invalid_value_reaches_a_planned_write(pick in any::<usize>(), which in any::<usize>(), token in "[A-Za-z][A-Za-z0-9]{5,12}") {
        let with_config: Vec<&(String, _)> = loaded().iter().filter(|(_, o)| {
            o.objects.raw(&ObjectKey::of::<image_registry_core::api::Config>("", "cluster")).is_some()
        }).collect();
        let (name, observed) = with_config[pick % with_config.len()];
        let mut observed = observed.clone();
        let mut value = String::new();
        edit_config(&mut observed, |c| value = put_invalid(c, which, &token));
        let plan = reconcile(&observed);
        for step in carried(&plan) {
            prop_assert!(!step.contains(&value), "{}: {} reached {}", name, value, step);
        }
    }
}

/// Six: a deletion's teardown and finalizer, the re-bootstrap, the objects, the Deployment once
/// the service-ca has minted its certificate (it waits for it: one rollout), the status. IBM
/// COS takes one more: its service instance is recorded before its key is made.
#[test]
fn every_fixture_converges_within_six_passes() {
    for (name, observed) in loaded() {
        let report = simulate(observed.clone(), 12, vec![]);
        if STUCK_BY_DESIGN.contains(&name.as_str()) {
            assert!(matches!(report.ending, Ending::Stuck(_)), "{name}: {}", report.summary());
            continue;
        }
        assert_eq!(report.ending, Ending::Converged, "{name}: {}", report.summary());
        assert!(
            report.working_passes() <= image_registry_tests::passes_to_converge(name),
            "{name}: {}",
            report.summary()
        );
    }
}

/// Bootstrap; the registry's objects and storage; the Deployment, created once the service-ca
/// has minted its serving certificate so that it never rolls again; the final status.
#[test]
fn aws_fresh_converges_in_four_passes_and_creates_the_deployment_once() {
    let report = simulate(fixture("aws-fresh"), 10, vec![]);
    assert_eq!(report.ending, Ending::Converged);
    assert_eq!(report.working_passes(), 4, "{}", report.summary());
    let deployment_writes: Vec<String> = report
        .passes
        .iter()
        .flat_map(|p| &p.plan.steps)
        .map(|s| s.action.describe())
        .filter(|d| d.contains("Deployment.apps openshift-image-registry/image-registry"))
        .collect();
    assert_eq!(deployment_writes, ["create Deployment.apps openshift-image-registry/image-registry"]);
}

/// The safety checker is not vacuous: a plan that deletes a bucket of a Managed registry, or
/// a bucket without the ownership tag, or creates a bucket under an unpersisted name, is caught.
#[test]
fn a_broken_safety_rule_is_caught() {
    let observed = fixture("aws-converged");
    let bucket = observed.cloud.s3.keys().next().unwrap().clone();
    let target = S3Target {
        bucket: bucket.clone(),
        region: "us-east-1".into(),
        endpoint: String::new(),
        virtual_hosted_style: false,
        dual_stack: true,
    };
    let tag = KeyValue { key: "kubernetes.io/cluster/mycluster-x7k2p".into(), value: "owned".into() };
    let mut plan = reconcile(&observed);
    plan.push(
        Action::Cloud(CloudAction::S3(s3::call::Call::DeleteBucket {
            target: target.clone(),
            require_tag: tag.clone(),
        })),
        "flipped rule: delete while Managed",
    );
    let broken = safety::check(&observed, &plan).unwrap_err();
    assert!(broken[0].contains("although the registry is Managed"), "{broken:?}");

    let mut removed = observed.clone();
    edit_config(&mut removed, |c| c.spec.management_state = "Removed".into());
    removed.cloud.s3.insert(bucket.clone(), S3Bucket { state: BucketState::Exists, ..S3Bucket::default() });
    let mut plan = image_registry_core::Plan::default();
    plan.push(
        Action::Cloud(CloudAction::S3(s3::call::Call::DeleteBucket { target: target.clone(), require_tag: tag })),
        "flipped rule: untagged bucket",
    );
    assert!(safety::check(&removed, &plan).unwrap_err()[0].contains("ownership tag"));

    let mut plan = image_registry_core::Plan::default();
    let other = S3Target { bucket: "a-second-bucket".into(), ..target };
    plan.push(
        Action::Cloud(CloudAction::S3(s3::call::Call::CreateBucket { target: other })),
        "flipped rule: second bucket",
    );
    assert!(safety::check(&observed, &plan).unwrap_err()[0].contains("before its name is persisted"));
}

/// The Config's Available status after `plan` ran over `observed`: the status it writes, else
/// the stored one.
fn available_after(
    observed: &image_registry_core::observed::Observed,
    plan: &image_registry_core::plan::Plan,
) -> Option<String> {
    let conditions = conditions_after(observed, plan);
    conditions.iter().find(|c| c["type"] == "Available").and_then(|c| c["status"].as_str()).map(str::to_owned)
}

/// Issue 25: after state loss (an etcd restore, a user's delete), the registry is never
/// reported Available while an object it needs is missing. Every converged fixture, every
/// object the registry's controller would create again: removed one at a time, the pass that
/// recreates it does not say Available=True (routes aside: they only expose the registry).
#[test]
fn never_available_while_an_object_the_registry_needs_is_missing() {
    let mut checked = 0;
    for (name, observed) in loaded() {
        if STUCK_BY_DESIGN.contains(&name.as_str()) {
            continue;
        }
        let report = simulate(observed.clone(), 20, vec![]);
        let converged = report.world.observed.clone();
        let keys: Vec<ObjectKey> = converged.objects.iter().map(|(k, _)| k.clone()).collect();
        for key in keys {
            let mut lost = converged.clone();
            lost.objects.remove(&key);
            let plan = reconcile(&lost);
            let recreated = plan.steps.iter().any(|s| {
                s.reason == "the registry needs it and it does not exist"
                    && s.action.describe().contains(&format!("{}/{}", key.namespace, key.name))
            });
            if !recreated || key.kind == "Route" {
                continue;
            }
            checked += 1;
            assert_ne!(available_after(&lost, &plan).as_deref(), Some("True"), "{name} without {key:?}");
        }
    }
    assert!(checked > 100, "only {checked} cases: the property would be vacuous");
}

/// The plan's steps other than the reports (the Config's and the ClusterOperator's status
/// writes, whose conditions name a bad value), as JSON text: what would reach the API server
/// or a cloud carrying a value.
fn carried(plan: &image_registry_core::plan::Plan) -> Vec<String> {
    use image_registry_core::action::KubeAction;
    let report = |kind: &str| matches!(kind, "Config" | "ClusterOperator");
    plan.steps
        .iter()
        .filter(|s| !matches!(&s.action, Action::Kube(KubeAction::ApplyStatus { key, .. }) if report(&key.kind)))
        .map(|s| serde_json::to_string(&s.action).unwrap())
        .collect()
}

/// The Config's conditions after the plan: its status write's, else the stored ones.
fn conditions_after(
    observed: &image_registry_core::observed::Observed,
    plan: &image_registry_core::plan::Plan,
) -> Vec<Value> {
    use image_registry_core::action::KubeAction;
    let written = plan.steps.iter().find_map(|s| match &s.action {
        Action::Kube(KubeAction::ApplyStatus { key, object, .. }) if key.kind == "Config" => {
            Some(object.expose().pointer("/status").cloned().unwrap_or_default())
        }
        _ => None,
    });
    let config = ObjectKey::of::<image_registry_core::api::Config>("", "cluster");
    let status =
        written.or_else(|| observed.objects.raw(&config).and_then(|c| c.get("status")).cloned()).unwrap_or_default();
    status["conditions"].as_array().cloned().unwrap_or_default()
}

type Edit = fn(&mut image_registry_core::api::Config);

/// Issue 25, each value the outside check passed on: the pass names the field in a Degraded
/// condition (`VerificationFailed`), calls no cloud, and no write carries the value; the
/// registry's objects and storage stay as they are.
#[test]
fn every_bad_value_is_named_in_a_condition_and_carried_by_no_write() {
    use image_registry_core::api::storage::{Azure, Gcs, Swift};
    let long = "b".repeat(64);
    let cases: Vec<(&str, &str, &str, Edit)> = vec![
        ("storage/s3/converged", "spec.storage.s3.bucket", "MyCluster-UPPER-Bucket", |c| {
            c.spec.storage.s3.as_mut().unwrap().bucket = "MyCluster-UPPER-Bucket".into()
        }),
        ("storage/s3/fresh", "spec.storage.s3.bucket", &long, |c| {
            c.spec.storage.s3.get_or_insert_default().bucket = "b".repeat(64);
        }),
        ("storage/s3/converged", "spec.storage.s3.bucket", "my..bucket", |c| {
            c.spec.storage.s3.as_mut().unwrap().bucket = "my..bucket".into()
        }),
        ("storage/gcs/converged", "spec.storage.gcs.bucket", "goog-registry", |c| {
            c.spec.storage.gcs =
                Some(Gcs { bucket: "goog-registry".into(), ..c.spec.storage.gcs.clone().unwrap_or_default() });
        }),
        ("storage/azure/converged", "spec.storage.azure.accountName", "Not_An_Account", |c| {
            c.spec.storage.azure = Some(Azure {
                account_name: "Not_An_Account".into(),
                ..c.spec.storage.azure.clone().unwrap_or_default()
            });
        }),
        ("storage/azure/converged", "spec.storage.azure.container", "bad--container", |c| {
            c.spec.storage.azure =
                Some(Azure { container: "bad--container".into(), ..c.spec.storage.azure.clone().unwrap_or_default() });
        }),
        ("storage/swift/converged", "spec.storage.swift.container", "a/b", |c| {
            c.spec.storage.swift =
                Some(Swift { container: "a/b".into(), ..c.spec.storage.swift.clone().unwrap_or_default() });
        }),
        ("aws-converged", "spec.proxy.http", "::bad", |c| c.spec.proxy.http = "::bad".into()),
        ("aws-converged", "spec.proxy.https", "http://user:pw@proxy:99999", |c| {
            c.spec.proxy.https = "http://user:pw@proxy:99999".into()
        }),
        ("aws-converged", "spec.nodeSelector", "bad key!/x/y", |c| {
            c.spec.node_selector = Some([("bad key!/x/y".to_owned(), "v".to_owned())].into());
        }),
        ("aws-converged", "spec.nodeSelector", "not a value", |c| {
            c.spec.node_selector = Some([("disk".to_owned(), "not a value".to_owned())].into());
        }),
        ("aws-converged", "spec.tolerations[0].operator", "Maybe", |c| {
            c.spec.tolerations =
                Some(vec![serde_json::from_value(serde_json::json!({"key": "k", "operator": "Maybe"})).unwrap()]);
        }),
        ("aws-converged", "spec.tolerations[0].effect", "NoSchedul", |c| {
            c.spec.tolerations = Some(vec![
                serde_json::from_value(serde_json::json!({"key": "k", "operator": "Exists", "effect": "NoSchedul"}))
                    .unwrap(),
            ]);
        }),
        ("aws-converged", "spec.resources.requests[memory]", "12Qi", |c| {
            c.spec.resources =
                Some(serde_json::from_value(serde_json::json!({"requests": {"memory": "12Qi"}})).unwrap());
        }),
        ("aws-converged", "spec.resources.requests[cpu]", "3", |c| {
            c.spec.resources = Some(
                serde_json::from_value(serde_json::json!({"requests": {"cpu": "3"}, "limits": {"cpu": "2"}})).unwrap(),
            );
        }),
        (
            "aws-converged",
            "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
            "not/a/key",
            |c| {
                c.spec.affinity = Some(serde_json::from_value(serde_json::json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "not/a/key"}]}})).unwrap());
            },
        ),
        ("aws-converged", "spec.topologySpreadConstraints[0].whenUnsatisfiable", "Sometimes", |c| {
            c.spec.topology_spread_constraints = Some(vec![
                serde_json::from_value(
                    serde_json::json!({"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Sometimes"}),
                )
                .unwrap(),
            ]);
        }),
    ];
    for (name, field, value, edit) in cases {
        let mut observed = fixture(name);
        edit_config(&mut observed, edit);
        let plan = reconcile(&observed);
        for step in carried(&plan) {
            assert!(!step.contains(value), "{name}, {field} = {value:?}: a step carries it: {step}");
        }
        assert!(!plan.steps.iter().any(|s| matches!(s.action, Action::Cloud(_))), "{name}, {field}: a cloud call");
        let conditions = conditions_after(&observed, &plan);
        let degraded =
            conditions.iter().find(|c| c["type"] == "Degraded").unwrap_or_else(|| panic!("{name}: no Degraded"));
        let message = degraded["message"].as_str().unwrap_or_default();
        assert_eq!(degraded["status"], "True", "{name}, {field}: {degraded}");
        assert_eq!(degraded["reason"], "VerificationFailed", "{name}, {field}: {degraded}");
        assert!(message.contains(field), "{name}: the condition names {field}: {message}");
        if field.starts_with("spec.proxy") {
            assert!(!message.contains(value), "a proxy URL may hold a password: {message}");
        }
    }
}
