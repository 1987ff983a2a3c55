//! The operator's manifests: RBAC no wider than the reference's (spec 40 §8.3) plus the
//! documented server-side-apply additions, and wide enough for everything the shell does:
//! every watch, list and direct read, and every write any fixture's plan makes.

use std::collections::BTreeSet;

use image_registry_core::action::{Action, KubeAction};
use image_registry_core::api::Kind;
use image_registry_core::fixture;
use image_registry_world::run::simulate;
use serde_json::Value;

type Grant = (String, String, String); // (apiGroup, resource, verb)

const ALL: &str = "CDGLPUW";

/// The reference's ClusterRole and Role (spec 40 §8.3), verbs abbreviated.
const REFERENCE_CLUSTER: &[(&str, &[&str], &str)] = &[
    ("imageregistry.operator.openshift.io", &["configs", "configs/status", "imagepruners", "imagepruners/status"], ALL),
    ("config.openshift.io", &["images", "images/status"], "CGLPUW"),
    ("config.openshift.io", &["apiservers", "clusterversions", "featuregates", "infrastructures"], "GLW"),
    ("", &["namespaces"], "G"),
    ("", &["configmaps", "events", "persistentvolumeclaims", "pods", "secrets", "services", "serviceaccounts"], ALL),
    ("rbac.authorization.k8s.io", &["clusterroles", "clusterrolebindings"], ALL),
    ("", &["limitranges", "resourcequotas", "nodes"], "L"),
    ("route.openshift.io", &["routes", "routes/custom-host"], ALL),
    ("config.openshift.io", &["clusteroperators", "clusteroperators/status"], "CGLWUD"),
    ("config.openshift.io", &["proxies"], "LGW"),
    ("batch", &["cronjobs", "jobs"], "GL"),
    ("apps", &["daemonsets", "deployments", "replicasets", "statefulsets"], "GL"),
    ("", &["replicationcontrollers"], "GL"),
    ("apps.openshift.io", &["deploymentconfigs"], "GL"),
    ("build.openshift.io", &["buildconfigs", "builds"], "GL"),
    ("image.openshift.io", &["images"], "GUCDLW"),
    ("image.openshift.io", &["imagestreams"], "GLWU"),
    ("image.openshift.io", &["imagestreams/status"], "U"),
    ("image.openshift.io", &["imagestreamimages", "imagestreams/layers", "imagestreams/secrets"], "G"),
    ("image.openshift.io", &["imagestreammappings"], "C"),
    ("image.openshift.io", &["imagestreamtags"], "D"),
    ("config.openshift.io", &["imagedigestmirrorsets", "imagetagmirrorsets"], "L"),
    ("operator.openshift.io", &["imagecontentsourcepolicies"], "L"),
    ("authorization.k8s.io", &["subjectaccessreviews"], "C"),
];

const REFERENCE_ROLE: &[(&str, &[&str], &str)] = &[
    ("apps", &["daemonsets", "deployments", "replicasets", "statefulsets"], ALL),
    ("batch", &["cronjobs", "jobs"], ALL),
    ("coordination.k8s.io", &["leases"], ALL),
    ("policy", &["poddisruptionbudgets"], ALL),
    ("networking.k8s.io", &["networkpolicies"], ALL),
];

/// Server-side apply patches where the reference updated (docs/differences.md).
const ADDED: &[(&str, &str, &str)] = &[
    ("config.openshift.io", "clusteroperators", "patch"),
    ("config.openshift.io", "clusteroperators/status", "patch"),
];

/// Events through `events.k8s.io` where the reference wrote core Events (the same objects on a
/// real API server; docs/differences.md).
const ADDED_IN_NAMESPACE: &[(&str, &str, &str)] =
    &[("events.k8s.io", "events", "create"), ("events.k8s.io", "events", "patch")];

fn verb(letter: char) -> &'static str {
    match letter {
        'C' => "create",
        'D' => "delete",
        'G' => "get",
        'L' => "list",
        'P' => "patch",
        'U' => "update",
        'W' => "watch",
        other => panic!("unknown verb letter {other}"),
    }
}

