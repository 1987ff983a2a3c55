//! The inputs stage: the snapshot decoded once per pass. Every controller and builder reads the
//! cluster-wide objects (the Config, the ImagePruner, the Infrastructure and its platform, the
//! APIServer's TLS profile, the proxy, the image config, the registry's Deployment, the nodes'
//! zones, the namespace's groups) from here instead of decoding them itself; an object that
//! does not decode is kept as its typed error, naming the object and the field, for the
//! controller that needs it to report. What is looked up by a name only known mid-pass
//! (secrets, configmaps, routes, claims) stays in the raw store, decoded where it is used.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Namespace, Node};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::openshift::{ApiServer, ClusterOperator, Image, Infrastructure, PlatformStatus, Proxy};
use crate::api::{Config, ImagePruner};
use crate::memo::Memo;
use crate::names::{CLUSTER, CLUSTER_OPERATOR, NAMESPACE, NODE_CA, REGISTRY_NAME};
use crate::observed::{CloudFacts, DecodeError, Memory, ObjectKey, ObjectStore, Observed, OperatorEnv};
use crate::outcome::Outcome;

/// An object decoded once: absent, present, or the field that does not decode.
pub type Decoded<K> = Result<Option<K>, DecodeError>;

/// Why a derived input cannot be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The object does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A field the decision needs is empty or malformed.
    #[error("{object}: field {field}: {problem}")]
    Field {
        /// The object, as `kind/name`.
        object: &'static str,
        /// The field's path.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// The whole input of a pass: the snapshot's parts by reference, and the cluster-wide objects
/// decoded once.
pub struct Inputs<'a> {
    /// Every object, raw, for lookups by name.
    pub objects: &'a ObjectStore,
    /// What the clouds said.
    pub cloud: &'a CloudFacts,
    /// The previous pass's outcomes.
    pub outcomes: &'a [Outcome],
    /// The time of this pass.
    pub now: Timestamp,
    /// Entropy for generated values; never printed.
    pub seed: &'a str,
    /// The operator process's settings.
    pub operator: &'a OperatorEnv,
    /// What the previous pass asked to remember.
    pub memory: &'a Memory,
    /// `configs.imageregistry.operator.openshift.io/cluster`.
    pub config: Decoded<Config>,
    /// `imagepruners.imageregistry.operator.openshift.io/cluster`.
    pub pruner: Decoded<ImagePruner>,
    /// `infrastructures.config.openshift.io/cluster`.
    pub infrastructure: Decoded<Infrastructure>,
    /// `apiservers.config.openshift.io/cluster` (the TLS profile).
    pub api_server: Decoded<ApiServer>,
    /// `proxies.config.openshift.io/cluster`.
    pub proxy: Decoded<Proxy>,
    /// `images.config.openshift.io/cluster`.
    pub image: Decoded<Image>,
    /// The registry's Deployment: its metadata (without `managedFields`) and status, what the
    /// conditions read. Its spec is the operator's own, compared raw by the diff, so it is
    /// not decoded (`spec` is `None`).
    pub deployment: Decoded<Deployment>,
    /// The node-ca DaemonSet's metadata and status (its availability).
    pub node_ca: Decoded<DaemonSet>,
    /// The ClusterOperator `image-registry`, metadata and status (its spec is empty).
    pub cluster_operator: Decoded<ClusterOperator>,
    /// The operator's namespace (its supplemental-groups range).
    pub namespace: Decoded<Namespace>,
    /// Whether any node carries a zone label; the first node that does not decode otherwise.
    pub zoned_nodes: Result<bool, DecodeError>,
    /// Encodings the caller remembers between passes (`None`: every object is encoded anew).
    pub memo: Option<&'a Memo>,
}

impl<'a> Inputs<'a> {
    /// Decodes the snapshot's cluster-wide objects, once.
    pub fn decode(observed: &'a Observed) -> Self {
        Self::decode_remembering(observed, None)
    }

    /// [`Inputs::decode`], with a memo of encodings kept between passes.
    pub fn decode_remembering(observed: &'a Observed, memo: Option<&'a Memo>) -> Self {
        let objects = &observed.objects;
        Self {
            memo,
            objects,
            cloud: &observed.cloud,
            outcomes: &observed.outcomes,
            now: observed.now,
            seed: &observed.seed,
            operator: &observed.operator,
            memory: &observed.memory,
            config: objects.get("", CLUSTER),
            pruner: objects.get("", CLUSTER),
            infrastructure: objects.get("", CLUSTER),
            api_server: objects.get("", CLUSTER),
            proxy: objects.get("", CLUSTER),
            image: objects.get("", CLUSTER),
            deployment: metadata_and_status(
                objects,
                &ObjectKey::of::<Deployment>(NAMESPACE, REGISTRY_NAME),
                |metadata, status| Deployment { metadata, spec: None, status },
            ),
            node_ca: metadata_and_status(
                objects,
                &ObjectKey::of::<DaemonSet>(NAMESPACE, NODE_CA),
                |metadata, status| DaemonSet { metadata, spec: None, status },
            ),
            cluster_operator: metadata_and_status(
                objects,
                &ObjectKey::of::<ClusterOperator>("", CLUSTER_OPERATOR),
                |metadata, status| ClusterOperator { metadata, status, ..ClusterOperator::default() },
            ),
            namespace: objects.get("", NAMESPACE),
            zoned_nodes: zoned(objects),
        }
    }

