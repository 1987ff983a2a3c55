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
