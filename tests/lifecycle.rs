//! Management states, deletion and the fixpoint, on the fixtures derived from a converged
//! cluster.

use image_registry_core::action::{Action, CloudAction, KubeAction};
use image_registry_core::reconcile;
use image_registry_core::storage::s3;
use image_registry_tests::{fixtures_dir, load};
use image_registry_world::run::{Ending, simulate};

fn plan_of(name: &str) -> image_registry_core::Plan {
    reconcile(&load(&fixtures_dir().join(format!("{name}.yaml"))).observed)
}

fn is_bucket_delete(action: &Action) -> bool {
    matches!(action, Action::Cloud(CloudAction::S3(s3::call::Call::DeleteBucket { .. })))
}

fn is_finalizer_removal(action: &Action) -> bool {
    matches!(action, Action::Kube(KubeAction::RemoveFinalizer { .. }))
}

#[test]
fn converged_cluster_plans_nothing() {
    let plan = plan_of("aws-converged");
    assert!(plan.steps.is_empty(), "{:#?}", plan.steps.iter().map(|s| s.action.describe()).collect::<Vec<_>>());
    assert_eq!(plan.exit_code(), 0);
}

#[test]
fn drift_is_reverted_exactly() {
    let plan = plan_of("aws-drifted");
    let changes: Vec<(String, Vec<String>)> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Kube(KubeAction::Apply { key, changes, new: false, .. }) => {
                Some((key.to_string(), changes.iter().map(|c| c.path.clone()).collect()))
            }
            // The revert changes the Deployment's spec; the Config reports the new generation.
            Action::Kube(KubeAction::ApplyStatus { key, changes, .. }) if key.kind == "Config" => {
                assert_eq!(
                    changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
                    ["status.generations[group=apps,resource=deployments,namespace=openshift-image-registry,name=image-registry].lastGeneration"]
                );
                None
            }
            other => panic!("unexpected {}", other.describe()),
        })
        .collect();
    assert_eq!(
        changes,
        [
            // Service ports are keyed by port and protocol: the renumbered port is another
            // item, taken back, and the operator's comes back in the same pass.
            (
                "Service openshift-image-registry/image-registry".to_owned(),
                vec!["spec.ports[port=5000,protocol=TCP]".to_owned(), "spec.ports[port=5001,protocol=TCP]".to_owned()]
            ),
            // The env var another manager added to the operator's container is taken back.
            (
                "Deployment.apps openshift-image-registry/image-registry".to_owned(),
                vec![
                    "spec.template.spec.containers[name=registry].env[name=REGISTRY_LOG_LEVEL].value".to_owned(),
                    "spec.template.spec.containers[name=registry].env[name=USER_ADDED]".to_owned()
                ]
            ),
        ]
    );
}

#[test]
fn deleting_removes_managed_storage_before_the_finalizer() {
    let plan = plan_of("deleting");
    assert!(plan.steps.iter().any(|s| is_bucket_delete(&s.action)));
    assert!(!plan.steps.iter().any(|s| is_finalizer_removal(&s.action)), "the finalizer waits for the bucket");
    let report = simulate(load(&fixtures_dir().join("deleting.yaml")).observed, 10, vec![]);
    let pass_of = |f: fn(&Action) -> bool| report.passes.iter().position(|p| p.plan.steps.iter().any(|s| f(&s.action)));
    let deleted = pass_of(is_bucket_delete).expect("the bucket is deleted");
    let released = pass_of(is_finalizer_removal).expect("the finalizer is released");
    assert!(deleted < released);
}

#[test]
fn deleting_with_unmanaged_storage_keeps_the_bucket() {
    let plan = plan_of("deleting-unmanaged-storage");
    assert!(!plan.steps.iter().any(|s| matches!(s.action, Action::Cloud(_))));
    let report = simulate(load(&fixtures_dir().join("deleting-unmanaged-storage.yaml")).observed, 10, vec![]);
    assert!(report.passes.iter().all(|p| !p.plan.steps.iter().any(|s| is_bucket_delete(&s.action))));
    assert!(report.passes.iter().any(|p| p.plan.steps.iter().any(|s| is_finalizer_removal(&s.action))));
}

