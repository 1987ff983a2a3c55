//! The registry pod: container, env, volumes, scheduling and security context
//! (spec 20 §3.3–§3.10).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, ExecAction, HTTPGetAction,
    KeyToPath, Lifecycle, LifecycleHandler, PodAffinityTerm, PodAntiAffinity, PodSecurityContext, PodSpec, Probe,
    ProjectedVolumeSource, ResourceRequirements, SecretProjection, SecretVolumeSource, SecurityContext,
    ServiceAccountTokenProjection, TopologySpreadConstraint, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::Context;
use super::network::{PORT, registry_labels, registry_selector};
use crate::api::Config;
use crate::api::config::ImageRegistryConfigRequestsLimits;
use crate::inputs::Inputs;
use crate::names::{INSTALLATION_PULL_SECRETS, NAMESPACE, REGISTRY_SERVICE_ACCOUNT};
use crate::storage::Wiring;

/// The container's start command (exact text of the reference).
pub const COMMAND: &str = "mkdir -p /etc/pki/ca-trust/extracted/edk2 /etc/pki/ca-trust/extracted/java /etc/pki/ca-trust/extracted/openssl /etc/pki/ca-trust/extracted/pem && update-ca-trust extract --output /etc/pki/ca-trust/extracted/ && exec /usr/bin/dockerregistry";

/// Registry CA trust anchors maintained by the operator.
pub const CERTIFICATES_CONFIGMAP: &str = "image-registry-certificates";
/// Cluster trust bundle injected by the network operator.
pub const TRUSTED_CA_CONFIGMAP: &str = "trusted-ca";
/// Serving certificate made by the service-ca operator.
pub const TLS_SECRET: &str = "image-registry-tls";

fn literal(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.to_owned(), value: Some(value.into()), ..EnvVar::default() }
}

/// `REGISTRY_LOG_LEVEL`: a debug `logLevel` wins, else the deprecated integer decides.
pub fn log_level(config: &Config) -> &'static str {
    match config.spec.log_level.as_str() {
        "Debug" | "Trace" | "TraceAll" => "debug",
        _ => match config.spec.logging {
            1 => "warn",
            0 | 2 | 3 => "info",
            _ => "debug",
        },
    }
}

fn request_env(direction: &str, limits: &ImageRegistryConfigRequestsLimits) -> Result<Vec<EnvVar>, String> {
    if limits.max_running == 0 && limits.max_in_queue == 0 {
        return Ok(Vec::new());
    }
    let title = if direction == "READ" { "Read" } else { "Write" };
    if limits.max_running < 0 {
        return Err(format!("Requests.{title}.MaxRunning must be positive number"));
    }
    if limits.max_in_queue < 0 {
        return Err(format!("Requests.{title}.MaxInQueue must be positive number"));
    }
    let prefix = format!("REGISTRY_OPENSHIFT_REQUESTS_{direction}");
    Ok(vec![
        literal(&format!("{prefix}_MAXRUNNING"), limits.max_running.to_string()),
        literal(&format!("{prefix}_MAXINQUEUE"), limits.max_in_queue.to_string()),
        literal(&format!("{prefix}_MAXWAITINQUEUE"), limits.max_wait_in_queue.to_string()),
    ])
}

const TLS_VERSIONS: [&str; 4] = ["VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13"];