fn table(rows: &[(&str, &[&str], &str)]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for (group, resources, verbs) in rows {
        for resource in *resources {
            for letter in verbs.chars() {
                out.insert(((*group).to_owned(), (*resource).to_owned(), verb(letter).to_owned()));
            }
        }
    }
    out
}

fn manifest_rules(kind: &str) -> BTreeSet<Grant> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests/02-rbac.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let docs = fixture::documents(path, &text).unwrap();
    let role = docs.iter().find(|d| d.value["kind"] == kind).unwrap();
    let mut out = BTreeSet::new();
    for rule in role.value["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    out.insert((
                        group.as_str().unwrap().to_owned(),
                        resource.as_str().unwrap().to_owned(),
                        verb.as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn rbac_is_no_wider_than_the_reference() {
    let mut allowed = table(REFERENCE_CLUSTER);
    allowed.extend(ADDED.iter().map(|(g, r, v)| ((*g).to_owned(), (*r).to_owned(), (*v).to_owned())));
    let wider: Vec<_> = manifest_rules("ClusterRole").difference(&allowed).cloned().collect();
    assert_eq!(wider, Vec::<Grant>::new(), "ClusterRole grants beyond the reference");
    let mut allowed = table(REFERENCE_ROLE);
    allowed.extend(ADDED_IN_NAMESPACE.iter().map(|(g, r, v)| ((*g).to_owned(), (*r).to_owned(), (*v).to_owned())));
    let wider: Vec<_> = manifest_rules("Role").difference(&allowed).cloned().collect();
    assert_eq!(wider, Vec::<Grant>::new(), "Role grants beyond the reference");
}

fn plural(group: &str, kind: &str) -> String {
    Kind::find(group, kind).map(|k| k.plural.to_owned()).unwrap_or_else(|| panic!("unknown kind {kind}.{group}"))
}

fn needs(group: &str, resource: &str, verbs: &[&str]) -> Vec<Grant> {
    verbs.iter().map(|v| (group.to_owned(), resource.to_owned(), (*v).to_owned())).collect()
}

#[test]
fn rbac_grants_everything_the_shell_does() {
    let mut granted = manifest_rules("ClusterRole");
    granted.extend(manifest_rules("Role"));
    let mut needed: BTreeSet<Grant> = BTreeSet::new();
    // Watches, per-pass lists and direct reads.
    for source in image_registry_operator::observe::sources().unwrap() {
        needed.extend(needs(source.kind.group, source.kind.plural, &["list", "watch"]));
    }
    for (group, kind) in image_registry_operator::observe::LISTED {
        needed.extend(needs(group, &plural(group, kind), &["list"]));
    }
    needed.extend(needs("imageregistry.operator.openshift.io", "configs", &["get"]));
    needed.extend(needs("", "namespaces", &["get"]));
    needed.extend(needs("", "secrets", &["get"]));
    needed.extend(needs("coordination.k8s.io", "leases", &["get", "create", "update"]));
    needed.extend(needs("events.k8s.io", "events", &["create", "patch"]));
    needed.extend(needs("apps", "deployments", &["get"])); // the dry-run reads the operator's settings
    // Every write any fixture's simulated convergence makes.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let mut files: Vec<_> = walk(std::path::Path::new(dir));
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let Ok(parsed) = fixture::parse(&file.display().to_string(), &text) else { continue };
        for pass in simulate(parsed.observed, 10, Vec::new()).passes {
            for step in pass.plan.steps {
                let Action::Kube(action) = step.action else { continue };
                let key = action.key();
                let resource = plural(&key.group, &key.kind);
                let (resource, verbs): (String, &[&str]) = match action {
                    KubeAction::Create { .. } => (resource, &["create"]),
                    KubeAction::Apply { .. } => (resource, &["patch", "create"]),
                    KubeAction::ApplyStatus { .. } => (format!("{resource}/status"), &["patch"]),
                    KubeAction::Patch { .. } | KubeAction::AddFinalizer { .. } | KubeAction::RemoveFinalizer { .. } => {
                        (resource, &["patch", "get"])
                    }
                    KubeAction::Delete { .. } => (resource, &["delete"]),
                };
                needed.extend(needs(&key.group, &resource, verbs));
            }
        }
    }
    let missing: Vec<_> = needed.difference(&granted).cloned().collect();
    assert_eq!(missing, Vec::<Grant>::new(), "the shell needs grants the manifests lack");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out
}