#[test]
fn unmanaged_changes_only_status() {
    let plan = plan_of("unmanaged");
    assert!(plan.steps.iter().all(|s| matches!(s.action, Action::Kube(KubeAction::ApplyStatus { .. }))));
    let targets: Vec<String> = plan.steps.iter().map(|s| s.action.describe()).collect();
    assert_eq!(
        targets,
        [
            "apply status of Config.imageregistry.operator.openshift.io cluster (6 fields)",
            "apply status of ClusterOperator.config.openshift.io image-registry (6 fields)"
        ]
    );
}

#[test]
fn removed_deletes_objects_and_the_managed_bucket_then_rests() {
    let plan = plan_of("removed");
    assert_eq!(plan.steps.iter().filter(|s| matches!(s.action, Action::Kube(KubeAction::Delete { .. }))).count(), 9);
    assert!(plan.steps.iter().any(|s| is_bucket_delete(&s.action)));
    let report = simulate(load(&fixtures_dir().join("removed.yaml")).observed, 10, vec![]);
    assert_eq!(report.ending, Ending::Converged, "{}", report.summary());
    assert!(
        report.world.observed.cloud.s3.values().all(|b| b.state != image_registry_core::observed::BucketState::Exists)
    );
}

#[test]
fn routes_are_created_and_stale_operator_routes_deleted() {
    let plan = plan_of("routes");
    let lines: Vec<String> = plan.steps.iter().map(|s| s.action.describe()).collect();
    assert!(lines.contains(&"create Route.route.openshift.io openshift-image-registry/default-route".to_owned()));
    assert!(lines.contains(&"create Route.route.openshift.io openshift-image-registry/public".to_owned()));
    assert!(lines.contains(&"delete Route.route.openshift.io openshift-image-registry/old-route".to_owned()));
    assert!(!lines.iter().any(|l| l.contains("/mine")), "a user's route is never touched");
}

/// spec 10 §7.3 T2: switching the APIServer to the Modern profile reaches the registry's env in
/// the same pass, with no other trigger.
#[test]
fn tls_profile_changes_propagate_to_the_registry() {
    let mut observed = image_registry_tests::fixture("aws-converged");
    observed
        .objects
        .insert(serde_json::json!({"apiVersion": "config.openshift.io/v1", "kind": "APIServer", "metadata": {"name": "cluster"},
                                   "spec": {"tlsSecurityProfile": {"type": "Modern", "modern": {}}}}))
        .unwrap();
    let plan = reconcile(&observed);
    let patch = plan.steps.iter().find_map(|s| match &s.action {
        Action::Kube(KubeAction::Patch { patch, .. }) => Some(patch.expose().clone()),
        _ => None,
    });
    assert_eq!(patch.unwrap()["spec"]["observedConfig"]["servingInfo"]["minTLSVersion"], "VersionTLS13");
    let deployment = plan.steps.iter().find(|s| s.action.describe().starts_with("apply Deployment")).unwrap();
    let Action::Kube(KubeAction::Apply { changes, .. }) = &deployment.action else { panic!() };
    let min = changes.iter().find(|c| c.path.ends_with("env[name=REGISTRY_HTTP_TLS_MINVERSION].value")).unwrap();
    assert_eq!(min.after, Some(serde_json::json!("VersionTLS13")));
}

/// A bucket deleted behind the operator's back is reported (Degraded) and not recreated empty,
/// and the cluster does not hot-loop over it.
#[test]
fn storage_deleted_behind_the_operators_back() {
    use image_registry_world::World;
    use image_registry_world::events::Event;
    let mut world = World::new(image_registry_tests::fixture("aws-converged"));
    world.apply(&Event::StorageDeleted);
    let report = simulate(world.observed.clone(), 6, vec![]);
    assert_eq!(report.ending, Ending::Converged, "{}", report.summary());
    assert_eq!(report.cloud_mutations, 0, "nothing is recreated");
    let config: image_registry_core::api::Config = report.world.observed.objects.get("", "cluster").unwrap().unwrap();
    let degraded = config.status.unwrap().conditions.into_iter().find(|c| c.type_ == "Degraded").unwrap();
    assert_eq!(degraded.reason, "StorageMissing");
}

