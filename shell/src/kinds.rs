//! Addressing objects through the API: an [`ObjectKey`] or a known kind to a dynamic `Api`.

use image_registry_core::api::Kind;
use image_registry_core::observed::ObjectKey;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;

/// The API resource of a known kind.
pub fn resource(kind: &Kind) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(kind.group, kind.version, kind.kind), kind.plural)
}

/// The known kind of `group` and `kind`, or an error naming it.
pub fn find(group: &str, kind: &str) -> Result<&'static Kind, String> {
    Kind::find(group, kind).ok_or_else(|| format!("{kind}.{group} is not a kind the operator knows"))
}

/// A dynamic `Api` for the object at `key` (namespaced or cluster-wide as its kind is).
pub fn api_for(client: &kube::Client, key: &ObjectKey) -> Result<(Api<DynamicObject>, ApiResource), String> {
    let kind = find(&key.group, &key.kind)?;
    let ar = resource(kind);
    let api = if kind.namespaced {
        Api::namespaced_with(client.clone(), &key.namespace, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    Ok((api, ar))
}

/// A dynamic `Api` over one kind, in `namespace` or cluster-wide (`None`).
pub fn api_over(client: &kube::Client, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    let ar = resource(kind);
    match namespace {
        Some(ns) if kind.namespaced => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    }
}
