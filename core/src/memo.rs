//! Encoded objects remembered by their typed value, in a memo the caller owns (the shell's
//! loop keeps one `Reconciler`, and with it one `Memo`, for the life of the process): a pass at
//! the fixpoint builds the same typed objects as the pass before, and encoding one (to JSON,
//! then its checksum) costs far more than comparing it. Pure as far as a pass can tell: what
//! [`Memo::encode`] returns is a function of the typed object and its secret pointers alone,
//! whatever is remembered. Generic over what an encoding is, so it imports nothing of the core.

use std::any::{Any, TypeId};
use std::sync::Mutex;

/// Objects remembered per type: the operator builds at most a few of each (its routes, two
/// secrets).
const PER_TYPE: usize = 8;

struct Entry<K, D> {
    typed: K,
    secrets: Vec<String>,
    encoded: D,
}

/// Per type, a `Vec<Entry<K, D>>`, most recent first.
type Shelf = (TypeId, Box<dyn Any + Send>);

/// The memo. A `Mutex` only so that a `&Reconciler` may cross threads; a pass is sequential.
#[derive(Default)]
pub struct Memo {
    shelves: Mutex<Vec<Shelf>>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").finish_non_exhaustive()
    }
}

impl Memo {
    /// `object` with `secrets`, encoded by `encode`, or as it was encoded before. `same` tells
    /// whether two encodings are of the same object (its key): only its last version is kept.
    pub fn encode<K, D>(
        &self,
        object: &K,
        secrets: Vec<String>,
        encode: impl FnOnce(&K, Vec<String>) -> Result<D, String>,
        same: impl Fn(&D, &D) -> bool,
    ) -> Result<D, String>
    where
        K: Clone + PartialEq + Send + 'static,
        D: Clone + Send + 'static,
    {
        if let Some(found) = self.recall::<K, D>(object, &secrets) {
            return Ok(found);
        }
        let encoded = encode(object, secrets.clone())?;
        self.remember(Entry { typed: object.clone(), secrets, encoded: encoded.clone() }, same);
        Ok(encoded)
    }

    fn recall<K: PartialEq + 'static, D: Clone + 'static>(&self, object: &K, secrets: &[String]) -> Option<D> {
        // A poisoned lock only means another thread panicked mid-update: forget, do not fail.
        let shelves = self.shelves.lock().ok()?;
        let entries = shelves.iter().find(|(id, _)| *id == TypeId::of::<K>())?.1.downcast_ref::<Vec<Entry<K, D>>>()?;
        let entry = entries.iter().find(|e| e.typed == *object && e.secrets == secrets)?;
        Some(entry.encoded.clone())
    }

    fn remember<K: Send + 'static, D: Send + 'static>(&self, entry: Entry<K, D>, same: impl Fn(&D, &D) -> bool) {
        let Ok(mut shelves) = self.shelves.lock() else { return };
        let index = match shelves.iter().position(|(id, _)| *id == TypeId::of::<K>()) {
            Some(index) => index,
            None => {
                shelves.push((TypeId::of::<K>(), Box::new(Vec::<Entry<K, D>>::new())));
                shelves.len() - 1
            }
        };
        let Some(entries) = shelves.get_mut(index).and_then(|(_, shelf)| shelf.downcast_mut::<Vec<Entry<K, D>>>())
        else {
            return;
        };
        // One version per object: the one encoded last. An earlier version (rotated credentials
        // in a Secret, say) is forgotten as soon as it is replaced, not kept until it ages out.
        entries.retain(|e| !same(&e.encoded, &entry.encoded));
        entries.insert(0, entry);
        entries.truncate(PER_TYPE);
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;
    use crate::objects::Desired;

    fn same(a: &Desired, b: &Desired) -> bool {
        a.key == b.key
    }

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
            Desired::new(object, secrets)
        };
        let memo = Memo::default();
        let first = memo.encode(&map("memo-a", "1"), vec![], counted, same).unwrap();
        let again = memo.encode(&map("memo-a", "1"), vec![], counted, same).unwrap();
        assert_eq!((first.clone(), calls.get()), (again, 1));
        let changed = memo.encode(&map("memo-a", "2"), vec![], counted, same).unwrap();
        assert_eq!(calls.get(), 2);
        assert_ne!(changed.object, first.object, "a changed object is encoded anew");
        let secret = memo.encode(&map("memo-a", "2"), vec!["/data/k".to_owned()], counted, same).unwrap();
        assert_eq!((calls.get(), secret.secrets.len()), (3, 1), "the secret pointers are part of what is remembered");
        assert_eq!(
            first,
            Desired::new(&map("memo-a", "1"), vec![]).unwrap(),
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
        let memo = Memo::default();
        let _ = memo.encode(&secret("old credentials"), vec![], Desired::new, same);
        let _ = memo.encode(&secret("new credentials"), vec![], Desired::new, same);
        let shelves = memo.shelves.lock().unwrap();
        let kept = shelves.iter().find(|(id, _)| *id == TypeId::of::<Secret>()).unwrap();
        let versions: Vec<&Entry<Secret, Desired>> = kept
            .1
            .downcast_ref::<Vec<Entry<Secret, Desired>>>()
            .unwrap()
            .iter()
            .filter(|e| e.encoded.key.name == "memo-rotated")
            .collect();
        assert_eq!(versions.len(), 1, "the rotated-out version is forgotten");
        assert_eq!(versions[0].typed, secret("new credentials"));
    }

    #[test]
    fn no_more_than_a_few_of_a_type_are_kept() {
        let memo = Memo::default();
        for i in 0..(PER_TYPE * 3) {
            let _ = memo.encode(&map(&format!("memo-many-{i}"), "v"), vec![], Desired::new, same);
        }
        let shelves = memo.shelves.lock().unwrap();
        let kept = shelves.iter().find(|(id, _)| *id == TypeId::of::<ConfigMap>()).unwrap();
        assert!(kept.1.downcast_ref::<Vec<Entry<ConfigMap, Desired>>>().unwrap().len() <= PER_TYPE);
    }
}