/// Zero or several backends give the spec's errors.
#[test]
fn exactly_one_storage_backend() {
    let mut observed = image_registry_tests::fixture("aws-converged");
    image_registry_tests::edit_config(&mut observed, |c| c.spec.storage.empty_dir = Some(Default::default()));
    let plan = reconcile(&observed);
    assert!(plan.errors.iter().any(|e| {
        e.message.contains("exactly one storage type should be configured at the same time, got 2: [EmptyDir S3]")
    }));
    let mut bare = image_registry_tests::fixture("aws-converged");
    bare.objects
        .insert(serde_json::json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": {"name": "cluster"},
                                   "status": {"infrastructureName": "mycluster-x7k2p", "platformStatus": {"type": "BareMetal"}}}))
        .unwrap();
    image_registry_tests::edit_config(&mut bare, |c| c.spec.storage = Default::default());
    let plan = reconcile(&bare);
    let status = plan.steps.iter().find_map(|s| match &s.action {
        Action::Kube(KubeAction::ApplyStatus { key, object, .. }) if key.kind == "Config" => {
            Some(object.expose().clone())
        }
        _ => None,
    });
    let conditions = status.unwrap()["status"]["conditions"].clone();
    let degraded = conditions.as_array().unwrap().iter().find(|c| c["type"] == "Degraded").unwrap().clone();
    assert_eq!(
        (degraded["reason"].as_str(), degraded["message"].as_str()),
        (Some("StorageNotConfigured"), Some("Error: storage backend not configured"))
    );
}

#[test]
fn an_object_already_being_deleted_is_waited_for_not_deleted_again() {
    // Foreground deletion keeps the Deployment (with a finalizer) until its pods are gone.
    let mut observed = load(&fixtures_dir().join("removed.yaml")).observed;
    let key = image_registry_core::ObjectKey {
        group: "apps".into(),
        kind: "Deployment".into(),
        namespace: "openshift-image-registry".into(),
        name: "image-registry".into(),
    };
    let first = reconcile(&observed);
    let deletes = |plan: &image_registry_core::Plan| {
        plan.steps
            .iter()
            .filter(|s| matches!(&s.action, Action::Kube(KubeAction::Delete { key: k, .. }) if *k == key))
            .count()
    };
    assert_eq!(deletes(&first), 1, "the Removed registry's Deployment is deleted");
    let mut terminating = observed.objects.raw(&key).unwrap().clone();
    terminating["metadata"]["deletionTimestamp"] = serde_json::json!("2026-01-01T00:00:00Z");
    terminating["metadata"]["finalizers"] = serde_json::json!(["foregroundDeletion"]);
    observed.objects.insert_at(key.clone(), terminating);
    let second = reconcile(&observed);
    assert_eq!(deletes(&second), 0, "no second DELETE while it terminates");
}

/// The Config status a plan writes.
fn config_conditions(plan: &image_registry_core::Plan) -> Vec<(String, String, String, String)> {
    plan.steps
        .iter()
        .find_map(|s| match &s.action {
            Action::Kube(KubeAction::ApplyStatus { key, object, .. }) if key.kind == "Config" => {
                Some(object.expose()["status"]["conditions"].as_array().cloned().unwrap_or_default())
            }
            _ => None,
        })
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (text("type"), text("status"), text("reason"), text("message"))
        })
        .collect()
}

/// A condition of the ClusterOperator status a plan writes.
fn operator_condition(plan: &image_registry_core::Plan, type_: &str) -> serde_json::Value {
    let co = plan.steps.iter().find(|s| s.action.describe().starts_with("apply status of ClusterOperator")).unwrap();
    let Action::Kube(KubeAction::ApplyStatus { object, .. }) = &co.action else { panic!() };
    let conditions = object.expose()["status"]["conditions"].as_array().unwrap().clone();
    conditions.into_iter().find(|c| c["type"] == type_).unwrap()
}