const KNOWN_CIPHERS: [&str; 27] = [
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// `REGISTRY_HTTP_TLS_MINVERSION` and `OPENSHIFT_REGISTRY_HTTP_TLS_CIPHERSUITES` from
/// `spec.observedConfig.servingInfo`; anything malformed is an error, never partial output.
pub fn tls_env(observed_config: Option<&Value>) -> Result<Vec<EnvVar>, String> {
    let fail = |why: String| format!("unable to generate tls config: {why}");
    let Some(serving) = observed_config.and_then(|c| c.get("servingInfo")) else { return Ok(Vec::new()) };
    let mut env = Vec::new();
    match serving.get("minTLSVersion") {
        None | Some(Value::Null) => {}
        Some(Value::String(v)) if v.is_empty() => {}
        Some(Value::String(v)) if TLS_VERSIONS.contains(&v.as_str()) => {
            env.push(literal("REGISTRY_HTTP_TLS_MINVERSION", v.clone()));
        }
        Some(Value::String(v)) => return Err(fail(format!("unknown tls version {v:?}"))),
        Some(other) => return Err(fail(format!("servingInfo.minTLSVersion must be a string, not {other}"))),
    }
    match serving.get("cipherSuites") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.is_empty() => {}
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(name) if KNOWN_CIPHERS.contains(&name) => names.push(name.to_owned()),
                    Some(name) => return Err(fail(format!("unknown cipher name {name:?}"))),
                    None => return Err(fail(format!("servingInfo.cipherSuites must hold strings, not {item}"))),
                }
            }
            env.push(literal("OPENSHIFT_REGISTRY_HTTP_TLS_CIPHERSUITES", names.join(",")));
        }
        Some(other) => return Err(fail(format!("servingInfo.cipherSuites must be a list, not {other}"))),
    }
    Ok(env)
}

