//! The registry's objects, field by field against the spec's tables (spec 20 §2, §3, §6).

use image_registry_core::api::Config;
use image_registry_core::api::storage::{CloudFront, EmptyDir, S3};
use image_registry_core::api::{GoDuration, Storage};
use image_registry_core::observed::Observed;
use image_registry_core::{Desired, desired};
use image_registry_tests::{fixtures_dir, load};
use serde_json::{Value, json};

fn converged() -> (Observed, Config) {
    let observed = load(&fixtures_dir().join("aws-converged.yaml")).observed;
    let config: Config = observed.objects.get("", "cluster").unwrap().unwrap();
    (observed, config)
}

fn objects(observed: &Observed, config: &Config) -> Vec<Desired> {
    let (objects, error) = desired(observed, config).unwrap();
    assert_eq!(error, None);
    objects
}

fn object(observed: &Observed, config: &Config, kind: &str) -> Value {
    objects(observed, config).into_iter().find(|d| d.key.kind == kind).map(|d| (*d.object).clone()).unwrap()
}

fn deployment_with(edit: impl Fn(&mut Config)) -> Value {
    let (observed, mut config) = converged();
    edit(&mut config);
    object(&observed, &config, "Deployment")
}

fn pod(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v[key].as_str().unwrap().to_owned()).collect()
}

#[test]
fn s3_env_vars_in_order() {
    let deployment = deployment_with(|_| {});
    let env = &pod(&deployment)["containers"][0]["env"];
    assert_eq!(
        names(env, "name"),
        [
            "REGISTRY_STORAGE",
            "REGISTRY_STORAGE_S3_BUCKET",
            "REGISTRY_STORAGE_S3_REGION",
            "REGISTRY_STORAGE_S3_ENCRYPT",
            "REGISTRY_STORAGE_S3_FORCEPATHSTYLE",
            "REGISTRY_STORAGE_S3_CREDENTIALSCONFIGPATH",
            "REGISTRY_STORAGE_S3_USEDUALSTACK",
            "REGISTRY_HTTP_ADDR",
            "REGISTRY_HTTP_NET",
            "REGISTRY_HTTP_SECRET",
            "REGISTRY_LOG_LEVEL",
            "REGISTRY_OPENSHIFT_QUOTA_ENABLED",
            "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR",
            "REGISTRY_STORAGE_DELETE_ENABLED",
            "REGISTRY_HEALTH_STORAGEDRIVER_ENABLED",
            "REGISTRY_HEALTH_STORAGEDRIVER_INTERVAL",
            "REGISTRY_HEALTH_STORAGEDRIVER_THRESHOLD",
            "REGISTRY_OPENSHIFT_METRICS_ENABLED",
            "REGISTRY_OPENSHIFT_SERVER_ADDR",
            "REGISTRY_HTTP_TLS_CERTIFICATE",
            "REGISTRY_HTTP_TLS_KEY",
            "REGISTRY_HTTP_TLS_MINVERSION",
            "OPENSHIFT_REGISTRY_HTTP_TLS_CIPHERSUITES",
        ]
    );
    let value = |name: &str| env.as_array().unwrap().iter().find(|e| e["name"] == name).unwrap()["value"].clone();
    assert_eq!(value("REGISTRY_HTTP_ADDR"), ":5000");
    assert_eq!(value("REGISTRY_OPENSHIFT_SERVER_ADDR"), "image-registry.openshift-image-registry.svc:5000");
    assert_eq!(value("REGISTRY_LOG_LEVEL"), "info");
    assert_eq!(value("REGISTRY_STORAGE_S3_FORCEPATHSTYLE"), "true");
}

