//! The closed vocabulary of effects: Kubernetes writes and cloud storage calls. Plain data,
//! each with a one-line `describe()`. Secret values never leave an action in serialised form.

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::observed::ObjectKey;

mod cloud;

pub use crate::storage::call::Change;
pub use cloud::CloudAction;

/// What `<redacted>` secrets are printed as.
pub const REDACTED: &str = "<redacted>";

/// An object or patch body, with the JSON pointers of the values that are secret.
///
/// Serialising a payload (plan output, snapshots, logs) redacts those values and every value
/// under `data`/`stringData` of a Secret. Only the shell's executor calls [`Payload::expose`].
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    value: Value,
    secrets: Vec<String>,
}

impl Payload {
    /// A payload without secret values (besides a Secret's data, which is always redacted).
    pub fn new(value: Value) -> Self {
        Self { value, secrets: Vec::new() }
    }

    /// Marks the value at a JSON pointer (`/spec/httpSecret`) as secret.
    #[must_use]
    pub fn with_secret(mut self, pointer: &str) -> Self {
        self.secrets.push(pointer.to_owned());
        self
    }

    /// The real content, secrets included: for the executor only.
    pub fn expose(&self) -> &Value {
        &self.value
    }

    /// The content with every secret value replaced by `<redacted>`.
    pub fn redacted(&self) -> Value {
        let mut copy = self.value.clone();
        for pointer in &self.secrets {
            if let Some(slot) = copy.pointer_mut(pointer) {
                *slot = Value::String(REDACTED.to_owned());
            }
        }
        if copy.get("kind").and_then(Value::as_str) == Some("Secret") {
            for field in ["data", "stringData"] {
                if let Some(Value::Object(entries)) = copy.get_mut(field) {
                    entries.values_mut().for_each(|v| *v = Value::String(REDACTED.to_owned()));
                }
            }
        }
        copy
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.redacted().serialize(s)
    }
}

/// One changed field of an update, for people reading the plan. Serialises redacted when secret.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// Dotted path.
    pub path: String,
    /// The observed value (absent when the field is new).
    pub before: Option<Value>,
    /// The desired value (absent when the field goes away).
    pub after: Option<Value>,
    /// Whether the values are secret (then they print as `<redacted>`).
    pub secret: bool,
}

impl Serialize for FieldChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Printed<'a> {
            path: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            before: Option<Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            after: Option<Value>,
        }
        let hide = |v: &Option<Value>| match (v, self.secret) {
            (Some(_), true) => Some(Value::String(REDACTED.to_owned())),
            (v, _) => v.clone(),
        };
        Printed { path: &self.path, before: hide(&self.before), after: hide(&self.after) }.serialize(s)
    }
}

/// Preconditions a delete carries, so it never removes a replacement object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The UID the object must still have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The resourceVersion the object must still have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// A write to the Kubernetes API.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verb", rename_all = "camelCase")]
pub enum KubeAction {
    /// Create an object that must not exist yet (AlreadyExists means someone else won the race).
    Create {
        /// The object.
        key: ObjectKey,
        /// The full object.
        object: Payload,
    },
    /// Server-side apply of the fields the operator owns, under its one field manager.
    Apply {
        /// The object.
        key: ObjectKey,
        /// Whether the object does not exist yet (the apply creates it).
        new: bool,
        /// The desired object (only owned fields).
        object: Payload,
        /// What differs from the observed object (items taken back: `after` absent).
        changes: Vec<FieldChange>,
        /// A guarded JSON patch sent first: it removes the items others added to the keyed
        /// lists the operator defines (`objects::takeback`). Empty almost always.
        #[serde(skip)]
        take_back: Vec<Value>,
    },
    /// Server-side apply of `status` through the status subresource.
    ApplyStatus {
        /// The object.
        key: ObjectKey,
        /// `{apiVersion, kind, metadata: {name}, status}`.
        object: Payload,
        /// What differs from the observed status.
        changes: Vec<FieldChange>,
        /// A guarded JSON patch of the status sent first, emptying the objects this apply
        /// sends as `{}` (`objects::takeback::emptied`). Empty almost always.
        #[serde(skip)]
        take_back: Vec<Value>,
    },
    /// JSON merge patch of fields the operator fills in (finalizers, generated spec values),
    /// rejected if the object changed since it was read.
    Patch {
        /// The object.
        key: ObjectKey,
        /// The merge patch (`{"metadata": {"finalizers": [...]}, "spec": {...}}`).
        patch: Payload,
        /// The resourceVersion the patch is computed against.
        resource_version: String,
        /// What the patch changes.
        changes: Vec<FieldChange>,
    },
    /// Add a finalizer with a guarded JSON patch.
    AddFinalizer {
        /// The object.
        key: ObjectKey,
        /// Finalizer name.
        finalizer: String,
        /// The resourceVersion the patch is guarded by.
        resource_version: String,
    },
    /// Remove a finalizer with a guarded JSON patch (`test` then `remove`).
    RemoveFinalizer {
        /// The object.
        key: ObjectKey,
        /// Finalizer name.
        finalizer: String,
        /// The resourceVersion the patch is guarded by.
        resource_version: String,
    },
    /// Delete an object (foreground, no grace period), guarded by preconditions.
    Delete {
        /// The object.
        key: ObjectKey,
        /// What the object must still be.
        preconditions: Preconditions,
    },
}