/// The container env, in the reference's order (spec 20 §3.6). The second value is the index of
/// `REGISTRY_HTTP_SECRET`, whose literal value is secret.
pub fn env(config: &Config, wiring: &Wiring, observed: &Inputs<'_>) -> Result<(Vec<EnvVar>, usize), String> {
    let spec = &config.spec;
    let mut env: Vec<EnvVar> = wiring.settings.iter().map(|s| s.env_var()).collect();
    env.push(literal("REGISTRY_HTTP_ADDR", format!(":{PORT}")));
    env.push(literal("REGISTRY_HTTP_NET", "tcp"));
    let secret_index = env.len();
    env.push(literal("REGISTRY_HTTP_SECRET", spec.http_secret.clone()));
    env.push(literal("REGISTRY_LOG_LEVEL", log_level(config)));
    env.push(literal("REGISTRY_OPENSHIFT_QUOTA_ENABLED", "true"));
    env.push(literal("REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR", "inmemory"));
    env.push(literal("REGISTRY_STORAGE_DELETE_ENABLED", "true"));
    env.push(literal("REGISTRY_HEALTH_STORAGEDRIVER_ENABLED", "true"));
    env.push(literal("REGISTRY_HEALTH_STORAGEDRIVER_INTERVAL", "10s"));
    env.push(literal("REGISTRY_HEALTH_STORAGEDRIVER_THRESHOLD", "1"));
    env.push(literal("REGISTRY_OPENSHIFT_METRICS_ENABLED", "true"));
    env.push(literal("REGISTRY_OPENSHIFT_SERVER_ADDR", format!("image-registry.{NAMESPACE}.svc:{PORT}")));
    if spec.read_only {
        env.push(literal("REGISTRY_STORAGE_MAINTENANCE_READONLY", "{enabled: true}"));
    }
    if spec.disable_redirect {
        env.push(literal("REGISTRY_STORAGE_REDIRECT_DISABLE", "true"));
    }
    let cluster_proxy = observed.proxy.as_ref().map_err(|e| e.to_string())?;
    let cluster_proxy = cluster_proxy.as_ref().and_then(|p| p.status.clone()).unwrap_or_default();
    for (name, own, cluster) in [
        ("HTTP_PROXY", &spec.proxy.http, &cluster_proxy.http_proxy),
        ("HTTPS_PROXY", &spec.proxy.https, &cluster_proxy.https_proxy),
        ("NO_PROXY", &spec.proxy.no_proxy, &cluster_proxy.no_proxy),
    ] {
        let value = if own.is_empty() { cluster } else { own };
        if !value.is_empty() {
            env.push(literal(name, value.clone()));
        }
    }
    env.extend(request_env("READ", &spec.requests.read)?);
    env.extend(request_env("WRITE", &spec.requests.write)?);
    env.push(literal("REGISTRY_HTTP_TLS_CERTIFICATE", "/etc/secrets/tls.crt"));
    env.push(literal("REGISTRY_HTTP_TLS_KEY", "/etc/secrets/tls.key"));
    env.extend(tls_env(spec.observed_config.as_ref())?);
    Ok((env, secret_index))
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

/// Volumes and mounts: the backend's first, then the fixed six (spec 20 §3.8).
pub fn volumes(wiring: &Wiring) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes = wiring.volumes.clone();
    let mut mounts = wiring.mounts.clone();
    let item = |key: &str, path: &str| KeyToPath { key: key.to_owned(), path: path.to_owned(), mode: None };
    volumes.extend([
        Volume {
            name: "registry-tls".to_owned(),
            projected: Some(ProjectedVolumeSource {
                sources: Some(vec![VolumeProjection {
                    secret: Some(SecretProjection { name: TLS_SECRET.to_owned(), ..SecretProjection::default() }),
                    ..VolumeProjection::default()
                }]),
                ..ProjectedVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "ca-trust-extracted".to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
        Volume {
            name: "registry-certificates".to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: CERTIFICATES_CONFIGMAP.to_owned(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "trusted-ca".to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: TRUSTED_CA_CONFIGMAP.to_owned(),
                items: Some(vec![item("ca-bundle.crt", "anchors/ca-bundle.crt")]),
                optional: Some(true),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: INSTALLATION_PULL_SECRETS.to_owned(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(INSTALLATION_PULL_SECRETS.to_owned()),
                items: Some(vec![item(".dockerconfigjson", "config.json")]),
                optional: Some(true),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "bound-sa-token".to_owned(),
            projected: Some(ProjectedVolumeSource {
                sources: Some(vec![VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        audience: Some("openshift".to_owned()),
                        path: "token".to_owned(),
                        ..ServiceAccountTokenProjection::default()
                    }),
                    ..VolumeProjection::default()
                }]),
                ..ProjectedVolumeSource::default()
            }),
            ..Volume::default()
        },
    ]);
    mounts.extend([
        mount("registry-tls", "/etc/secrets", false),
        mount("ca-trust-extracted", "/etc/pki/ca-trust/extracted", false),
        mount("registry-certificates", "/etc/pki/ca-trust/source/anchors", false),
        mount("trusted-ca", "/usr/share/pki/ca-trust-source", false),
        mount(INSTALLATION_PULL_SECRETS, "/var/lib/kubelet/", false),
        mount("bound-sa-token", "/var/run/secrets/openshift/serviceaccount", true),
    ]);
    (volumes, mounts)
}

/// Where the registry pods may run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scheduling {
    /// Node selector (always with `kubernetes.io/os`).
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations, verbatim.
    pub tolerations: Option<Vec<k8s_openapi::api::core::v1::Toleration>>,
    /// Affinity.
    pub affinity: Option<Affinity>,
    /// Topology spread constraints; `Some(vec![])` stays an empty list.
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
}

fn spread(topology_key: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: 1,
        topology_key: topology_key.to_owned(),
        when_unsatisfiable: "DoNotSchedule".to_owned(),
        label_selector: Some(registry_selector()),
        match_label_keys: Some(vec!["pod-template-hash".to_owned()]),
        node_affinity_policy: Some("Honor".to_owned()),
        node_taints_policy: Some("Honor".to_owned()),
        ..TopologySpreadConstraint::default()
    }
}

/// Scheduling rules (spec 20 §3.9). `zoned_nodes` says whether any node has a zone label.
pub fn scheduling(config: &Config, zoned_nodes: bool) -> Scheduling {
    let spec = &config.spec;
    let mut node_selector = spec.node_selector.clone().unwrap_or_default();
    node_selector.entry("kubernetes.io/os".to_owned()).or_insert_with(|| "linux".to_owned());
    let affinity = match (&spec.affinity, spec.replicas) {
        (Some(affinity), _) => Some(affinity.clone()),
        (None, 2) => Some(Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    topology_key: "kubernetes.io/hostname".to_owned(),
                    namespaces: Some(vec![NAMESPACE.to_owned()]),
                    label_selector: Some(registry_selector()),
                    ..PodAffinityTerm::default()
                }]),
                ..PodAntiAffinity::default()
            }),
            ..Affinity::default()
        }),
        (None, _) => None,
    };
    let mut constraints = vec![spread("kubernetes.io/hostname"), spread("node-role.kubernetes.io/worker")];
    if zoned_nodes {
        constraints.push(spread("topology.kubernetes.io/zone"));
    }
    let mut topology = Some(constraints);
    if spec.node_selector.is_some() {
        topology = None;
    }
    if let Some(own) = &spec.topology_spread_constraints {
        topology = Some(own.clone());
    }
    Scheduling { node_selector, tolerations: spec.tolerations.clone(), affinity, topology_spread_constraints: topology }
}