#[test]
fn optional_env_vars_join_in_their_places() {
    let deployment = deployment_with(|c| {
        c.spec.read_only = true;
        c.spec.disable_redirect = true;
        c.spec.proxy.https = "http://proxy:3128".into();
        c.spec.requests.read.max_running = 5;
        c.spec.requests.read.max_wait_in_queue = GoDuration::from_secs(90);
        c.spec.log_level = "Debug".into();
    });
    let env = names(&pod(&deployment)["containers"][0]["env"], "name");
    let at = |n: &str| env.iter().position(|e| e == n).unwrap();
    assert!(at("REGISTRY_OPENSHIFT_SERVER_ADDR") < at("REGISTRY_STORAGE_MAINTENANCE_READONLY"));
    assert!(at("REGISTRY_STORAGE_MAINTENANCE_READONLY") < at("REGISTRY_STORAGE_REDIRECT_DISABLE"));
    assert!(at("REGISTRY_STORAGE_REDIRECT_DISABLE") < at("HTTPS_PROXY"));
    assert!(at("HTTPS_PROXY") < at("REGISTRY_OPENSHIFT_REQUESTS_READ_MAXRUNNING"));
    assert!(at("REGISTRY_OPENSHIFT_REQUESTS_READ_MAXWAITINQUEUE") < at("REGISTRY_HTTP_TLS_CERTIFICATE"));
    assert!(!env.contains(&"HTTP_PROXY".to_owned()) && !env.iter().any(|e| e.contains("WRITE")));
    let all = &pod(&deployment)["containers"][0]["env"];
    let value = |name: &str| all.as_array().unwrap().iter().find(|e| e["name"] == name).unwrap()["value"].clone();
    assert_eq!(value("REGISTRY_OPENSHIFT_REQUESTS_READ_MAXWAITINQUEUE"), "1m30s");
    assert_eq!(value("REGISTRY_OPENSHIFT_REQUESTS_READ_MAXINQUEUE"), "0");
    assert_eq!(value("REGISTRY_LOG_LEVEL"), "debug");
    assert_eq!(value("REGISTRY_STORAGE_MAINTENANCE_READONLY"), "{enabled: true}");
}

#[test]
fn emptydir_volumes_mounts_and_dependencies() {
    let deployment = deployment_with(|c| {
        c.spec.storage =
            Storage { empty_dir: Some(EmptyDir {}), management_state: "Managed".into(), ..Storage::default() }
    });
    let spec = pod(&deployment);
    let volumes = names(&spec["volumes"], "name");
    assert_eq!(
        volumes,
        [
            "registry-storage",
            "registry-tls",
            "ca-trust-extracted",
            "registry-certificates",
            "trusted-ca",
            "installation-pull-secrets",
            "bound-sa-token"
        ]
    );
    let mounts: Vec<(String, String)> = spec["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_owned(), m["mountPath"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("registry-storage", "/registry"),
        ("registry-tls", "/etc/secrets"),
        ("ca-trust-extracted", "/etc/pki/ca-trust/extracted"),
        ("registry-certificates", "/etc/pki/ca-trust/source/anchors"),
        ("trusted-ca", "/usr/share/pki/ca-trust-source"),
        ("installation-pull-secrets", "/var/lib/kubelet/"),
        ("bound-sa-token", "/var/run/secrets/openshift/serviceaccount"),
    ];
    assert_eq!(mounts, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert_eq!(spec["securityContext"], json!({"fsGroup": 1000430000, "fsGroupChangePolicy": "OnRootMismatch"}));
    assert_eq!(
        spec["volumes"][4]["configMap"],
        json!({"name": "trusted-ca", "optional": true, "items": [{"key": "ca-bundle.crt", "path": "anchors/ca-bundle.crt"}]})
    );
    assert_eq!(
        spec["volumes"][6]["projected"],
        json!({"sources": [{"serviceAccountToken": {"audience": "openshift", "path": "token"}}]})
    );
    let env = names(&spec["containers"][0]["env"], "name");
    assert_eq!(&env[..2], ["REGISTRY_STORAGE", "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"]);
}

#[test]
fn container_probes_resources_and_lifecycle() {
    let deployment = deployment_with(|_| {});
    let container = &pod(&deployment)["containers"][0];
    let probe = |delay: i64| json!({"httpGet": {"path": "/healthz", "port": 5000, "scheme": "HTTPS"}, "initialDelaySeconds": delay, "timeoutSeconds": 5});
    assert_eq!(container["livenessProbe"], probe(5));
    assert_eq!(container["readinessProbe"], probe(15));
    assert_eq!(container["resources"], json!({"requests": {"cpu": "100m", "memory": "256Mi"}}));
    assert_eq!(container["lifecycle"], json!({"preStop": {"exec": {"command": ["sleep", "25"]}}}));
    assert_eq!(container["ports"], json!([{"containerPort": 5000, "protocol": "TCP"}]));
    assert_eq!(container["securityContext"], json!({"readOnlyRootFilesystem": true}));
    assert_eq!(container["terminationMessagePolicy"], "FallbackToLogsOnError");
    assert_eq!(container["command"][0], "/bin/sh");
    let spec = pod(&deployment);
    assert_eq!(
        (spec["serviceAccountName"].clone(), spec["priorityClassName"].clone()),
        (json!("registry"), json!("system-cluster-critical"))
    );
    assert_eq!(spec["terminationGracePeriodSeconds"], 55);
    assert_eq!(deployment["spec"]["progressDeadlineSeconds"], 120);
    assert_eq!(deployment["metadata"]["annotations"]["release.openshift.io/version"], "4.20.0");
    let template = &deployment["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(template["target.workload.openshift.io/management"], r#"{"effect": "PreferredDuringScheduling"}"#);
    assert_eq!(template["openshift.io/required-scc"], "restricted-v2");
}

#[test]
fn strategy_and_affinity_by_replica_count() {
    let at = |replicas: i32, strategy: &str| {
        let d = deployment_with(|c| {
            c.spec.replicas = replicas;
            c.spec.rollout_strategy = strategy.into();
        });
        (d["spec"]["strategy"].clone(), pod(&d)["affinity"].clone())
    };
    let anti = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchLabels": {"docker-registry": "default"}},
        "namespaces": ["openshift-image-registry"],
        "topologyKey": "kubernetes.io/hostname"
    }]}});
    let rolling =
        |u: Value, s: Value| json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": u, "maxSurge": s}});
    assert_eq!(at(1, ""), (rolling(json!(0), json!("25%")), Value::Null));
    assert_eq!(at(2, ""), (rolling(json!(1), json!(1)), anti));
    assert_eq!(at(3, ""), (rolling(json!(2), json!("25%")), Value::Null));
    assert_eq!(at(0, ""), (rolling(json!(0), json!("25%")), Value::Null), "0 replicas stays valid");
    assert_eq!(at(3, "Recreate").0, json!({"type": "Recreate"}));
}

