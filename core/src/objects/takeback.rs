//! Taking back what the operator owns exclusively. Server-side apply leaves alone the list
//! items another writer added (an env var, a container port, a Service port whose number a user
//! changed): they stay forever, and a Service port beside the operator's with the same name is
//! rejected by the API server. For every keyed list in the operator's objects (outside
//! metadata, where others' labels and annotations stay), items whose keys the operator does not
//! apply are removed by a JSON patch that first `test`s each one, so a concurrent change makes it
//! fail instead of removing something else; the operator's missing items are added in the same
//! patch, so a list the API requires non-empty (Service ports) never is.

use serde_json::{Value, json};

use crate::action::FieldChange;
use crate::diff::{item_label, same_item};
use crate::structure::{ListType, list_type};

/// The guarded JSON patch and the removals it makes, for the plan.
#[derive(Debug, Default, PartialEq)]
pub struct TakeBack {
    /// JSON patch operations (`test`, `remove`, `add`).
    pub ops: Vec<Value>,
    /// One change per removed item, `after` absent.
    pub changes: Vec<FieldChange>,
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// One step into the object; the JSON pointer and the printed path are built only for a list
/// that has foreign items, so the walk over an object nobody else touched allocates nothing.
enum Step<'a> {
    Key(&'a str),
    Item(&'static [&'static str], &'a Value, usize),
}

struct Walk<'k, 'a> {
    kind: &'k str,
    names: Vec<&'a str>,
    steps: Vec<Step<'a>>,
    out: TakeBack,
}

impl<'a> Walk<'_, 'a> {
    /// The JSON pointer of where the walk is.
    fn pointer(&self) -> String {
        let mut text = String::new();
        for step in &self.steps {
            text.push('/');
            match step {
                Step::Key(key) => text.push_str(&escape(key)),
                Step::Item(_, _, index) => text.push_str(&index.to_string()),
            }
        }
        text
    }

    /// The dotted path of where the walk is, items labelled by their keys.
    fn path(&self) -> String {
        let mut text = String::new();
        for step in &self.steps {
            match step {
                Step::Key(key) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(key);
                }
                Step::Item(keys, item, _) => text.push_str(&item_label(keys, item)),
            }
        }
        text
    }

    fn walk(&mut self, desired: &'a Value, current: &'a Value) {
        match (desired, current) {
            (Value::Object(want), Value::Object(have)) => {
                for (key, child) in want {
                    if self.names.is_empty() && matches!(key.as_str(), "metadata" | "status") {
                        continue;
                    }
                    if let Some(slot) = have.get(key) {
                        self.names.push(key);
                        self.steps.push(Step::Key(key));
                        self.walk(child, slot);
                        self.steps.pop();
                        self.names.pop();
                    }
                }
            }
            (Value::Array(want), Value::Array(have)) => {
                let ListType::Map(keys) = list_type(self.kind, &self.names) else { return };
                let mut foreign = Vec::new();
                for (index, item) in have.iter().enumerate() {
                    match want.iter().find(|w| same_item(keys, w, item)) {
                        Some(mine) => {
                            self.steps.push(Step::Item(keys, item, index));
                            self.walk(mine, item);
                            self.steps.pop();
                        }
                        None => foreign.push((index, item)),
                    }
                }
                if foreign.is_empty() {
                    return;
                }
                let (pointer, path) = (self.pointer(), self.path());
                for (index, item) in foreign.iter().rev() {
                    let at = format!("{pointer}/{index}");
                    self.out.ops.push(json!({"op": "test", "path": at, "value": item}));
                    self.out.ops.push(json!({"op": "remove", "path": at}));
                }
                for (_, item) in &foreign {
                    self.out.changes.push(FieldChange {
                        path: format!("{path}{}", item_label(keys, item)),
                        before: Some((*item).clone()),
                        after: None,
                        secret: false,
                    });
                }
                for mine in want.iter().filter(|w| !have.iter().any(|h| same_item(keys, w, h))) {
                    self.out.ops.push(json!({"op": "add", "path": format!("{pointer}/-"), "value": mine}));
                }
            }
            _ => {}
        }
    }
}