/// Whether any observed node carries a `topology.kubernetes.io/zone` label.
pub fn zoned_nodes(observed: &Inputs<'_>) -> Result<bool, String> {
    observed.zoned_nodes.clone().map_err(|e| format!("could not check nodes for zone failure domain: {e}"))
}

/// The pod's `fsGroup`: the start of the namespace's supplemental-groups range.
pub fn fs_group(observed: &Inputs<'_>) -> Result<i64, String> {
    let fail = |why: &str| format!("generate security context for deployment config: {why}");
    let namespace = observed
        .namespace
        .as_ref()
        .map_err(|e| fail(&e.to_string()))?
        .as_ref()
        .ok_or_else(|| fail(&format!("namespace {NAMESPACE} not found")))?;
    const KEY: &str = "openshift.io/sa.scc.supplemental-groups";
    let range = namespace
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(KEY))
        .ok_or_else(|| fail(&format!("namespace {NAMESPACE} has no {KEY} annotation")))?;
    let (start, _) = range.split_once('/').ok_or_else(|| fail(&format!("{KEY} {range:?} has no '/'")))?;
    start.parse::<i64>().map_err(|_| fail(&format!("{KEY} {range:?} does not start with a number")))
}

/// What `spec.unsupportedConfigOverrides.deployment` asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Extra annotations for the Deployment and its pod template.
    pub annotations: BTreeMap<String, String>,
    /// The pod's runtime class.
    pub runtime_class_name: Option<String>,
}

/// Reads the overrides leniently (unknown keys ignored); a wrong shape is an error.
pub fn overrides(config: &Config) -> Result<Overrides, String> {
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(default)]
        deployment: Option<Deployment>,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Deployment {
        #[serde(default)]
        annotations: BTreeMap<String, String>,
        #[serde(default)]
        runtime_class_name: Option<String>,
    }
    let raw = match &config.spec.unsupported_config_overrides {
        None | Some(Value::Null) => Raw::default(),
        Some(value) => {
            crate::api::decode::<Raw>(value).map_err(|e| format!("invalid unsupportedConfigOverrides: {e}"))?
        }
    };
    let deployment = raw.deployment.unwrap_or_default();
    Ok(Overrides {
        annotations: deployment.annotations,
        runtime_class_name: deployment.runtime_class_name.filter(|r| !r.is_empty()),
    })
}

fn probe(initial_delay: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/healthz".to_owned()),
            port: IntOrString::Int(PORT),
            scheme: Some("HTTPS".to_owned()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        timeout_seconds: Some(5),
        ..Probe::default()
    }
}