    /// `status.platformStatus`, when the Infrastructure decodes and has one.
    pub fn platform_status(&self) -> Option<&PlatformStatus> {
        self.infrastructure.as_ref().ok()?.as_ref()?.status.as_ref()?.platform_status.as_ref()
    }

    /// `status.infrastructureName`, or `""` when the Infrastructure is absent or does not
    /// decode (for matching tags, where no name matches nothing).
    pub fn infrastructure_name(&self) -> &str {
        let status = self.infrastructure.as_ref().ok().and_then(|i| i.as_ref()).and_then(|i| i.status.as_ref());
        status.map_or("", |s| s.infrastructure_name.as_str())
    }

    /// The cluster ID for a name the operator generates: an empty one would make names such
    /// as `-image-registry-us-east-1`, so it is an error naming the field.
    pub fn cluster_id(&self) -> Result<&str, InputError> {
        if let Err(e) = &self.infrastructure {
            return Err(e.clone().into());
        }
        match self.infrastructure_name() {
            "" => Err(InputError::Field {
                object: "infrastructures.config.openshift.io/cluster",
                field: "status.infrastructureName",
                problem: "empty; the operator names storage after the cluster ID",
            }),
            name => Ok(name),
        }
    }
}

/// What the conditions read of an object: its metadata and status. Decoded straight from the
/// raw object, so the rest (a Deployment's spec is most of its size) is skipped, not copied.
#[derive(serde::Deserialize)]
struct MetadataAndStatus<S> {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default = "Option::default")]
    status: Option<S>,
}

/// Decodes an object's metadata (less `managedFields`, which nothing reads) and status only,
/// and makes a `K` of them with `assemble`.
fn metadata_and_status<S: serde::de::DeserializeOwned, K>(
    objects: &ObjectStore,
    key: &ObjectKey,
    assemble: fn(ObjectMeta, Option<S>) -> K,
) -> Decoded<K> {
    let Some(raw) = objects.raw(key) else { return Ok(None) };
    let view: MetadataAndStatus<S> =
        crate::api::decode(raw).map_err(|source| DecodeError { key: Box::new(key.clone()), source })?;
    let mut metadata = view.metadata;
    metadata.managed_fields = None;
    Ok(Some(assemble(metadata, view.status)))
}

/// Read from the raw nodes, without decoding thousands of them: only the labels matter, and
/// labels that are not a map of strings are a decode error naming the node and the field.
fn zoned(objects: &ObjectStore) -> Result<bool, DecodeError> {
    use serde_json::Value;
    let mut zoned = false;
    for (key, node) in objects.raw_list::<Node>("") {
        let invalid = |message: &str| DecodeError {
            key: Box::new(key.clone()),
            source: crate::api::FieldError { path: "metadata.labels".to_owned(), message: message.to_owned() },
        };
        match node.get("metadata").and_then(|m| m.get("labels")) {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                if labels.values().any(|v| !v.is_string()) {
                    return Err(invalid("invalid type: a label value that is not a string"));
                }
                zoned |= labels.contains_key("topology.kubernetes.io/zone");
            }
            Some(_) => return Err(invalid("invalid type: expected a map of strings")),
        }
    }
    Ok(zoned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn with(objects: &[serde_json::Value]) -> Observed {
        let mut observed = Observed::new(Timestamp::UNIX_EPOCH, "seed");
        for object in objects {
            observed.objects.insert(object.clone()).unwrap();
        }
        observed
    }

    #[test]
    fn an_empty_infrastructure_name_is_an_error_naming_the_field() {
        let observed = with(&[json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure",
            "metadata": {"name": "cluster"}, "status": {"infrastructureName": "",
            "platformStatus": {"type": "AWS", "aws": {"region": "us-east-1"}}}})]);
        let inputs = Inputs::decode(&observed);
        let error = inputs.cluster_id().unwrap_err().to_string();
        assert!(error.contains("status.infrastructureName") && error.contains("empty"), "{error}");
        assert_eq!(inputs.platform_status().unwrap().type_, "AWS");
    }

    #[test]
    fn an_object_that_does_not_decode_is_kept_as_its_error() {
        let observed = with(&[json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure",
            "metadata": {"name": "cluster"}, "status": {"infrastructureName": 7}})]);
        let inputs = Inputs::decode(&observed);
        let error = inputs.cluster_id().unwrap_err().to_string();
        assert!(error.contains("Infrastructure") && error.contains("status.infrastructureName"), "{error}");
        assert_eq!(inputs.platform_status(), None);
        assert!(matches!(inputs.config, Ok(None)));
    }

    #[test]
    fn zones_come_from_node_labels() {
        let node = |name: &str, labels: serde_json::Value| json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}});
        assert_eq!(Inputs::decode(&with(&[node("a", json!({}))])).zoned_nodes, Ok(false));
        let zoned = with(&[node("a", json!({})), node("b", json!({"topology.kubernetes.io/zone": "z"}))]);
        assert_eq!(Inputs::decode(&zoned).zoned_nodes, Ok(true));
        let broken = Inputs::decode(&with(&[node("c", json!({"a": 1}))])).zoned_nodes.unwrap_err().to_string();
        assert!(broken.contains("Node c") && broken.contains("metadata.labels"), "{broken}");
    }
}