/// A write that failed in the last pass makes Progressing say so (with the object and the
/// server's message); failing for longer than the inertia makes the Config Degraded.
#[test]
fn a_failing_write_reaches_the_conditions_and_degrades_after_the_inertia() {
    use image_registry_core::outcome::{ErrorClass, Outcome, OutcomeResult};
    let mut observed = load(&fixtures_dir().join("aws-converged.yaml")).observed;
    let id = "kube/apply/Service openshift-image-registry/image-registry";
    let message = r#"Service "image-registry" is invalid: spec.ports[1].name: Duplicate value: "5000-tcp""#;
    observed.outcomes = vec![Outcome {
        action_id: id.into(),
        result: OutcomeResult::Failed { class: ErrorClass::Invalid, message: message.into() },
    }];
    let plan = reconcile(&observed);
    let conditions = config_conditions(&plan);
    let find = |t: &str| conditions.iter().find(|c| c.0 == t).cloned().unwrap();
    let progressing = find("Progressing");
    assert_eq!((progressing.1.as_str(), progressing.2.as_str()), ("True", "Error"));
    assert!(progressing.3.contains(id) && progressing.3.contains(message), "{progressing:?}");
    assert_eq!(find("Degraded").1, "False");
    assert!(plan.memory.failing_since.contains_key("registry-writes"));
    assert!(plan.requeue_after_seconds.is_some_and(|s| s <= 301));
    // Six minutes into the streak.
    observed.memory.failing_since.insert("registry-writes".into(), observed.now - jiff::SignedDuration::from_secs(360));
    let plan = reconcile(&observed);
    let degraded = config_conditions(&plan).into_iter().find(|c| c.0 == "Degraded").unwrap();
    assert_eq!((degraded.1.as_str(), degraded.2.as_str()), ("True", "WriteFailing"));
    assert!(degraded.3.contains(message));
    let co_degraded = operator_condition(&plan, "Degraded");
    assert_eq!(co_degraded["status"], "True", "{co_degraded}");
    // Once the write succeeds, the streak ends.
    observed.outcomes.clear();
    assert!(!reconcile(&observed).memory.failing_since.contains_key("registry-writes"));
    // A server briefly unavailable is an ordinary disturbance: Progressing, never Degraded.
    observed.outcomes = vec![Outcome {
        action_id: id.into(),
        result: OutcomeResult::Failed { class: ErrorClass::Unavailable, message: "etcdserver: leader changed".into() },
    }];
    let plan = reconcile(&observed);
    let conditions = config_conditions(&plan);
    assert_eq!(conditions.iter().find(|c| c.0 == "Progressing").unwrap().1, "True");
    assert_eq!(conditions.iter().find(|c| c.0 == "Degraded").unwrap().1, "False");
    assert!(!plan.memory.failing_since.contains_key("registry-writes"));
}

/// The config observer's condition, as the reference writes it: `ConfigObservationDegraded`
/// False with no reason while the APIServer can be read; True naming the object when it cannot,
/// and the ClusterOperator is Degraded with it.
#[test]
fn config_observation_is_reported_and_degrades_when_the_apiserver_cannot_be_read() {
    let observed = load(&fixtures_dir().join("aws-converged.yaml")).observed;
    assert_eq!(reconcile(&observed).exit_code(), 0, "the converged fixture already carries it");
    let config: image_registry_core::api::Config = observed.objects.get("", "cluster").unwrap().unwrap();
    let condition =
        config.status.unwrap().conditions.into_iter().find(|c| c.type_ == "ConfigObservationDegraded").unwrap();
    assert_eq!((condition.status, condition.reason.as_str()), (image_registry_core::api::ConditionStatus::False, ""));
    let mut broken = observed.clone();
    let key = image_registry_core::ObjectKey {
        group: "config.openshift.io".into(),
        kind: "APIServer".into(),
        namespace: String::new(),
        name: "cluster".into(),
    };
    let mut api_server = broken.objects.raw(&key).unwrap().clone();
    api_server["spec"]["tlsSecurityProfile"] = serde_json::json!({"type": 5});
    broken.objects.insert(api_server).unwrap();
    let plan = reconcile(&broken);
    let conditions = config_conditions(&plan);
    let observation = conditions.iter().find(|c| c.0 == "ConfigObservationDegraded").unwrap();
    assert_eq!((observation.1.as_str(), observation.2.as_str()), ("True", "Error"));
    assert!(observation.3.contains("apiservers.config.openshift.io/cluster"), "{observation:?}");
    let degraded = operator_condition(&plan, "Degraded");
    assert_eq!(degraded["status"], "True", "{degraded}");
    assert!(degraded["reason"].as_str().unwrap().contains("ConfigObservation"), "{degraded}");
}

