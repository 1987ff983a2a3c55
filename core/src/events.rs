//! The Kubernetes Events of a pass, decided from its plan and what executing it gave (spec 40
//! §8.1: recorded in the operator's namespace by component `image-registry-operator`). The
//! reference's occasions: its Deployment, DaemonSet and NetworkPolicies created, updated or
//! deleted, the TLS profile observed (`ObserveTLSSecurityProfile`, one Event per changed
//! setting), and here also storage created or removed and every action that failed (a failed
//! action ends the pass). A pass with nothing to do has nothing to say: no Event at the
//! fixpoint. Pure; the shell publishes them (and leadership, which only it sees).

use serde_json::Value;

use crate::action::{Action, CloudAction, KubeAction};
use crate::observed::ObjectKey;
use crate::outcome::{Outcome, OutcomeResult};
use crate::plan::Plan;

/// An Event's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Something happened as intended.
    Normal,
    /// Something failed.
    Warning,
}

/// One Event to record about the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Normal or Warning.
    pub severity: Severity,
    /// PascalCase, e.g. `DeploymentCreated`.
    pub reason: String,
    /// What was done, PascalCase (`Create`, `Update`, `Delete`, `ObserveMinTLSVersion`, a cloud
    /// call).
    pub action: String,
    /// For people; never a secret (plans carry none).
    pub message: String,
    /// The object acted on, when there is one: Events about different objects stay apart
    /// (a recorder folds repeats of the same reason about the same objects into one series).
    pub related: Option<ObjectKey>,
}

impl Note {
    fn new(severity: Severity, reason: String, action: &str, message: String) -> Self {
        Self { severity, reason, action: action.to_owned(), message, related: None }
    }

    fn about(mut self, key: &ObjectKey) -> Self {
        self.related = Some(key.clone());
        self
    }
}

/// The kinds whose writes the reference records (library-go's resourceapply).
const RECORDED_KINDS: &[&str] = &["Deployment", "DaemonSet", "NetworkPolicy"];

/// The Events of a pass: `outcomes` are those of `plan`'s steps, in order (a step without an
/// outcome was not attempted).
pub fn of_pass(observed_config: Option<&Value>, plan: &Plan, outcomes: &[Outcome]) -> Vec<Note> {
    let mut notes = Vec::new();
    for step in &plan.steps {
        let Some(outcome) = outcomes.iter().find(|o| o.action_id == step.id) else { continue };
        match (&step.action, &outcome.result) {
            (_, OutcomeResult::Skipped) => {}
            (Action::Kube(kube), OutcomeResult::Succeeded) => {
                notes.extend(written(kube));
                notes.extend(tls_observed(observed_config, kube));
            }
            (Action::Kube(kube), OutcomeResult::Failed { message, .. }) => {
                let (verb, _) = verb(kube);
                let kind = &kube.key().kind;
                notes.push(
                    Note::new(
                        Severity::Warning,
                        format!("{kind}{verb}Failed"),
                        verb,
                        format!("Failed to {} {}: {message}", verb.to_lowercase(), kube.key()),
                    )
                    .about(kube.key()),
                );
            }
            (Action::Cloud(call), OutcomeResult::Succeeded) => notes.extend(storage(call)),
            (Action::Cloud(call), OutcomeResult::Failed { message, .. }) => notes.push(Note::new(
                Severity::Warning,
                "StorageCallFailed".to_owned(),
                call.call(),
                format!("{} on {} failed: {message}", call.call(), call.resource()),
            )),
        }
    }
    notes
}

/// `Create`, `Update` or `Delete`, and its past tense.
fn verb(kube: &KubeAction) -> (&'static str, &'static str) {
    match kube {
        KubeAction::Create { .. } | KubeAction::Apply { new: true, .. } => ("Create", "Created"),
        KubeAction::Delete { .. } => ("Delete", "Deleted"),
        KubeAction::Apply { new: false, .. }
        | KubeAction::ApplyStatus { .. }
        | KubeAction::Patch { .. }
        | KubeAction::AddFinalizer { .. }
        | KubeAction::RemoveFinalizer { .. } => ("Update", "Updated"),
    }
}

fn written(kube: &KubeAction) -> Option<Note> {
    let key = kube.key();
    if !RECORDED_KINDS.contains(&key.kind.as_str()) || matches!(kube, KubeAction::ApplyStatus { .. }) {
        return None;
    }
    let (verb, done) = verb(kube);
    let why = if done == "Created" { " because it was missing" } else { "" };
    Some(Note::new(Severity::Normal, format!("{}{done}", key.kind), verb, format!("{done} {key}{why}")).about(key))
}

fn storage(call: &CloudAction) -> Option<Note> {
    let (reason, what) = call.event()?;
    Some(Note::new(Severity::Normal, reason.to_owned(), call.call(), format!("{what} {}", call.resource())))
}

/// The config observer's Events: one per TLS setting the Config's `spec.observedConfig`
/// changes to, as the reference words them.
fn tls_observed(before: Option<&Value>, kube: &KubeAction) -> Vec<Note> {
    if kube.key().kind != "Config" || kube.key().group != "imageregistry.operator.openshift.io" {
        return Vec::new();
    }
    let written = match kube {
        KubeAction::Create { object, .. } => object.expose().pointer("/spec/observedConfig/servingInfo").cloned(),
        KubeAction::Patch { patch, .. } => patch.expose().pointer("/spec/observedConfig/servingInfo").cloned(),
        KubeAction::Apply { .. }
        | KubeAction::ApplyStatus { .. }
        | KubeAction::AddFinalizer { .. }
        | KubeAction::RemoveFinalizer { .. }
        | KubeAction::Delete { .. } => None,
    };
    let Some(after) = written else { return Vec::new() };
    let before = before.and_then(|c| c.pointer("/spec/observedConfig/servingInfo"));
    let mut notes = Vec::new();
    for (field, action, shown) in
        [("minTLSVersion", "ObserveMinTLSVersion", false), ("cipherSuites", "ObserveCipherSuites", true)]
    {
        let new = after.get(field);
        if new.is_some() && new != before.and_then(|b| b.get(field)) {
            let value = new.map(|v| if shown { v.to_string() } else { v.as_str().unwrap_or_default().to_owned() });
            let message = format!("{field} changed to {}", value.unwrap_or_default());
            let note = Note::new(Severity::Normal, "ObserveTLSSecurityProfile".to_owned(), action, message);
            notes.push(note.about(kube.key()));
        }
    }
    notes
}
