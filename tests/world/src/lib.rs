//! The world model: applies a plan's actions to a snapshot as the API server (and, with the
//! storage backends, the clouds) would, returns the outcomes, and plays the other controllers
//! between passes. Pure, so convergence can be checked offline and property-tested.

pub mod cloud;
pub mod events;
pub mod fields;
pub mod run;
pub mod server;
pub mod settle;

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde_json::{Value, json};

use image_registry_core::action::{Action, KubeAction};
use image_registry_core::observed::{ObjectKey, Observed};
use image_registry_core::outcome::{ErrorClass, Outcome, OutcomeResult};
use image_registry_core::plan::Plan;

/// A failure the model injects instead of carrying out an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Applies to actions whose id contains this text (empty: every action).
    pub matching: String,
    /// The error returned.
    pub class: ErrorClass,
    /// How many more times it fires.
    pub remaining: u32,
}

/// A cluster (and its clouds) that executes plans.
#[derive(Clone, Debug)]
pub struct World {
    /// The current state, as the next pass would observe it.
    pub observed: Observed,
    /// Who owns which fields of each object (server-side apply's managed fields).
    owners: BTreeMap<ObjectKey, fields::Owners>,
    next_version: u64,
    /// Failures to inject, consumed in order of matching.
    pub faults: Vec<Fault>,
}

/// The field manager of the operator's writes.
const OPERATOR: &str = "cluster-image-registry-operator";
/// The field manager of the objects a world starts with.
const SNAPSHOT: &str = "snapshot";
/// The field manager of edits made between passes (users, other controllers).
pub(crate) const OTHERS: &str = "others";

fn update_owner(manager: &str, status: bool) -> fields::Owner {
    fields::Owner { manager: manager.to_owned(), apply: false, status }
}

/// A failed call: its class and the message a real service would give.
pub type Failure = (ErrorClass, String);

fn fail<T>(class: ErrorClass, message: impl Into<String>) -> Result<T, Failure> {
    Err((class, message.into()))
}

impl World {
    /// A world starting from a snapshot. Objects already there are owned by whoever wrote the
    /// snapshot (an update), as the fake API server records a loaded fixture.
    pub fn new(observed: Observed) -> Self {
        let next_version = observed
            .objects
            .iter()
            .filter_map(|(_, v)| v.pointer("/metadata/resourceVersion").and_then(Value::as_str)?.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let mut observed = observed;
        let mut owners = BTreeMap::new();
        let mut stripped = Vec::new();
        for (key, object) in observed.objects.iter() {
            // A snapshot that says who owns what (`simulate --write-final`, a real cluster's
            // export) is believed; one that does not is its writer's, by update.
            let fields = match object.pointer("/metadata/managedFields") {
                Some(entries) => {
                    let mut without = object.clone();
                    if let Some(Value::Object(meta)) = without.get_mut("metadata") {
                        meta.remove("managedFields");
                    }
                    stripped.push(without);
                    fields::parse_managed_fields(entries)
                }
                None => {
                    let mut fields = fields::Owners::new();
                    fields::record_update(&key.kind, &mut fields, &update_owner(SNAPSHOT, false), &Value::Null, object);
                    fields
                }
            };
            owners.insert(key.clone(), fields);
        }
        // What the core observes carries no managedFields, as the shell strips them.
        for object in stripped {
            let _ = observed.objects.insert(object);
        }
        Self { observed, owners, next_version, faults: Vec::new() }
    }

    /// The state with each object's `metadata.managedFields`, as a real cluster would export it:
    /// what `simulate --write-final` writes, so a simulation continued from it knows who owns
    /// which field, as the cluster would.
    pub fn snapshot(&self) -> Observed {
        let mut out = self.observed.clone();
        let empty = fields::Owners::new();
        let objects: Vec<(ObjectKey, Value)> =
            self.observed.objects.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (key, mut object) in objects {
            // Every object says who owns it, nobody included: read back, it is not the snapshot's.
            let owners = self.owners.get(&key).unwrap_or(&empty);
            let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_owned();
            if let Some(Value::Object(meta)) = object.get_mut("metadata") {
                meta.insert("managedFields".into(), fields::managed_fields(owners, &api_version));
            }
            let _ = out.objects.insert(object);
        }
        out
    }

    fn version(&mut self) -> String {
        let v = self.next_version;
        self.next_version += 1;
        v.to_string()
    }

    /// Executes a plan in order, stopping at the first failure as the shell does; the
    /// outcomes become the snapshot's `outcomes` for the next pass.
    pub fn execute(&mut self, plan: &Plan) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        let mut failed = false;
        for step in &plan.steps {
            // After a failure only status writes still run: the report must reach the user.
            let status_write = matches!(step.action, Action::Kube(KubeAction::ApplyStatus { .. }));
            let result = if failed && !status_write {
                OutcomeResult::Skipped
            } else {
                match self.injected(&step.id).map_or_else(|| self.carry_out(&step.action), Err) {
                    Ok(()) => OutcomeResult::Succeeded,
                    Err((class, message)) => {
                        failed = true;
                        OutcomeResult::Failed { class, message }
                    }
                }
            };
            outcomes.push(Outcome { action_id: step.id.clone(), result });
        }
        self.observed.outcomes = outcomes.clone();
        outcomes
    }

