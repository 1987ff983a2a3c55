//! Publishing the pass's Events (`image_registry_core::events`) and the shell's own (leadership)
//! through kube-runtime's recorder: `events.k8s.io/v1`, reporting controller
//! `image-registry-operator`, about the operator's Deployment in its namespace, as the reference
//! records them. The recorder folds a repeated Event (same reason, action and object) into a
//! series on one object instead of a new object each time. A failed publish is logged and never
//! fails the pass.

use image_registry_core::ObjectKey;
use image_registry_core::api::Kind;
use image_registry_core::events::{Note, Severity};
use image_registry_core::names::NAMESPACE;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use tracing::debug;

/// The component Events are recorded by.
pub const COMPONENT: &str = "image-registry-operator";

/// The operator's Deployment, which its Events are about.
pub const OPERATOR_DEPLOYMENT: &str = "cluster-image-registry-operator";

/// Records Events about the operator.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
    regarding: ObjectReference,
}

impl Events {
    /// A recorder reporting as `instance` (the leader-election identity).
    pub fn new(client: kube::Client, instance: &str) -> Self {
        let reporter = Reporter { controller: COMPONENT.to_owned(), instance: Some(instance.to_owned()) };
        let regarding = ObjectReference {
            api_version: Some("apps/v1".to_owned()),
            kind: Some("Deployment".to_owned()),
            name: Some(OPERATOR_DEPLOYMENT.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            ..ObjectReference::default()
        };
        Self { recorder: Recorder::new(client, reporter), regarding }
    }

    /// Publishes `notes`, in order.
    pub async fn publish(&self, notes: &[Note]) {
        for note in notes {
            let event = Event {
                type_: match note.severity {
                    Severity::Normal => EventType::Normal,
                    Severity::Warning => EventType::Warning,
                },
                reason: note.reason.clone(),
                note: Some(truncate(&note.message)),
                action: note.action.clone(),
                secondary: note.related.as_ref().map(reference),
            };
            if let Err(e) = self.recorder.publish(&event, &self.regarding).await {
                debug!(reason = %note.reason, error = %e, "cannot record an event");
            }
        }
    }

    /// The leadership Event, as client-go's leader election words it.
    pub async fn leading(&self, identity: &str) {
        let note = Note {
            severity: Severity::Normal,
            reason: "LeaderElection".to_owned(),
            action: "Acquire".to_owned(),
            message: format!("{identity} became leader"),
            related: None,
        };
        self.publish(std::slice::from_ref(&note)).await;
    }
}

/// A reference to an object the core names.
fn reference(key: &ObjectKey) -> ObjectReference {
    let version = Kind::find(&key.group, &key.kind).map_or("v1", |k| k.version);
    let api_version = if key.group.is_empty() { version.to_owned() } else { format!("{}/{version}", key.group) };
    ObjectReference {
        api_version: Some(api_version),
        kind: Some(key.kind.clone()),
        name: Some(key.name.clone()),
        namespace: (!key.namespace.is_empty()).then(|| key.namespace.clone()),
        ..ObjectReference::default()
    }
}

/// An Event's note holds at most 1 kB.
fn truncate(message: &str) -> String {
    if message.len() <= 1024 {
        return message.to_owned();
    }
    let mut end = 1021;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", message.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_fit_in_an_event() {
        assert_eq!(truncate("short"), "short");
        let long = "é".repeat(1000);
        let cut = truncate(&long);
        assert!(cut.len() <= 1024 && cut.ends_with("..."));
    }
}