#[test]
fn every_manifest_parses_and_names_its_namespace() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests");
    for path in walk(std::path::Path::new(dir)) {
        let text = std::fs::read_to_string(&path).unwrap();
        let docs = fixture::documents(&path.display().to_string(), &text).unwrap();
        assert!(!docs.is_empty(), "{}", path.display());
        for doc in docs {
            let namespace = doc.value.pointer("/metadata/namespace").and_then(Value::as_str);
            // CredentialsRequests live where the cloud-credential-operator reads them.
            let expected = if doc.value["kind"] == "CredentialsRequest" {
                "openshift-cloud-credential-operator"
            } else {
                "openshift-image-registry"
            };
            assert!(namespace.is_none_or(|ns| ns == expected), "{}", path.display());
        }
    }
}

/// The release's two NetworkPolicies ship with the operator: a default deny for the namespace,
/// and the operator's own (metrics in, anything out). Every pod the operator runs there has a
/// policy of its own that admits its traffic, or the default deny would cut it off.
#[test]
fn the_namespace_denies_by_default_and_every_pod_has_its_own_policy() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests/09-networkpolicies.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let docs = fixture::documents(path, &text).unwrap();
    let by_name = |name: &str| docs.iter().find(|d| d.value["metadata"]["name"] == name).unwrap().value.clone();
    let deny = by_name("default-deny-all");
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    assert!(deny["spec"].get("ingress").is_none() && deny["spec"].get("egress").is_none());
    let operator = by_name("image-registry-operator-networkpolicy");
    assert_eq!(operator["spec"]["podSelector"]["matchLabels"]["name"], "cluster-image-registry-operator");
    assert_eq!(operator["spec"]["ingress"][0]["ports"][0]["port"], 60000);
    assert_eq!(operator["spec"]["egress"][0], serde_json::json!({}));
    // The operator Deployment's pods carry the label the policy selects.
    let deployment =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests/07-operator.yaml")).unwrap();
    assert!(deployment.contains("        name: cluster-image-registry-operator"));
    // The operator's own policies cover the registry and the pruner on a cluster it set up.
    let converged = image_registry_tests::fixture("aws-converged");
    let policies: Vec<String> =
        converged.objects.iter().filter(|(k, _)| k.kind == "NetworkPolicy").map(|(k, _)| k.name.clone()).collect();
    assert_eq!(policies, ["image-pruner-networkpolicy", "image-registry-networkpolicy"]);
}