#[test]
fn pdb_follows_replicas() {
    let (observed, mut config) = converged();
    for (replicas, min) in [(0, 0), (1, 0), (2, 1), (3, 1)] {
        config.spec.replicas = replicas;
        let pdb = object(&observed, &config, "PodDisruptionBudget");
        assert_eq!(pdb["spec"]["minAvailable"], min, "{replicas}");
        assert_eq!(pdb["spec"]["unhealthyPodEvictionPolicy"], "AlwaysAllow");
    }
}

#[test]
fn topology_spread_constraints() {
    let keys = |d: &Value| -> Option<Vec<String>> {
        pod(d)["topologySpreadConstraints"]
            .as_array()
            .map(|l| l.iter().map(|c| c["topologyKey"].as_str().unwrap().to_owned()).collect())
    };
    let (mut observed, config) = converged();
    let default = object(&observed, &config, "Deployment");
    assert_eq!(keys(&default).unwrap(), ["kubernetes.io/hostname", "node-role.kubernetes.io/worker"]);
    observed
        .objects
        .insert(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-b", "labels": {"topology.kubernetes.io/zone": "b"}}}))
        .unwrap();
    let zoned = object(&observed, &config, "Deployment");
    assert_eq!(
        keys(&zoned).unwrap(),
        ["kubernetes.io/hostname", "node-role.kubernetes.io/worker", "topology.kubernetes.io/zone"]
    );
    assert_eq!(
        pod(&zoned)["topologySpreadConstraints"][0],
        json!({"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"docker-registry": "default"}}, "matchLabelKeys": ["pod-template-hash"],
               "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Honor"})
    );
    let mut pinned = config.clone();
    pinned.spec.node_selector = Some([("node-role.kubernetes.io/master".to_owned(), String::new())].into());
    let d = object(&observed, &pinned, "Deployment");
    assert_eq!(keys(&d), None);
    assert_eq!(pod(&d)["nodeSelector"], json!({"node-role.kubernetes.io/master": "", "kubernetes.io/os": "linux"}));
    let mut own = config.clone();
    own.spec.topology_spread_constraints = Some(vec![]);
    assert_eq!(pod(&object(&observed, &own, "Deployment"))["topologySpreadConstraints"], json!([]), "[] stays []");
}

#[test]
fn s3_with_cloudfront_env_matches_the_spec() {
    let deployment = deployment_with(|c| {
        c.spec.storage.s3 = Some(S3 {
            bucket: "bucket".into(),
            region: "region".into(),
            chunk_size_mib: 10,
            encrypt: true,
            virtual_hosted_style: true,
            cloud_front: Some(CloudFront {
                base_url: "https://cloudfront.example.com".into(),
                keypair_id: "keypair-id".into(),
                duration: GoDuration::from_secs(300),
                ..CloudFront::default()
            }),
            ..S3::default()
        });
        c.spec.storage.management_state = "Unmanaged".into();
    });
    let env: Vec<(String, String)> = pod(&deployment)["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let n = e["name"].as_str().unwrap();
            n.starts_with("REGISTRY_STORAGE") || n.starts_with("REGISTRY_MIDDLEWARE")
        })
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].as_str().unwrap().to_owned()))
        .collect();
    let middleware = "- name: cloudfront\n  options:\n    baseurl: https://cloudfront.example.com\n    privatekey: /etc/docker/cloudfront/private.pem\n    keypairid: keypair-id\n    duration: 5m0s\n    ipfilteredby: none";
    let want = [
        ("REGISTRY_STORAGE_S3_CHUNKSIZE", "10485760"),
        ("REGISTRY_STORAGE", "s3"),
        ("REGISTRY_STORAGE_S3_BUCKET", "bucket"),
        ("REGISTRY_STORAGE_S3_REGION", "region"),
        ("REGISTRY_STORAGE_S3_ENCRYPT", "true"),
        ("REGISTRY_STORAGE_S3_FORCEPATHSTYLE", "false"),
        ("REGISTRY_STORAGE_S3_CREDENTIALSCONFIGPATH", "/var/run/secrets/cloud/credentials"),
        ("REGISTRY_STORAGE_S3_USEDUALSTACK", "true"),
        ("REGISTRY_MIDDLEWARE_STORAGE", middleware),
        ("REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR", "inmemory"),
        ("REGISTRY_STORAGE_DELETE_ENABLED", "true"),
    ];
    assert_eq!(env, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
}

