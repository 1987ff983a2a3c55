//! Encoded objects remembered by their typed value: a pass at the fixpoint builds the same
//! typed objects as the pass before, and encoding one (to JSON, then its checksum) costs far
//! more than comparing it. Pure as far as a caller can tell: the result of [`encode`] is a
//! function of the typed object and its secret pointers alone, whatever is remembered.

use std::any::{Any, TypeId};
use std::sync::Mutex;

use super::Desired;
use crate::api::ApiObject;

/// Objects remembered per type: the operator builds at most a few of each (its routes, two
/// secrets); more only when tests reconcile many clusters in one process, and then the oldest
/// is forgotten.
const PER_TYPE: usize = 8;

struct Entry<K> {
    typed: K,
    secrets: Vec<String>,
    desired: Desired,
}

/// Per type, a `Vec<Entry<K>>`, most recent first.
type Shelf = (TypeId, Box<dyn Any + Send>);

static REMEMBERED: Mutex<Vec<Shelf>> = Mutex::new(Vec::new());

/// `object` with `secrets`, encoded by `encode`, or as it was encoded before.
pub(super) fn encode<K>(
    object: &K,
    secrets: Vec<String>,
    encode: impl FnOnce(&K, Vec<String>) -> Result<Desired, String>,
) -> Result<Desired, String>
where
    K: ApiObject + Clone + PartialEq + Send + 'static,
{
    if let Some(found) = recall(object, &secrets) {
        return Ok(found);
    }
    let desired = encode(object, secrets.clone())?;
    remember(Entry { typed: object.clone(), secrets, desired: desired.clone() });
    Ok(desired)
}

fn recall<K: PartialEq + 'static>(object: &K, secrets: &[String]) -> Option<Desired> {
    // A poisoned lock only means another thread panicked mid-update: forget, do not fail.
    let shelves = REMEMBERED.lock().ok()?;
    let entries = shelves.iter().find(|(id, _)| *id == TypeId::of::<K>())?.1.downcast_ref::<Vec<Entry<K>>>()?;
    let entry = entries.iter().find(|e| e.typed == *object && e.secrets == secrets)?;
    Some(entry.desired.clone())
}

fn remember<K: Send + 'static>(entry: Entry<K>) {
    let Ok(mut shelves) = REMEMBERED.lock() else { return };
    let index = match shelves.iter().position(|(id, _)| *id == TypeId::of::<K>()) {
        Some(index) => index,
        None => {
            shelves.push((TypeId::of::<K>(), Box::new(Vec::<Entry<K>>::new())));
            shelves.len() - 1
        }
    };
    let Some(entries) = shelves.get_mut(index).and_then(|(_, shelf)| shelf.downcast_mut::<Vec<Entry<K>>>()) else {
        return;
    };
    // One version per object: the one encoded last. An earlier version (rotated credentials in a
    // Secret, say) is forgotten as soon as it is replaced, not kept until it ages out.
    entries.retain(|e| e.desired.key != entry.desired.key);
    entries.insert(0, entry);
    entries.truncate(PER_TYPE);
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn map(name: &str, value: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some("memo-test".to_owned()),
                ..ObjectMeta::default()
            },
            data: Some([("k".to_owned(), value.to_owned())].into()),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn the_same_object_is_encoded_once_and_a_different_one_again() {
        let calls = std::cell::Cell::new(0);
        let counted = |object: &ConfigMap, secrets: Vec<String>| {
            calls.set(calls.get() + 1);
            Desired::encode(object, secrets)
        };
        let first = encode(&map("memo-a", "1"), vec![], counted).unwrap();
        let again = encode(&map("memo-a", "1"), vec![], counted).unwrap();
        assert_eq!((first.clone(), calls.get()), (again, 1));
        let changed = encode(&map("memo-a", "2"), vec![], counted).unwrap();
        assert_eq!(calls.get(), 2);
        assert_ne!(changed.object, first.object, "a changed object is encoded anew");
        let secret = encode(&map("memo-a", "2"), vec!["/data/k".to_owned()], counted).unwrap();
        assert_eq!((calls.get(), secret.secrets.len()), (3, 1), "the secret pointers are part of what is remembered");
        assert_eq!(
            first,
            Desired::encode(&map("memo-a", "1"), vec![]).unwrap(),
            "what is recalled is what encoding gives"
        );
    }

    #[test]
    fn only_the_last_version_of_an_object_is_kept() {
        use k8s_openapi::api::core::v1::Secret;
        let secret = |value: &str| Secret {
            metadata: ObjectMeta {
                name: Some("memo-rotated".to_owned()),
                namespace: Some("memo-test".to_owned()),
                ..ObjectMeta::default()
            },
            string_data: Some([("key".to_owned(), value.to_owned())].into()),
            ..Secret::default()
        };
        let _ = encode(&secret("old credentials"), vec![], Desired::encode);
        let _ = encode(&secret("new credentials"), vec![], Desired::encode);
        let shelves = REMEMBERED.lock().unwrap();
        let kept = shelves.iter().find(|(id, _)| *id == TypeId::of::<Secret>()).unwrap();
        let versions: Vec<&Entry<Secret>> = kept
            .1
            .downcast_ref::<Vec<Entry<Secret>>>()
            .unwrap()
            .iter()
            .filter(|e| e.desired.key.name == "memo-rotated")
            .collect();
        assert_eq!(versions.len(), 1, "the rotated-out version is forgotten");
        assert_eq!(versions[0].typed, secret("new credentials"));
    }

    #[test]
    fn no_more_than_a_few_of_a_type_are_kept() {
        for i in 0..(PER_TYPE * 3) {
            let _ = encode(&map(&format!("memo-many-{i}"), "v"), vec![], Desired::encode);
        }
        let shelves = REMEMBERED.lock().unwrap();
        let kept = shelves.iter().find(|(id, _)| *id == TypeId::of::<ConfigMap>()).unwrap();
        assert!(kept.1.downcast_ref::<Vec<Entry<ConfigMap>>>().unwrap().len() <= PER_TYPE);
    }
}