    fn injected(&mut self, id: &str) -> Option<Failure> {
        let fault = self.faults.iter_mut().find(|f| f.remaining > 0 && id.contains(&f.matching))?;
        fault.remaining -= 1;
        Some((fault.class, format!("injected {:?}", fault.class)))
    }

    /// Moves the clock.
    pub fn advance(&mut self, by: SignedDuration) {
        self.observed.now = self.observed.now.saturating_add(by).unwrap_or(self.observed.now);
    }

    fn stamp_new(&mut self, key: &ObjectKey, object: &mut Value) {
        let version = self.version();
        let now = self.observed.now.to_string();
        if let Some(Value::Object(meta)) = object.get_mut("metadata") {
            meta.insert("uid".into(), json!(format!("uid-{}-{version}", key.name)));
            meta.insert("resourceVersion".into(), json!(version));
            meta.insert("creationTimestamp".into(), json!(now));
            meta.insert("generation".into(), json!(1));
        }
        server::add_defaults(&key.kind, object);
    }

    /// Stores a new object; one without a type or name is rejected, as the API server would.
    fn store_new(&mut self, object: Value) -> Result<(), Failure> {
        match self.observed.objects.insert(object) {
            Ok(_) => Ok(()),
            Err(e) => fail(ErrorClass::Invalid, e.to_string()),
        }
    }

    /// Records a changed object: new resourceVersion, and a new generation when the spec moved.
    pub(crate) fn store_changed(&mut self, before: &Value, mut after: Value) {
        if &after == before {
            return;
        }
        let version = self.version();
        let spec_changed = before.get("spec") != after.get("spec");
        if let Some(Value::Object(meta)) = after.get_mut("metadata") {
            meta.insert("resourceVersion".into(), json!(version));
            if spec_changed {
                let generation = meta.get("generation").and_then(Value::as_i64).unwrap_or(0) + 1;
                meta.insert("generation".into(), json!(generation));
            }
        }
        let _ = self.observed.objects.insert(after);
    }

    /// Records an update (not an apply) by `manager` in the managed fields, then stores it.
    pub(crate) fn update(&mut self, key: &ObjectKey, manager: &str, before: &Value, after: Value) {
        let owners = self.owners.entry(key.clone()).or_default();
        for status in [false, true] {
            fields::record_update(&key.kind, owners, &update_owner(manager, status), before, &after);
        }
        self.store_changed(before, after);
    }

    /// The guarded JSON patch an apply sends first (`objects::takeback`), when it has one.
    fn take_back(&mut self, key: &ObjectKey, ops: &[Value]) -> Result<(), Failure> {
        if ops.is_empty() {
            return Ok(());
        }
        let before = self.current(key)?;
        let mut after = before.clone();
        server::json_patch(&mut after, ops).map_err(|e| (ErrorClass::Invalid, e))?;
        self.update(key, OPERATOR, &before, after);
        Ok(())
    }

    fn guard(current: &Value, resource_version: &str) -> Result<(), Failure> {
        let have = current.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
        if !resource_version.is_empty() && have != resource_version {
            return fail(ErrorClass::Conflict, format!("resourceVersion {resource_version} is stale (now {have})"));
        }
        Ok(())
    }

    fn current(&self, key: &ObjectKey) -> Result<Value, Failure> {
        match self.observed.objects.raw(key) {
            Some(v) => Ok(v.clone()),
            None => fail(ErrorClass::NotFound, format!("{key} not found")),
        }
    }

    fn carry_out(&mut self, action: &Action) -> Result<(), Failure> {
        match action {
            Action::Kube(kube) => self.kube(kube),
            Action::Cloud(call) => self.cloud(call),
        }
    }