/// The Events of a fresh install, pass by pass through the world model: the reference's seven
/// occasions (its Deployment, DaemonSet and two NetworkPolicies created, the TLS profile's two
/// settings observed; leadership is the shell's), the bucket created, and none once converged.
#[test]
fn a_fresh_install_records_the_references_events_and_none_at_the_fixpoint() {
    use image_registry_core::events::{Severity, of_pass};
    let report = simulate(load(&fixtures_dir().join("aws-fresh.yaml")).observed, 10, vec![]);
    assert_eq!(report.ending, Ending::Converged);
    let config = |pass: &image_registry_world::run::PassRecord| {
        pass.observed.objects.iter().find(|(k, _)| k.kind == "Config" && k.name == "cluster").map(|(_, v)| v.clone())
    };
    let notes: Vec<_> = report.passes.iter().flat_map(|p| of_pass(config(p).as_ref(), &p.plan, &p.outcomes)).collect();
    let mut reasons: Vec<&str> = notes.iter().map(|n| n.reason.as_str()).collect();
    reasons.sort_unstable();
    assert_eq!(
        reasons,
        [
            "DaemonSetCreated",
            "DeploymentCreated",
            "NetworkPolicyCreated",
            "NetworkPolicyCreated",
            "ObserveTLSSecurityProfile",
            "ObserveTLSSecurityProfile",
            "StorageCreated"
        ],
        "{notes:#?}"
    );
    assert!(notes.iter().all(|n| n.severity == Severity::Normal));
    let tls: Vec<&str> = notes.iter().filter(|n| n.action.starts_with("Observe")).map(|n| n.message.as_str()).collect();
    assert!(tls.contains(&"minTLSVersion changed to VersionTLS12"), "{tls:?}");
    let last = report.passes.last().unwrap();
    assert!(of_pass(config(last).as_ref(), &last.plan, &last.outcomes).is_empty());
}

/// Taking over a cluster the reference operator converged (`fixtures/adopt-from-reference-
/// emptydir.yaml`, exported from it): no pod template changes (no registry, node-ca or pruner
/// rollout), no create, no delete, no cloud call. What is left is listed in docs/operations.md:
/// the checksum annotations (the reference digests its desired objects in Go's encoding) and
/// the conditions the reference does not write.
#[test]
fn taking_over_from_the_reference_rolls_nothing() {
    let plan = plan_of("adopt-from-reference-emptydir");
    let mut writes = Vec::new();
    for step in &plan.steps {
        match &step.action {
            Action::Cloud(call) => panic!("a cloud call on adoption: {call:?}"),
            Action::Kube(KubeAction::Apply { key, new, changes, .. }) => {
                assert!(!new, "{key} would be created");
                for change in changes {
                    let template =
                        change.path.starts_with("spec.template") || change.path.starts_with("spec.jobTemplate");
                    assert!(!template, "{key}: {} changes a pod template", change.path);
                    writes.push(format!("{} {}", key.kind, change.path));
                }
            }
            Action::Kube(KubeAction::ApplyStatus { key, .. }) => writes.push(format!("{} status", key.kind)),
            Action::Kube(_) => panic!("unexpected on adoption: {}", step.action.describe()),
        }
    }
    let annotation = "metadata.annotations.imageregistry.operator.openshift.io/checksum";
    let other: Vec<&String> = writes
        .iter()
        .filter(|w| !w.ends_with(annotation) && !w.ends_with("metadata.annotations") && !w.ends_with(" status"))
        .collect();
    assert_eq!(other, Vec::<&String>::new(), "only checksum annotations and status");
}