/// The operator's pod has what its cloud clients read: the cluster's CA bundle where `run`
/// looks by default (ConfigMap `trusted-ca`, shipped create-only for the network operator to
/// fill, optional in the pod), and the projected service-account token (audience `openshift`)
/// where the credentials minted for STS / workload identity point.
#[test]
fn the_operators_pod_mounts_the_cluster_ca_bundle_and_the_bound_token() {
    let read = |name: &str| {
        let path = format!("{}/../manifests/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        fixture::documents(&path, &text).unwrap().into_iter().map(|d| d.value).collect::<Vec<Value>>()
    };
    let trusted = read("04-ca-trusted.yaml");
    assert_eq!(trusted[0]["kind"], "ConfigMap");
    assert_eq!(trusted[0]["metadata"]["name"], "trusted-ca");
    assert_eq!(trusted[0]["metadata"]["labels"]["config.openshift.io/inject-trusted-cabundle"], "true");
    assert_eq!(trusted[0]["metadata"]["annotations"]["release.openshift.io/create-only"], "true");
    assert!(trusted[0].get("data").is_none(), "the network operator fills it");

    let deployment = read("07-operator.yaml").into_iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let volume = |name: &str| pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap().clone();
    let mounted = |name: &str| {
        pod["containers"][0]["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap()["mountPath"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let ca = volume("trusted-ca");
    assert_eq!(ca["configMap"]["name"], "trusted-ca");
    assert_eq!(ca["configMap"]["optional"], true);
    let item = &ca["configMap"]["items"][0];
    let bundle = format!("{}/{}", mounted("trusted-ca"), item["path"].as_str().unwrap());
    assert_eq!(item["key"], "ca-bundle.crt");
    assert_eq!(bundle, image_registry_operator::cloud::trust::CLUSTER_BUNDLE);

    let token = &volume("bound-sa-token")["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(token["audience"], "openshift");
    let path = format!("{}/{}", mounted("bound-sa-token"), token["path"].as_str().unwrap());
    assert_eq!(path, "/var/run/secrets/openshift/serviceaccount/token");
}

/// The AWS CredentialsRequest grants exactly what the operator's S3 calls and the registry's
/// data path need (the reference fixed missing or surplus permissions at least four times).
#[test]
fn the_aws_credentials_request_grants_exactly_what_the_s3_calls_and_the_registry_need() {
    use image_registry_core::api::openshift::KeyValue;
    use image_registry_core::storage::s3::call::{Call, S3Target};
    use image_registry_operator::cloud::s3::permissions;
    let target = S3Target {
        bucket: "b".into(),
        region: "us-east-1".into(),
        endpoint: String::new(),
        virtual_hosted_style: false,
        dual_stack: true,
    };
    let tag = KeyValue { key: "k".into(), value: "v".into() };
    let every = [
        Call::CreateBucket { target: target.clone() },
        Call::PutPublicAccessBlock { target: target.clone() },
        Call::PutBucketTagging { target: target.clone(), tags: vec![tag.clone()] },
        Call::PutBucketEncryption { target: target.clone(), kms_key_id: String::new() },
        Call::PutLifecycleConfiguration { target: target.clone() },
        Call::DeleteBucket { target, require_tag: tag },
    ];
    let mut derived: BTreeSet<String> = permissions::REGISTRY.iter().map(|a| (*a).to_owned()).collect();
    let calls = every.iter().flat_map(|a| permissions::calls(a).iter()).chain(permissions::OBSERVE.iter());
    derived.extend(calls.flat_map(|(_, actions)| actions.iter().map(|a| (*a).to_owned())));
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/01-registry-credentials-request.yaml");
    let manifest: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        manifest["spec"]["serviceAccountNames"],
        serde_json::json!(["cluster-image-registry-operator", "registry"])
    );
    let granted: BTreeSet<String> = manifest["spec"]["providerSpec"]["statementEntries"][0]["action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(granted, derived, "granted (left) vs needed (right)");
}

/// The GCP CredentialsRequest grants exactly what the operator's GCS and Resource Manager calls
/// and the registry's data path need.
/// `manifests/01-registry-credentials-request-<cloud>.yaml`, checked to be of `kind` and to mint
/// the secret the operator reads.
fn credentials_request(cloud: &str, kind: &str) -> Value {
    let name = format!("../manifests/01-registry-credentials-request-{cloud}.yaml");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let manifest: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(manifest["spec"]["providerSpec"]["kind"], kind);
    assert_eq!(manifest["spec"]["secretRef"]["name"], "installer-cloud-credentials");
    manifest
}

/// What a client's permissions table and the registry's data path need, as a set.
fn derived(calls: &[(&str, &[&str])], registry: &[&str]) -> BTreeSet<String> {
    calls.iter().flat_map(|(_, needs)| needs.iter()).chain(registry).map(|p| (*p).to_owned()).collect()
}

/// A list field of the provider spec, as a set.
fn granted(manifest: &Value, field: &str) -> BTreeSet<String> {
    let list = manifest["spec"]["providerSpec"][field].as_array().unwrap();
    list.iter().map(|p| p.as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_gcp_credentials_request_grants_exactly_what_the_gcs_calls_and_the_registry_need() {
    use image_registry_operator::cloud::gcs::permissions;
    let derived = derived(permissions::CALLS, permissions::REGISTRY);
    let manifest = credentials_request("gcs", "GCPProviderSpec");
    assert_eq!(granted(&manifest, "permissions"), derived, "granted (left) vs needed (right)");
    // What docs/storage.md and difference 51 say: the reference's list (spec 30 §1.9) less
    // `storage.buckets.list`, which nothing calls, plus `storage.buckets.update` (the label patch).
    let reference = [
        "storage.buckets.create",
        "storage.buckets.delete",
        "storage.buckets.get",
        "storage.buckets.list",
        "storage.buckets.createTagBinding",
        "storage.buckets.listEffectiveTags",
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
        "resourcemanager.tagValueBindings.create",
        "resourcemanager.tagValues.get",
        "resourcemanager.tagValues.list",
    ];
    let mut expected: BTreeSet<String> = reference.iter().map(|p| (*p).to_owned()).collect();
    expected.remove("storage.buckets.list");
    expected.insert("storage.buckets.update".to_owned());
    assert_eq!(granted(&manifest, "permissions"), expected, "the documented difference from the reference");
}

/// OpenStack's request asks for the cluster's `clouds.yaml` in the secret the Swift client
/// reads, for both service accounts, and grants nothing else (OpenStack has no per-call list).
#[test]
fn the_openstack_credentials_request_mints_the_secret_the_swift_client_reads() {
    let manifest = credentials_request("openstack", "OpenStackProviderSpec");
    assert_eq!(manifest["metadata"]["name"], "openshift-image-registry-openstack");
    assert_eq!(
        manifest["spec"]["providerSpec"],
        serde_json::json!({
        "apiVersion": "cloudcredential.openshift.io/v1", "kind": "OpenStackProviderSpec"})
    );
    assert_eq!(
        manifest["spec"]["secretRef"],
        serde_json::json!({"name": image_registry_core::names::INSTALLER_CREDENTIALS_SECRET,
            "namespace": image_registry_core::names::NAMESPACE})
    );
    assert_eq!(
        manifest["spec"]["serviceAccountNames"],
        serde_json::json!(["cluster-image-registry-operator", "registry"])
    );
}

#[test]
fn the_azure_credentials_request_grants_exactly_what_the_azure_calls_and_the_registry_need() {
    use image_registry_operator::cloud::azure::permissions;
    let derived = derived(permissions::CALLS, permissions::REGISTRY);
    let data: BTreeSet<String> = permissions::REGISTRY_DATA.iter().map(|p| (*p).to_owned()).collect();
    let manifest = credentials_request("azure", "AzureProviderSpec");
    assert_eq!(granted(&manifest, "permissions"), derived, "granted (left) vs needed (right)");
    assert_eq!(granted(&manifest, "dataPermissions"), data, "data: granted (left) vs needed (right)");
}

/// IBM Cloud's and Power VS's requests grant exactly the roles the IBM Cloud calls need, in the
/// reference's two policies (the COS service; resource groups); every call the client made
/// against the double is in the table (tests/ibmcos.rs).
#[test]
fn the_ibm_credentials_requests_grant_exactly_what_the_ibm_cloud_calls_need() {
    use image_registry_operator::cloud::ibmcos::permissions::{CALLS, COS, RESOURCE_GROUP};
    for (cloud, kind, name) in [
        ("ibmcos", "IBMCloudProviderSpec", "openshift-image-registry-ibmcos"),
        ("powervs", "IBMCloudPowerVSProviderSpec", "openshift-image-registry-ibmcos-powervs"),
    ] {
        let manifest = credentials_request(cloud, kind);
        assert_eq!(manifest["metadata"]["name"], name);
        let mut granted: BTreeSet<(String, String)> = BTreeSet::new();
        for policy in manifest["spec"]["providerSpec"]["policies"].as_array().unwrap() {
            let attribute = &policy["attributes"][0];
            let scope = format!("{}={}", attribute["name"].as_str().unwrap(), attribute["value"].as_str().unwrap());
            assert!([COS, RESOURCE_GROUP].contains(&scope.as_str()), "{scope}");
            for role in policy["roles"].as_array().unwrap() {
                granted.insert((scope.clone(), role.as_str().unwrap().to_owned()));
            }
        }
        let needed: BTreeSet<(String, String)> = CALLS
            .iter()
            .flat_map(|(_, needs)| needs.iter())
            .map(|(scope, role)| ((*scope).to_owned(), (*role).to_owned()))
            .collect();
        assert_eq!(granted, needed, "{cloud}: granted (left) vs needed (right)");
    }
}

/// Profiles, as the `include.release.openshift.io/<profile>` annotations name them.
const HS: &str = "hypershift";
const IBM: &str = "ibm-cloud-managed";
const SH: &str = "self-managed-high-availability";
const SNO: &str = "single-node-developer";
const EVERY: &[&str] = &[HS, IBM, SH, SNO];
const SELF_MANAGED: &[&str] = &[SH, SNO];
const NS: &str = "openshift-image-registry";
const CCO: &str = "openshift-cloud-credential-operator";

/// The reference's manifest set (its manifests/ folder; spec 40 §7.4, §8.2, §8.5, §8.6): kind,
/// name, namespace, the profiles it is included in, and its capability annotation.
const REFERENCE_SET: &[(&str, &str, &str, &[&str], &str)] = &[
    ("Namespace", NS, "", EVERY, "ImageRegistry"),
    ("CustomResourceDefinition", "configs.imageregistry.operator.openshift.io", "", &[IBM, SH], ""),
    ("CustomResourceDefinition", "imagepruners.imageregistry.operator.openshift.io", "", &[IBM, SH], ""),
    ("CredentialsRequest", "openshift-image-registry", CCO, EVERY, "ImageRegistry+CloudCredential"),
    ("CredentialsRequest", "openshift-image-registry-azure", CCO, EVERY, "ImageRegistry+CloudCredential"),
    ("CredentialsRequest", "openshift-image-registry-gcs", CCO, EVERY, "ImageRegistry+CloudCredential"),
    ("CredentialsRequest", "openshift-image-registry-ibmcos", CCO, EVERY, "ImageRegistry+CloudCredential"),
    ("CredentialsRequest", "openshift-image-registry-ibmcos-powervs", CCO, EVERY, "ImageRegistry+CloudCredential"),
    ("CredentialsRequest", "openshift-image-registry-openstack", CCO, EVERY, "ImageRegistry+CloudCredential"),
    ("ServiceAccount", "cluster-image-registry-operator", NS, EVERY, "ImageRegistry"),
    ("ClusterRole", "cluster-image-registry-operator", "", EVERY, "ImageRegistry"),
    ("ClusterRoleBinding", "default-account-cluster-image-registry-operator", "", EVERY, "ImageRegistry"),
    ("Role", "cluster-image-registry-operator", NS, EVERY, "ImageRegistry"),
    ("RoleBinding", "cluster-image-registry-operator", NS, EVERY, "ImageRegistry"),
    ("ConfigMap", "trusted-ca", NS, EVERY, "ImageRegistry"),
    ("ServiceAccount", "node-ca", NS, EVERY, "ImageRegistry"),
    ("Role", "node-ca", NS, EVERY, "ImageRegistry"),
    ("RoleBinding", "node-ca", NS, EVERY, "ImageRegistry"),
    ("ConfigMap", "image-registry-operator-config", NS, EVERY, "ImageRegistry"),
    ("Service", "image-registry-operator", NS, EVERY, "ImageRegistry"),
    ("Deployment", "cluster-image-registry-operator", NS, SELF_MANAGED, "ImageRegistry"),
    ("Deployment", "cluster-image-registry-operator", NS, &[IBM], "ImageRegistry"),
    ("ClusterOperator", "image-registry", "", EVERY, "ImageRegistry"),
    ("NetworkPolicy", "image-registry-operator-networkpolicy", NS, SELF_MANAGED, "ImageRegistry"),
    ("NetworkPolicy", "default-deny-all", NS, SELF_MANAGED, "ImageRegistry"),
    ("PrometheusRule", "image-registry-operator-alerts", NS, EVERY, "ImageRegistry"),
    ("PrometheusRule", "imagestreams-rules", NS, EVERY, "ImageRegistry"),
    ("PrometheusRule", "image-registry-rules", NS, EVERY, "ImageRegistry"),
    ("ClusterRole", "registry-monitoring", "", EVERY, "ImageRegistry"),
    ("ClusterRoleBinding", "registry-monitoring", "", EVERY, "ImageRegistry"),
    ("Role", "prometheus-k8s", NS, EVERY, "ImageRegistry"),
    ("RoleBinding", "prometheus-k8s", NS, EVERY, "ImageRegistry"),
    ("ServiceMonitor", "image-registry", NS, EVERY, "ImageRegistry"),
    ("ServiceMonitor", "image-registry-operator", NS, EVERY, "ImageRegistry"),
];

/// What the reference ships and this project does not, each listed in docs/differences.md
/// (difference 58): the TLS-profile ConfigMap feeds a `--config` file this operator does not
/// read (its TLS settings are flags).
const NOT_SHIPPED: &[(&str, &str)] = &[("ConfigMap", "image-registry-operator-config")];

type Shipped = (String, String, String, BTreeSet<String>, String);

fn manifests_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests")
}

/// Every document of manifests/, with the file it is in, in the order of the file names.
fn shipped_documents() -> Vec<(String, Value)> {
    let mut files = walk(&manifests_dir());
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for doc in fixture::documents(&file, &text).unwrap() {
            out.push((file.clone(), doc.value));
        }
    }
    out
}

fn shipped(doc: &Value) -> Shipped {
    let text = |p: &str| doc.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
    let annotations = doc.pointer("/metadata/annotations").and_then(Value::as_object).cloned().unwrap_or_default();
    let profiles = annotations
        .iter()
        .filter_map(|(k, v)| Some(k.strip_prefix("include.release.openshift.io/")?).filter(|_| v == "true"))
        .map(str::to_owned)
        .collect();
    (
        text("/kind"),
        text("/metadata/name"),
        text("/metadata/namespace"),
        profiles,
        text("/metadata/annotations/capability.openshift.io~1name"),
    )
}

/// The manifest set is the reference's, document for document: the same objects on the same
/// profiles with the same capability, less what docs/differences.md lists.
#[test]
fn the_manifest_set_is_the_references() {
    let mut wanted: Vec<Shipped> = REFERENCE_SET
        .iter()
        .filter(|(kind, name, ..)| !NOT_SHIPPED.contains(&(kind, name)))
        .map(|(kind, name, ns, profiles, capability)| {
            let profiles = profiles.iter().map(|p| (*p).to_owned()).collect();
            ((*kind).to_owned(), (*name).to_owned(), (*ns).to_owned(), profiles, (*capability).to_owned())
        })
        .collect();
    let mut have: Vec<Shipped> = shipped_documents().iter().map(|(_, doc)| shipped(doc)).collect();
    wanted.sort();
    have.sort();
    let missing: Vec<_> = wanted.iter().filter(|w| !have.contains(w)).collect();
    let extra: Vec<_> = have.iter().filter(|h| !wanted.contains(h)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:#?}\nnot in the reference's set {extra:#?}");
    assert!(have.iter().all(|(.., profiles, _)| !profiles.is_empty()), "a document no profile includes");
}

/// The release tooling prefixes every file that does not name its run level with the
/// component's (`0000_50_cluster-image-registry-operator_`), and the cluster-version operator
/// applies a component's files in name order: the namespace first, the CRDs, every identity and
/// permission and the CA bundle before the Deployment that uses them, the monitoring objects
/// at run level 90 (after the monitoring stack's own CRDs).
#[test]
fn file_names_order_the_manifests_as_the_cluster_version_operator_must_apply_them() {
    let payload = |file: &str| {
        if file.starts_with("0000_") {
            file.to_owned()
        } else {
            format!("0000_50_cluster-image-registry-operator_{file}")
        }
    };
    let mut docs: Vec<(String, Value)> =
        shipped_documents().into_iter().map(|(file, doc)| (payload(&file), doc)).collect();
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    let position = |kind: &str, name: &str| {
        docs.iter()
            .position(|(_, d)| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    let kinds: Vec<&str> = docs.iter().map(|(_, d)| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"Namespace"), "{kinds:?}");
    let deployment = position("Deployment", "cluster-image-registry-operator");
    for (kind, name) in [
        ("CustomResourceDefinition", "configs.imageregistry.operator.openshift.io"),
        ("CustomResourceDefinition", "imagepruners.imageregistry.operator.openshift.io"),
        ("ServiceAccount", "cluster-image-registry-operator"),
        ("ClusterRoleBinding", "default-account-cluster-image-registry-operator"),
        ("RoleBinding", "cluster-image-registry-operator"),
        ("ConfigMap", "trusted-ca"),
        ("ServiceAccount", "node-ca"),
        ("RoleBinding", "node-ca"),
    ] {
        assert!(position(kind, name) < deployment, "{kind} {name} must come before the operator's Deployment");
    }
    for (file, doc) in &docs {
        if matches!(doc["kind"].as_str(), Some("ServiceMonitor")) || doc["metadata"]["name"] == "registry-monitoring" {
            assert!(file.starts_with("0000_90_"), "{file}: monitoring objects wait for run level 90");
        }
    }
}

/// The ibm-cloud-managed Deployment is the self-managed one without the control-plane
/// nodeSelector, on its own profile; nothing else may drift between them.
#[test]
fn the_ibm_cloud_managed_deployment_differs_only_in_its_node_selector_and_profile() {
    let read = |file: &str| {
        let path = manifests_dir().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let docs = fixture::documents(file, &text).unwrap();
        docs.into_iter().find(|d| d.value["kind"] == "Deployment").unwrap().value
    };
    let mut self_managed = read("07-operator.yaml");
    let mut ibm = read("07-operator-ibm-cloud-managed.yaml");
    for (doc, profiles) in [(&mut self_managed, SELF_MANAGED), (&mut ibm, &[IBM][..])] {
        let annotations = doc["metadata"]["annotations"].as_object_mut().unwrap();
        for profile in profiles {
            assert_eq!(annotations.remove(&format!("include.release.openshift.io/{profile}")), Some("true".into()));
        }
    }
    let node_selector = self_managed["spec"]["template"]["spec"].as_object_mut().unwrap().remove("nodeSelector");
    assert_eq!(node_selector, Some(serde_json::json!({"node-role.kubernetes.io/master": ""})));
    assert_eq!(self_managed, ibm);
}

/// image-references names the operator's, the registry's and the CLI's images under the
/// reference's tags, and every pull spec it names is one the manifests use, so the release
/// tooling's substitution reaches each of them; the operator's Deployments run the operator's.
#[test]
fn image_references_name_the_images_the_manifests_use() {
    let path = manifests_dir().join("image-references");
    let text = std::fs::read_to_string(&path).unwrap();
    let stream = fixture::documents("image-references", &text).unwrap().remove(0).value;
    assert_eq!(stream["kind"], "ImageStream");
    let tags: Vec<(String, String)> = stream["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["from"]["name"].as_str().unwrap().to_owned()))
        .collect();
    let names: Vec<&str> = tags.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["cluster-image-registry-operator", "docker-registry", "cli"]);
    let operator = &tags[0].1;
    for (_, doc) in shipped_documents().iter().filter(|(_, d)| d["kind"] == "Deployment") {
        let container = &doc["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], operator.as_str());
        let env = |name: &str| {
            container["env"].as_array().unwrap().iter().find(|e| e["name"] == name).unwrap()["value"].clone()
        };
        assert_eq!(env("OPERATOR_IMAGE"), operator.as_str(), "node-ca runs the operator's image");
        assert_eq!(env("IMAGE"), tags[1].1.as_str());
        assert_eq!(env("IMAGE_PRUNER"), tags[2].1.as_str());
    }
}