#[test]
fn checksums_follow_content() {
    let (mut observed, config) = converged();
    let before = object(&observed, &config, "Deployment");
    let digest = |d: &Value| {
        d["spec"]["template"]["metadata"]["annotations"]["imageregistry.operator.openshift.io/dependencies-checksum"]
            .clone()
    };
    // A rotated serving certificate rolls the registry.
    observed
        .objects
        .insert(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "image-registry-tls", "namespace": "openshift-image-registry"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "bmV3"}}))
        .unwrap();
    let after = object(&observed, &config, "Deployment");
    assert_ne!(digest(&before), digest(&after));
    assert_ne!(
        before["metadata"]["annotations"]["imageregistry.operator.openshift.io/checksum"],
        after["metadata"]["annotations"]["imageregistry.operator.openshift.io/checksum"]
    );
    assert_eq!(digest(&after), digest(&object(&observed, &config, "Deployment")), "deterministic");
}

#[test]
fn override_annotations_come_and_go() {
    let with = deployment_with(|c| {
        c.spec.unsupported_config_overrides =
            Some(json!({"deployment": {"annotations": {"a": "b"}, "runtimeClassName": "kata"}, "other": 1}));
    });
    assert_eq!(with["metadata"]["annotations"]["a"], "b");
    assert_eq!(with["spec"]["template"]["metadata"]["annotations"]["a"], "b");
    assert_eq!(pod(&with)["runtimeClassName"], "kata");
    let without = deployment_with(|_| {});
    assert!(without["metadata"]["annotations"].get("a").is_none(), "a removed override is not kept");
    assert!(without["spec"]["template"]["metadata"]["annotations"].get("a").is_none());
    let (observed, mut config) = converged();
    config.spec.unsupported_config_overrides = Some(json!({"deployment": {"annotations": "not a map"}}));
    let (built, error) = desired(&observed, &config).unwrap();
    assert!(error.unwrap().contains("invalid unsupportedConfigOverrides"));
    assert!(built.iter().all(|d| d.key.kind != "Deployment"), "nothing after the failing object");
}