    fn kube(&mut self, action: &KubeAction) -> Result<(), Failure> {
        match action {
            KubeAction::Create { key, object } => {
                if self.observed.objects.raw(key).is_some() {
                    return fail(ErrorClass::AlreadyExists, format!("{key} already exists"));
                }
                let mut object = object.expose().clone();
                self.stamp_new(key, &mut object);
                self.store_new(object)?;
            }
            KubeAction::Apply { key, object, take_back, .. } => {
                self.take_back(key, take_back)?;
                let applied = object.expose();
                let before = self.observed.objects.raw(key).cloned();
                let owner = fields::Owner { manager: OPERATOR.to_owned(), apply: true, status: false };
                let mut owners = self.owners.get(key).cloned().unwrap_or_default();
                let after = fields::apply(&key.kind, &mut owners, &owner, before.as_ref(), applied, true)
                    .map_err(|c| (ErrorClass::Conflict, format!("{} conflicts", c.len())))?;
                match before {
                    None => {
                        let mut fresh = after;
                        self.stamp_new(key, &mut fresh);
                        self.store_new(fresh)?;
                    }
                    Some(before) => {
                        let mut after = after;
                        server::add_defaults(&key.kind, &mut after);
                        self.store_changed(&before, after);
                    }
                }
                self.owners.insert(key.clone(), owners);
            }
            KubeAction::ApplyStatus { key, object, take_back, .. } => {
                self.take_back(key, take_back)?;
                let before = self.current(key)?;
                let owner = fields::Owner { manager: OPERATOR.to_owned(), apply: true, status: true };
                let mut owners = self.owners.get(key).cloned().unwrap_or_default();
                // Through the status subresource `fields::apply` merges and releases status alone.
                let after = fields::apply(&key.kind, &mut owners, &owner, Some(&before), object.expose(), true)
                    .map_err(|c| (ErrorClass::Conflict, format!("{} conflicts", c.len())))?;
                self.store_changed(&before, after);
                self.owners.insert(key.clone(), owners);
            }
            KubeAction::Patch { key, patch, resource_version, .. } => {
                let before = self.current(key)?;
                Self::guard(&before, resource_version)?;
                let mut after = before.clone();
                server::merge_patch(&mut after, patch.expose());
                self.update(key, OPERATOR, &before, after);
            }
            KubeAction::AddFinalizer { key, finalizer, resource_version } => {
                let before = self.current(key)?;
                Self::guard(&before, resource_version)?;
                let mut after = before.clone();
                if let Some(Value::Object(meta)) = after.get_mut("metadata") {
                    let list = meta.entry("finalizers").or_insert_with(|| json!([]));
                    if let Value::Array(items) = list
                        && !items.contains(&json!(finalizer))
                    {
                        items.push(json!(finalizer));
                    }
                }
                self.update(key, OPERATOR, &before, after);
            }
            KubeAction::RemoveFinalizer { key, finalizer, resource_version } => {
                let before = self.current(key)?;
                Self::guard(&before, resource_version)?;
                let mut after = before.clone();
                if let Some(Value::Array(items)) = after.pointer_mut("/metadata/finalizers") {
                    items.retain(|f| f != &json!(finalizer));
                }
                self.update(key, OPERATOR, &before, after);
                self.reap(key);
            }
            KubeAction::Delete { key, preconditions } => {
                let before = self.current(key)?;
                let text = |p: &str| before.pointer(p).and_then(Value::as_str).map(str::to_owned);
                if preconditions.uid.as_ref().is_some_and(|uid| Some(uid) != text("/metadata/uid").as_ref()) {
                    return fail(ErrorClass::Conflict, format!("{key}: uid precondition failed"));
                }
                if preconditions
                    .resource_version
                    .as_ref()
                    .is_some_and(|rv| Some(rv) != text("/metadata/resourceVersion").as_ref())
                {
                    return fail(ErrorClass::Conflict, format!("{key}: resourceVersion precondition failed"));
                }
                self.delete(key);
            }
        }
        Ok(())
    }

    /// Deletes an object: with finalizers it only gets a deletionTimestamp.
    pub fn delete(&mut self, key: &ObjectKey) {
        let Some(before) = self.observed.objects.raw(key).cloned() else { return };
        let has_finalizers =
            before.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
        if has_finalizers {
            if before.pointer("/metadata/deletionTimestamp").is_none() {
                let mut after = before.clone();
                if let Some(Value::Object(meta)) = after.get_mut("metadata") {
                    meta.insert("deletionTimestamp".into(), json!(self.observed.now.to_string()));
                }
                self.store_changed(&before, after);
            }
        } else {
            self.observed.objects.remove(key);
            self.owners.remove(key);
        }
    }

    /// Removes an object whose deletion was waiting only for finalizers.
    fn reap(&mut self, key: &ObjectKey) {
        if let Some(object) = self.observed.objects.raw(key) {
            let deleting = object.pointer("/metadata/deletionTimestamp").is_some();
            let finalizers =
                object.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
            if deleting && !finalizers {
                self.observed.objects.remove(key);
                self.owners.remove(key);
            }
        }
    }
}