/// The pod spec (without template metadata). Returns it with the index of the secret env var.
pub fn pod_spec(context: &Context<'_>, overrides: &Overrides) -> Result<(PodSpec, usize), String> {
    let config = context.config;
    let (env, secret_index) = env(config, context.wiring, context.observed)?;
    let (volumes, mounts) = volumes(context.wiring);
    let scheduling = scheduling(config, zoned_nodes(context.observed)?);
    let resources = config.spec.resources.clone().unwrap_or_else(|| ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), Quantity("100m".to_owned())),
            ("memory".to_owned(), Quantity("256Mi".to_owned())),
        ])),
        ..ResourceRequirements::default()
    });
    let container = Container {
        name: "registry".to_owned(),
        image: Some(context.observed.operator.image.clone()),
        command: Some(vec!["/bin/sh".to_owned(), "-c".to_owned(), COMMAND.to_owned()]),
        ports: Some(vec![ContainerPort {
            container_port: PORT,
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        env: Some(env),
        volume_mounts: Some(mounts),
        liveness_probe: Some(probe(5)),
        readiness_probe: Some(probe(15)),
        resources: Some(resources),
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                exec: Some(ExecAction { command: Some(vec!["sleep".to_owned(), "25".to_owned()]) }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        termination_message_policy: Some("FallbackToLogsOnError".to_owned()),
        security_context: Some(SecurityContext { read_only_root_filesystem: Some(true), ..SecurityContext::default() }),
        ..Container::default()
    };
    let spec = PodSpec {
        service_account_name: Some(REGISTRY_SERVICE_ACCOUNT.to_owned()),
        priority_class_name: Some("system-cluster-critical".to_owned()),
        termination_grace_period_seconds: Some(55),
        node_selector: Some(scheduling.node_selector),
        tolerations: scheduling.tolerations,
        affinity: scheduling.affinity,
        topology_spread_constraints: scheduling.topology_spread_constraints,
        security_context: Some(PodSecurityContext {
            fs_group: Some(fs_group(context.observed)?),
            fs_group_change_policy: Some("OnRootMismatch".to_owned()),
            ..PodSecurityContext::default()
        }),
        runtime_class_name: overrides.runtime_class_name.clone(),
        volumes: Some(volumes),
        containers: vec![container],
        ..PodSpec::default()
    };
    Ok((spec, secret_index))
}

/// Labels of the registry pods.
pub fn pod_labels() -> BTreeMap<String, String> {
    registry_labels()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vars(config: Value) -> Result<Vec<(String, String)>, String> {
        tls_env(Some(&config)).map(|env| env.into_iter().map(|e| (e.name, e.value.unwrap_or_default())).collect())
    }

    #[test]
    fn tls_env_table() {
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(tls_env(None).unwrap(), vec![]);
        assert_eq!(
            vars(json!({"servingInfo": {"minTLSVersion": "VersionTLS12"}})).unwrap(),
            [pair("REGISTRY_HTTP_TLS_MINVERSION", "VersionTLS12")]
        );
        assert_eq!(
            vars(json!({"servingInfo": {"cipherSuites": ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]}}))
                .unwrap(),
            [pair("OPENSHIFT_REGISTRY_HTTP_TLS_CIPHERSUITES", "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384")]
        );
        assert_eq!(
            vars(json!({"servingInfo": {"minTLSVersion": "VersionTLS13", "cipherSuites": ["TLS_AES_128_GCM_SHA256"]}}))
                .unwrap(),
            [
                pair("REGISTRY_HTTP_TLS_MINVERSION", "VersionTLS13"),
                pair("OPENSHIFT_REGISTRY_HTTP_TLS_CIPHERSUITES", "TLS_AES_128_GCM_SHA256")
            ]
        );
        assert!(
            vars(json!({"servingInfo": {"minTLSVersion": "VersionTLS99"}}))
                .unwrap_err()
                .contains("unknown tls version")
        );
        assert_eq!(vars(json!({"servingInfo": {"minTLSVersion": ""}})).unwrap(), vec![]);
        assert_eq!(vars(json!({"servingInfo": {"cipherSuites": []}})).unwrap(), vec![]);
        assert_eq!(vars(json!({"otherField": "value"})).unwrap(), vec![]);
        assert!(
            vars(json!({"servingInfo": {"minTLSVersion": "VersionTLS13", "cipherSuites": ["invalid"]}}))
                .unwrap_err()
                .contains("unknown cipher name")
        );
        assert!(vars(json!({"servingInfo": {"minTLSVersion": 12}})).is_err(), "wrongly typed field");
    }

    #[test]
    fn log_level_table() {
        let mut config = Config::default();
        for (level, logging, want) in [
            ("Debug", 0, "debug"),
            ("TraceAll", 1, "debug"),
            ("", 1, "warn"),
            ("Normal", 0, "info"),
            ("Normal", 3, "info"),
            ("", 4, "debug"),
            ("", -1, "debug"),
        ] {
            config.spec.log_level = level.into();
            config.spec.logging = logging;
            assert_eq!(log_level(&config), want, "{level} {logging}");
        }
    }
}