/// Hostnames another writer published (the reference, before a take-over) are cleared on
/// Removed and the operator comes to rest: leaving a field out of an apply does not clear what
/// another manager owns, which once made every pass plan the same clearing.
#[test]
fn removed_after_taking_over_clears_the_references_hostnames_and_rests() {
    let mut observed = load(&fixtures_dir().join("adopt-from-reference-emptydir.yaml")).observed;
    image_registry_tests::edit_config(&mut observed, |c| c.spec.management_state = "Removed".into());
    let report = simulate(observed, 10, vec![]);
    assert_eq!(report.ending, Ending::Converged, "{} passes", report.passes.len());
    let last = &report.passes.last().unwrap().observed;
    let image = last.objects.iter().find(|(k, _)| k.kind == "Image" && k.name == "cluster").unwrap().1;
    assert_eq!(image["status"]["internalRegistryHostname"], "", "{image}");
}

/// Exactly one storage in `status.storage` after a swap (the reference's TestSwapStorage), on a
/// cluster taken over from the reference: its status was written by the reference's updates, so
/// server-side apply alone would leave the old backend beside the new one forever.
#[test]
fn a_storage_swap_after_a_take_over_leaves_exactly_the_new_backend_in_status() {
    let taken_over = simulate(image_registry_tests::fixture("adopt-from-reference-emptydir"), 10, vec![]);
    assert!(matches!(taken_over.ending, image_registry_world::run::Ending::Converged), "{:?}", taken_over.ending);
    let mut observed = taken_over.world.observed.clone();
    let status = |o: &image_registry_core::Observed| {
        let config = o.objects.get::<image_registry_core::api::Config>("", "cluster").unwrap().unwrap();
        serde_json::to_value(config.status.unwrap().storage).unwrap()
    };
    assert_eq!(status(&observed), serde_json::json!({"emptyDir": {}, "managementState": "Managed"}));
    image_registry_tests::edit_config(&mut observed, |c| {
        c.spec.storage = serde_json::from_value(serde_json::json!({"pvc": {"claim": ""}})).unwrap();
    });
    let report = simulate(observed, 10, vec![]);
    assert!(matches!(report.ending, image_registry_world::run::Ending::Converged), "{:?}", report.ending);
    assert_eq!(
        status(&report.world.observed),
        serde_json::json!({"managementState": "Managed", "pvc": {"claim": "image-registry-storage"}})
    );
}

/// `simulate --write-final` keeps who owns which field (`managedFields`), so a simulation
/// continued from the written state behaves as the cluster would: the ownership round-trips,
/// and a storage swap continued from it ends with exactly the new backend in status.
#[test]
fn a_swap_continued_from_a_written_final_state_leaves_exactly_the_new_backend() {
    use image_registry_core::fixture;
    use image_registry_world::World;
    let converged = simulate(image_registry_tests::fixture("aws-fresh"), 20, vec![]);
    assert!(matches!(converged.ending, image_registry_world::run::Ending::Converged), "{:?}", converged.ending);
    let written = fixture::render("final", &converged.world.snapshot()).unwrap();
    assert!(written.contains("managedFields") && written.contains("manager: cluster-image-registry-operator"));
    let reloaded = fixture::parse("final.yaml", &written).unwrap().observed;
    let again = fixture::render("final", &World::new(reloaded.clone()).snapshot()).unwrap();
    let differing: Vec<(&str, &str)> = written.lines().zip(again.lines()).filter(|(a, b)| a != b).take(5).collect();
    assert!(differing.is_empty() && written.len() == again.len(), "ownership did not round-trip: {differing:?}");
    let mut observed = reloaded;
    image_registry_tests::edit_config(&mut observed, |c| {
        c.spec.storage = serde_json::from_value(serde_json::json!({"emptyDir": {}})).unwrap();
    });
    let report = simulate(observed, 10, vec![]);
    assert!(matches!(report.ending, image_registry_world::run::Ending::Converged), "{:?}", report.ending);
    let config = report.world.observed.objects.get::<image_registry_core::api::Config>("", "cluster").unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(config.status.unwrap().storage).unwrap(),
        serde_json::json!({"emptyDir": {}, "managementState": "Managed"})
    );
}
