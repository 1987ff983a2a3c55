//! Service, PodDisruptionBudget and NetworkPolicy of the registry (spec 20 §2.6–§2.8).

use std::sync::OnceLock;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Desired;
use crate::api::Config;
use crate::memo::Memo;
use crate::names::{NAMESPACE, REGISTRY_LABEL, REGISTRY_NAME};

/// The registry's port.
pub const PORT: i32 = 5000;

pub(crate) fn registry_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(REGISTRY_LABEL.0.to_owned(), REGISTRY_LABEL.1.to_owned())])
}

pub(crate) fn registry_selector() -> LabelSelector {
    LabelSelector { match_labels: Some(registry_labels()), ..LabelSelector::default() }
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta { name: Some(name.to_owned()), namespace: Some(NAMESPACE.to_owned()), ..ObjectMeta::default() }
}

/// The registry Service's port as it is (or will be after this pass): the operator's own port
/// while it manages the registry, otherwise whatever the observed Service says (`None` when
/// there is no Service).
pub fn registry_port(observed: &crate::inputs::Inputs<'_>) -> Result<Option<i32>, String> {
    use crate::api::ManagementState;
    let config = observed.config.as_ref().map_err(|e| e.to_string())?;
    let managed = config.as_ref().is_some_and(|c| {
        c.metadata.deletion_timestamp.is_none() && c.spec.management_state() == ManagementState::Managed
    });
    if managed {
        return Ok(Some(PORT));
    }
    let Some(service) = observed.objects.get::<Service>(NAMESPACE, REGISTRY_NAME).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let port = service.spec.as_ref().and_then(|s| s.ports.as_ref()).and_then(|p| p.first()).map(|p| p.port);
    port.map(Some).ok_or_else(|| format!("service {NAMESPACE}/{REGISTRY_NAME} has no ports"))
}

/// Service `image-registry`: port 5000, serving cert from the service-ca operator.
pub fn service() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_service)
}

fn build_service() -> Result<Desired, String> {
    let service = Service {
        metadata: ObjectMeta {
            labels: Some(registry_labels()),
            annotations: Some(BTreeMap::from([(
                "service.alpha.openshift.io/serving-cert-secret-name".to_owned(),
                "image-registry-tls".to_owned(),
            )])),
            ..meta(REGISTRY_NAME)
        },
        spec: Some(ServiceSpec {
            selector: Some(registry_labels()),
            ports: Some(vec![ServicePort {
                name: Some("5000-tcp".to_owned()),
                port: PORT,
                protocol: Some("TCP".to_owned()),
                target_port: Some(IntOrString::Int(PORT)),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    Desired::new(&service, vec![])
}

/// PDB `image-registry`: one pod must stay up once there are two or more.
pub fn pod_disruption_budget(memo: Option<&Memo>, config: &Config) -> Result<Desired, String> {
    let pdb = PodDisruptionBudget {
        metadata: meta(REGISTRY_NAME),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::Int(if config.spec.replicas <= 1 { 0 } else { 1 })),
            selector: Some(registry_selector()),
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".to_owned()),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    };
    Desired::remembered(memo, &pdb, vec![])
}

fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".to_owned()),
        ..NetworkPolicyPort::default()
    }
}

fn namespace_peer(key: &str, value: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(key.to_owned(), value.to_owned())])),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// The registry's NetworkPolicy.
pub const NETWORK_POLICY: &str = "image-registry-networkpolicy";

/// NetworkPolicy `image-registry-networkpolicy`: TCP 5000 in from anywhere, all egress.
pub fn network_policy() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_network_policy)
}

fn build_network_policy() -> Result<Desired, String> {
    let apiserver = NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_owned(), "openshift-kube-apiserver".to_owned())])),
            ..LabelSelector::default()
        }),
        ..namespace_peer("kubernetes.io/metadata.name", "openshift-kube-apiserver")
    };
    let policy = NetworkPolicy {
        metadata: meta(NETWORK_POLICY),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(registry_selector()),
            policy_types: Some(vec!["Ingress".to_owned(), "Egress".to_owned()]),
            ingress: Some(vec![
                NetworkPolicyIngressRule {
                    from: Some(vec![namespace_peer("kubernetes.io/metadata.name", "openshift-monitoring")]),
                    ports: Some(vec![tcp(PORT)]),
                },
                NetworkPolicyIngressRule {
                    from: Some(vec![namespace_peer("policy-group.network.openshift.io/ingress", "")]),
                    ports: Some(vec![tcp(PORT)]),
                },
                NetworkPolicyIngressRule { from: None, ports: Some(vec![tcp(PORT)]) },
            ]),
            egress: Some(vec![
                NetworkPolicyEgressRule::default(),
                NetworkPolicyEgressRule { to: Some(vec![apiserver]), ports: Some(vec![tcp(8443)]) },
                NetworkPolicyEgressRule {
                    to: Some(vec![namespace_peer("kubernetes.io/metadata.name", "openshift-dns")]),
                    ports: Some(vec![tcp(5353), NetworkPolicyPort { protocol: Some("UDP".to_owned()), ..tcp(5353) }]),
                },
                NetworkPolicyEgressRule {
                    to: Some(vec![NetworkPolicyPeer {
                        ip_block: Some(IPBlock {
                            cidr: "0.0.0.0/0".to_owned(),
                            except: Some(vec![
                                "10.0.0.0/8".to_owned(),
                                "172.16.0.0/12".to_owned(),
                                "192.168.0.0/16".to_owned(),
                            ]),
                        }),
                        ..NetworkPolicyPeer::default()
                    }]),
                    ports: Some(vec![tcp(443)]),
                },
            ]),
        }),
    };
    Desired::new(&policy, vec![])
}
