//! Fixed names and keys shared by the operator and the registry (spec 20 §0).

/// The operand namespace.
pub const NAMESPACE: &str = "openshift-image-registry";
/// Name of the singleton Config, ImagePruner, Infrastructure, APIServer, Proxy and Image.
pub const CLUSTER: &str = "cluster";
/// The finalizer on the Config.
pub const FINALIZER: &str = "imageregistry.operator.openshift.io/finalizer";
/// Ownership annotation on routes and PVCs the operator created.
pub const OWNERSHIP_ANNOTATION: &str = "imageregistry.openshift.io";
/// The claim the operator provisions for PVC storage.
pub const DEFAULT_CLAIM: &str = "image-registry-storage";
/// The operator-owned secret holding storage credentials for the registry.
pub const PRIVATE_CONFIGURATION_SECRET: &str = "image-registry-private-configuration";
/// The user's credentials override (spec 30 §1.7).
pub const USER_CREDENTIALS_SECRET: &str = "image-registry-private-configuration-user";
/// Credentials minted by the cloud-credential-operator.
pub const INSTALLER_CREDENTIALS_SECRET: &str = "installer-cloud-credentials";
/// Workload label and selector of the registry pods.
pub const REGISTRY_LABEL: (&str, &str) = ("docker-registry", "default");
/// Name of the Deployment, Service and PDB.
pub const REGISTRY_NAME: &str = "image-registry";
/// The registry's ServiceAccount.
pub const REGISTRY_SERVICE_ACCOUNT: &str = "registry";
/// Annotation holding the digest of what the operator last applied to an object.
pub const CHECKSUM_ANNOTATION: &str = "imageregistry.operator.openshift.io/checksum";
/// Pod-template annotation holding the digest of the pod's dependencies.
pub const DEPENDENCIES_CHECKSUM_ANNOTATION: &str = "imageregistry.operator.openshift.io/dependencies-checksum";
/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "cluster-image-registry-operator";
/// Name of the route `spec.defaultRoute` asks for.
pub const DEFAULT_ROUTE: &str = "default-route";
/// Secret with the cluster's global pull secret.
pub const GLOBAL_PULL_SECRET: (&str, &str) = ("openshift-config", "pull-secret");
/// Copy of the global pull secret in the operand namespace.
pub const INSTALLATION_PULL_SECRETS: &str = "installation-pull-secrets";
/// The node-ca DaemonSet.
pub const NODE_CA: &str = "node-ca";
/// The ClusterOperator this operator reports to.
pub const CLUSTER_OPERATOR: &str = "image-registry";