/// The operations that empty, field by field with a `test` each, every object the new status
/// sends as `{}` where the stored status has fields inside it. A real API server stores an
/// applied `{}` over fields the same manager owned as `null` (kubernetes/kubernetes#135841),
/// which a schema wanting an object then rejects; once the fields are gone nobody owns
/// anything inside, and the `{}` stays `{}`.
pub fn emptied(old: &Value, new: &Value) -> Vec<Value> {
    fn walk(old: &Value, new: &Value, pointer: &str, ops: &mut Vec<Value>) {
        let (Value::Object(have), Value::Object(want)) = (old, new) else { return };
        if want.is_empty() {
            for (key, value) in have {
                let at = format!("{pointer}/{}", escape(key));
                ops.push(json!({"op": "test", "path": at, "value": value}));
                ops.push(json!({"op": "remove", "path": at}));
            }
            return;
        }
        for (key, child) in want {
            if let Some(slot) = have.get(key) {
                walk(slot, child, &format!("{pointer}/{}", escape(key)), ops);
            }
        }
    }
    let mut ops = Vec::new();
    walk(old, new, "/status", &mut ops);
    ops
}

/// A guarded JSON patch making a status exactly what the operator applies, for a status that
/// is the operator's whole (the Config's: the reference replaces it with an update): every
/// field and keyed-list item of `old` that `new` leaves out is removed after a `test` of its
/// value. Server-side apply alone leaves them to whoever wrote them (the reference's updates on
/// a cluster taken over, a writer whose managed fields were lost): a swapped-out storage backend
/// beside the new one, an old condition message under a new reason, forever. It also empties
/// the objects sent as `{}` ([`emptied`]). Item removals go last, highest index first, so no
/// pointer moves under a later operation.
pub fn status_whole(kind: &str, old: &Value, new: &Value) -> Vec<Value> {
    struct Removals {
        fields: Vec<Value>,
        items: Vec<(String, usize, Value)>,
    }
    fn walk(kind: &str, names: &mut Vec<String>, old: &Value, new: &Value, pointer: &str, out: &mut Removals) {
        match (old, new) {
            (Value::Object(have), Value::Object(want)) => {
                for (key, value) in have {
                    let at = format!("{pointer}/{}", escape(key));
                    match want.get(key) {
                        None if !value.is_null() => {
                            out.fields.push(json!({"op": "test", "path": at, "value": value}));
                            out.fields.push(json!({"op": "remove", "path": at}));
                        }
                        None => {}
                        Some(child) => {
                            names.push(key.clone());
                            walk(kind, names, value, child, &at, out);
                            names.pop();
                        }
                    }
                }
            }
            (Value::Array(have), Value::Array(want)) => {
                let path: Vec<&str> = names.iter().map(String::as_str).collect();
                let ListType::Map(keys) = list_type(kind, &path) else { return };
                for (index, item) in have.iter().enumerate() {
                    match want.iter().find(|w| same_item(keys, item, w)) {
                        Some(wanted) => {
                            let at = format!("{pointer}/{index}");
                            // The item's keys are tested first: its index is where it was read.
                            // Kept only when something inside it is removed.
                            let start = out.fields.len();
                            for key in keys {
                                let value = item.get(*key).cloned().unwrap_or(Value::Null);
                                out.fields.push(json!({"op": "test", "path": format!("{at}/{key}"), "value": value}));
                            }
                            walk(kind, names, item, wanted, &at, out);
                            if out.fields.len() == start + keys.len() {
                                out.fields.truncate(start);
                            }
                        }
                        None => out.items.push((pointer.to_owned(), index, item.clone())),
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Removals { fields: Vec::new(), items: Vec::new() };
    walk(kind, &mut vec!["status".to_owned()], old, new, "/status", &mut out);
    let mut ops = out.fields;
    out.items.sort_by(|a, b| (&a.0, std::cmp::Reverse(a.1)).cmp(&(&b.0, std::cmp::Reverse(b.1))));
    for (pointer, index, item) in out.items {
        let at = format!("{pointer}/{index}");
        ops.push(json!({"op": "test", "path": at, "value": item}));
        ops.push(json!({"op": "remove", "path": at}));
    }
    ops
}

/// The items of `current` (an object of `kind`) that the operator's `desired` object does not
/// define, in the keyed lists it defines.
pub fn take_back(kind: &str, desired: &Value, current: &Value) -> TakeBack {
    let mut walk = Walk { kind, names: Vec::new(), steps: Vec::new(), out: TakeBack::default() };
    walk.walk(desired, current);
    walk.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_new_status_leaves_out_is_removed_after_a_test_items_last_and_highest_first() {
        let old = json!({
            "storage": {"managementState": "Managed", "s3": {"bucket": "b"}, "emptyDir": {}},
            "conditions": [
                {"type": "Old", "status": "True"},
                {"type": "StorageExists", "reason": "PVC Created", "message": "EmptyDir storage successfully created"},
                {"type": "Gone", "status": "False"},
                {"type": "Available", "status": "True"},
            ],
        });
        let new = json!({
            "storage": {"managementState": "Managed", "emptyDir": {}},
            "conditions": [{"type": "StorageExists", "reason": "PVC Exists"}, {"type": "Available", "status": "True"}],
        });
        assert_eq!(
            status_whole("Config", &old, &new),
            vec![
                json!({"op": "test", "path": "/status/conditions/1/type", "value": "StorageExists"}),
                json!({"op": "test", "path": "/status/conditions/1/message", "value": "EmptyDir storage successfully created"}),
                json!({"op": "remove", "path": "/status/conditions/1/message"}),
                json!({"op": "test", "path": "/status/storage/s3", "value": {"bucket": "b"}}),
                json!({"op": "remove", "path": "/status/storage/s3"}),
                json!({"op": "test", "path": "/status/conditions/2", "value": {"type": "Gone", "status": "False"}}),
                json!({"op": "remove", "path": "/status/conditions/2"}),
                json!({"op": "test", "path": "/status/conditions/0", "value": {"type": "Old", "status": "True"}}),
                json!({"op": "remove", "path": "/status/conditions/0"}),
            ]
        );
        assert!(status_whole("Config", &new, &new).is_empty());
        // An object sent as `{}` is emptied first, as `emptied` does.
        let emptied_old = json!({"storage": {"emptyDir": {"x": 1}}});
        let emptied_new = json!({"storage": {"emptyDir": {}}});
        assert_eq!(status_whole("Config", &emptied_old, &emptied_new), emptied(&emptied_old, &emptied_new));
    }

    #[test]
    fn a_foreign_env_var_and_port_are_removed_after_a_test_and_metadata_stays() {
        let desired = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"template": {"spec": {"containers": [
            {"name": "registry", "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 5000, "protocol": "TCP"}]}
        ]}}}});
        let current = json!({"metadata": {"labels": {"a": "b", "user": "x"}}, "spec": {"template": {"spec": {"containers": [
            {"name": "registry", "env": [{"name": "FOO", "value": "BAR"}, {"name": "A", "value": "1"}],
             "ports": [{"containerPort": 5000, "protocol": "TCP"}, {"containerPort": 9000, "protocol": "TCP"}]}
        ]}}}});
        let back = take_back("Deployment", &desired, &current);
        let at = "/spec/template/spec/containers/0";
        assert_eq!(
            back.ops,
            vec![
                json!({"op": "test", "path": format!("{at}/env/0"), "value": {"name": "FOO", "value": "BAR"}}),
                json!({"op": "remove", "path": format!("{at}/env/0")}),
                json!({"op": "test", "path": format!("{at}/ports/1"), "value": {"containerPort": 9000, "protocol": "TCP"}}),
                json!({"op": "remove", "path": format!("{at}/ports/1")}),
            ]
        );
        let paths: Vec<&str> = back.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "spec.template.spec.containers[name=registry].env[name=FOO]",
                "spec.template.spec.containers[name=registry].ports[containerPort=9000,protocol=TCP]"
            ]
        );
    }

    #[test]
    fn a_service_port_a_user_renumbered_is_replaced_in_one_patch() {
        let desired = json!({"spec": {"ports": [{"name": "5000-tcp", "port": 5000, "protocol": "TCP"}]}});
        let current =
            json!({"spec": {"ports": [{"name": "5000-tcp", "port": 5001, "protocol": "TCP", "targetPort": 5000}]}});
        let back = take_back("Service", &desired, &current);
        assert_eq!(back.ops.len(), 3);
        assert_eq!(back.ops[2], json!({"op": "add", "path": "/spec/ports/-", "value": desired["spec"]["ports"][0]}));
        assert_eq!(back.changes[0].path, "spec.ports[port=5001,protocol=TCP]");
    }

    #[test]
    fn an_emptied_status_object_is_cleared_field_by_field_first() {
        let old = json!({"storage": {"s3": {"bucket": "b"}}, "storageManaged": true});
        let new = json!({"storage": {}, "storageManaged": false});
        assert_eq!(
            emptied(&old, &new),
            vec![
                json!({"op": "test", "path": "/status/storage/s3", "value": {"bucket": "b"}}),
                json!({"op": "remove", "path": "/status/storage/s3"}),
            ]
        );
        assert!(emptied(&new, &new).is_empty());
        assert!(emptied(&json!({"storage": {}}), &new).is_empty());
    }

    #[test]
    fn nothing_foreign_nothing_to_do() {
        let desired = json!({"spec": {"ports": [{"name": "5000-tcp", "port": 5000, "protocol": "TCP"}]}});
        let current =
            json!({"spec": {"ports": [{"name": "5000-tcp", "port": 5000, "protocol": "TCP", "targetPort": 5000}]}});
        assert_eq!(take_back("Service", &desired, &current), TakeBack::default());
    }
}
