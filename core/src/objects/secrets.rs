//! `installation-pull-secrets` and `image-registry-private-configuration` (spec 20 §2.4, §2.5).
//!
//! Both are written as `data` (base64), never `stringData`: the server folds `stringData` into
//! `data`, so an applied `stringData` would never read back equal and every pass would write.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Desired;
use crate::inputs::Inputs;
use crate::memo::Memo;
use crate::names::{GLOBAL_PULL_SECRET, INSTALLATION_PULL_SECRETS, NAMESPACE, PRIVATE_CONFIGURATION_SECRET};
use crate::storage::Wiring;

fn secret(name: &str, type_: &str, data: BTreeMap<String, ByteString>) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            ..ObjectMeta::default()
        },
        type_: Some(type_.to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

/// A copy of `openshift-config/pull-secret`. Without a source there is nothing to copy: a
/// `dockerconfigjson` Secret without `.dockerconfigjson` would be rejected, and the registry
/// mounts this secret optionally, so none is planned.
pub fn installation_pull_secrets(observed: &Inputs<'_>) -> Result<Option<Desired>, String> {
    let (namespace, name) = GLOBAL_PULL_SECRET;
    let source = observed.objects.get::<Secret>(namespace, name).map_err(|e| e.to_string())?;
    let Some(source) = source else { return Ok(None) };
    let copy = secret(INSTALLATION_PULL_SECRETS, "kubernetes.io/dockerconfigjson", source.data.unwrap_or_default());
    Desired::remembered(observed.memo, &copy, vec![]).map(Some)
}

/// The storage credentials and secret settings the registry reads.
pub fn private_configuration(memo: Option<&Memo>, wiring: &Wiring) -> Result<Desired, String> {
    let data = wiring.private_configuration().into_iter().map(|(k, v)| (k, ByteString(v.into_bytes()))).collect();
    Desired::remembered(memo, &secret(PRIVATE_CONFIGURATION_SECRET, "Opaque", data), vec![])
}