#[test]
fn service_and_network_policy() {
    let (observed, config) = converged();
    let service = object(&observed, &config, "Service");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "5000-tcp", "port": 5000, "protocol": "TCP", "targetPort": 5000}])
    );
    assert_eq!(
        service["metadata"]["annotations"]["service.alpha.openshift.io/serving-cert-secret-name"],
        "image-registry-tls"
    );
    let policy = object(&observed, &config, "NetworkPolicy");
    assert_eq!(policy["spec"]["ingress"].as_array().unwrap().len(), 3);
    assert_eq!(policy["spec"]["egress"][0], json!({}));
    assert_eq!(
        policy["spec"]["egress"][3]["to"][0]["ipBlock"]["except"],
        json!(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    );
    let order: Vec<String> = objects(&observed, &config).iter().map(|d| d.key.kind.clone()).collect();
    assert_eq!(
        order,
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "ServiceAccount",
            "Secret",
            "Secret",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "NetworkPolicy"
        ]
    );
}

/// The pruner's retry script, run by a real `sh` (with `sleep` stubbed so the test takes no
/// time): success at once exits 0; a command failing every time is tried six times and its
/// exit code is the script's; one that recovers stops retrying.
#[test]
fn the_pruner_retry_script_retries_five_times_and_keeps_the_last_exit_code() {
    // The script the converged cluster's pruner runs: that fixture is at the fixpoint (its plan
    // writes nothing), so this is the CronJob the core builds.
    let cronjob = image_registry_tests::fixture("aws-converged")
        .objects
        .iter()
        .find(|(key, _)| key.kind == "CronJob")
        .map(|(_, object)| object.clone())
        .unwrap();
    let args = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args[0], "-c", "{args}");
    let script = args[1].as_str().unwrap().to_owned();
    let retry_script = script.as_str();
    let dir = std::env::temp_dir().join(format!("retry-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stub = dir.join("sleep");
    std::fs::write(&stub, "#!/bin/sh\nexit 0\n").unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&stub).status().unwrap();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let run = |command: &[&str]| {
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", retry_script, "arg0"])
            .args(command)
            .env("PATH", &path)
            .output()
            .unwrap();
        let attempts = String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.starts_with("attempt #")).count();
        (out.status.code(), attempts)
    };
    assert_eq!(run(&["true"]), (Some(0), 0));
    assert_eq!(run(&["sh", "-c", "exit 3"]), (Some(3), 5));
    let counter = dir.join("count");
    let flaky = format!("n=$(cat {c} 2>/dev/null || echo 0); echo $((n+1)) > {c}; [ $n -ge 2 ]", c = counter.display());
    assert_eq!(run(&["sh", "-c", &flaky]), (Some(0), 2));
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 26: the registry's objects are declared once (`objects::OWNED`; apply, removal and the
/// watches all read it). What this adds to that construction: in a converged cluster every
/// declared builder does build its object (none silently returns nothing), nothing but routes is
/// built beside them, and each declared kind resolves to a collection the shell can watch in its
/// namespace (an owned object elsewhere, or of a kind the API table lacks, fails here).
#[test]
fn every_object_the_registry_builds_is_declared_once_and_watched() {
    let (observed, config) = converged();
    let built: Vec<_> = objects(&observed, &config).into_iter().map(|d| d.key).filter(|k| k.kind != "Route").collect();
    let declared: Vec<_> = image_registry_core::OWNED.iter().map(|owned| (owned.key)()).collect();
    assert_eq!(built, declared, "built in the declared order, nothing undeclared");
    let watched: Vec<(String, String)> = image_registry_operator::observe::sources()
        .unwrap()
        .into_iter()
        .map(|s| (s.kind.kind.to_owned(), s.namespace.unwrap_or_default().to_owned()))
        .collect();
    for key in &declared {
        assert!(watched.contains(&(key.kind.clone(), key.namespace.clone())), "{key} is not watched");
    }
}