impl KubeAction {
    /// The object the action targets.
    pub fn key(&self) -> &ObjectKey {
        match self {
            Self::Create { key, .. }
            | Self::Apply { key, .. }
            | Self::ApplyStatus { key, .. }
            | Self::Patch { key, .. }
            | Self::AddFinalizer { key, .. }
            | Self::RemoveFinalizer { key, .. }
            | Self::Delete { key, .. } => key,
        }
    }

    /// What the action sends, when it sends an object or a patch.
    pub fn payload(&self) -> Option<&Payload> {
        match self {
            Self::Create { object, .. } | Self::Apply { object, .. } | Self::ApplyStatus { object, .. } => Some(object),
            Self::Patch { patch, .. } => Some(patch),
            Self::AddFinalizer { .. } | Self::RemoveFinalizer { .. } | Self::Delete { .. } => None,
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Self::Create { .. } => "create",
            Self::Apply { .. } => "apply",
            Self::ApplyStatus { .. } => "apply status of",
            Self::Patch { .. } => "patch",
            Self::AddFinalizer { .. } => "add finalizer to",
            Self::RemoveFinalizer { .. } => "remove finalizer from",
            Self::Delete { .. } => "delete",
        }
    }

    fn describe(&self) -> String {
        let key = self.key();
        match self {
            Self::AddFinalizer { finalizer, .. } | Self::RemoveFinalizer { finalizer, .. } => {
                format!("{} {key}: {finalizer}", self.verb())
            }
            Self::Apply { new: true, .. } => format!("create {key}"),
            Self::Apply { changes, .. } | Self::ApplyStatus { changes, .. } | Self::Patch { changes, .. } => {
                let n = changes.len();
                let fields = if n == 1 { "field" } else { "fields" };
                format!("{} {key} ({n} {fields})", self.verb())
            }
            Self::Create { .. } | Self::Delete { .. } => format!("{} {key}", self.verb()),
        }
    }
}

/// One effect the shell carries out.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "target", rename_all = "camelCase")]
pub enum Action {
    /// A Kubernetes API write.
    Kube(KubeAction),
    /// A cloud storage call.
    Cloud(CloudAction),
}

impl Action {
    /// One imperative line: `create Config.imageregistry.operator.openshift.io cluster`.
    pub fn describe(&self) -> String {
        match self {
            Self::Kube(k) => k.describe(),
            Self::Cloud(c) => c.describe(),
        }
    }

    /// Whether the action removes something (an object, a finalizer, stored data).
    pub fn is_destructive(&self) -> bool {
        match self {
            Self::Kube(k) => matches!(k, KubeAction::Delete { .. } | KubeAction::RemoveFinalizer { .. }),
            Self::Cloud(c) => c.is_destructive(),
        }
    }

    /// Whether the action is a create, an update or a delete.
    pub fn change(&self) -> Change {
        match self {
            Self::Kube(KubeAction::Create { .. } | KubeAction::Apply { new: true, .. }) => Change::Create,
            Self::Kube(KubeAction::Delete { .. }) => Change::Delete,
            Self::Kube(
                KubeAction::Apply { new: false, .. }
                | KubeAction::ApplyStatus { .. }
                | KubeAction::Patch { .. }
                | KubeAction::AddFinalizer { .. }
                | KubeAction::RemoveFinalizer { .. },
            ) => Change::Update,
            Self::Cloud(c) => c.change(),
        }
    }

    /// A stable identifier, used to correlate outcomes with actions.
    pub fn id(&self) -> String {
        match self {
            Self::Kube(k) => format!("kube/{}/{}", k.verb().replace(' ', "-"), k.key()),
            // From the data, never from the wording: rewording `describe` keeps outcomes matched.
            Self::Cloud(c) => format!("cloud/{}/{}", c.call(), c.resource()),
        }
    }
}
