//! Plans for people and programs: a terraform-like text view, YAML and JSON. All three print
//! only redacted payloads.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::action::{Action, Change, KubeAction};
use crate::plan::{Plan, Summary};

/// Output format of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, terraform-like.
    Text,
    /// YAML document.
    Yaml,
    /// JSON object `{"actions": [...], ...}`.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "yaml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown output format {other:?}: expected text, yaml or json")),
        }
    }
}

/// Rendering failed (a serialiser error; not expected for plan data).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the plan: {0}")]
pub struct RenderError(String);

#[derive(Serialize)]
struct Document<'a> {
    summary: Summary,
    #[serde(flatten)]
    plan: &'a Plan,
}

/// Renders a plan in a format.
pub fn render(plan: &Plan, format: Format) -> Result<String, RenderError> {
    let document = Document { summary: plan.summary(), plan };
    match format {
        Format::Text => Ok(text(plan)),
        Format::Json => serde_json::to_string_pretty(&document)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| RenderError(e.to_string())),
        Format::Yaml => yaml(&document),
    }
}

/// Any serialisable value as YAML (through JSON, so maps print in sorted key order).
pub fn yaml<T: Serialize>(value: &T) -> Result<String, RenderError> {
    let json = serde_json::to_value(value).map_err(|e| RenderError(e.to_string()))?;
    serde_saphyr::to_string(&json).map_err(|e| RenderError(e.to_string()))
}

fn symbol(action: &Action) -> &'static str {
    match action.change() {
        Change::Create => "+",
        Change::Update => "~",
        Change::Delete => "-",
    }
}

/// The terraform-like text view.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let s = plan.summary();
    if plan.steps.is_empty() && plan.errors.is_empty() {
        out.push_str("No changes. The cluster matches the desired state.\n");
    } else {
        let _ = writeln!(
            out,
            "Plan: {} to create, {} to change, {} to delete ({} cloud).",
            s.create, s.update, s.delete, s.cloud
        );
    }
    for step in &plan.steps {
        let cloud = if matches!(step.action, Action::Cloud(_)) { "[cloud] " } else { "" };
        let warn = if step.action.is_destructive() { "  (destructive)" } else { "" };
        let _ = writeln!(out, "\n  {} {cloud}{}{warn}", symbol(&step.action), step.action.describe());
        let _ = writeln!(out, "      # {}", step.reason);
        for line in details(&step.action) {
            let _ = writeln!(out, "      {line}");
        }
    }
    for error in &plan.errors {
        let _ = writeln!(out, "\nError ({}): {}", error.controller, error.message);
    }
    if let Some(seconds) = plan.requeue_after_seconds {
        let _ = writeln!(out, "\nNext pass in {seconds}s at the latest.");
    }
    out
}

fn details(action: &Action) -> Vec<String> {
    let Action::Kube(kube) = action else { return Vec::new() };
    match kube {
        KubeAction::Create { object, .. } | KubeAction::Apply { object, new: true, .. } => {
            let mut lines = Vec::new();
            flatten(&object.redacted(), "", &mut lines);
            lines.retain(|l| !l.starts_with("apiVersion =") && !l.starts_with("kind ="));
            lines
        }
        KubeAction::Apply { changes, .. }
        | KubeAction::ApplyStatus { changes, .. }
        | KubeAction::Patch { changes, .. } => changes
            .iter()
            .map(|change| {
                let printed = serde_json::to_value(change).unwrap_or(Value::Null);
                let show = |key: &str| printed.get(key).map_or("(absent)".to_owned(), compact);
                format!("{}: {} -> {}", change.path, show("before"), show("after"))
            })
            .collect(),
        KubeAction::Delete { preconditions, .. } => {
            let mut lines = Vec::new();
            if let Some(uid) = &preconditions.uid {
                lines.push(format!("only if uid = {uid}"));
            }
            if let Some(rv) = &preconditions.resource_version {
                lines.push(format!("only if resourceVersion = {rv}"));
            }
            lines
        }
        KubeAction::AddFinalizer { .. } | KubeAction::RemoveFinalizer { .. } => Vec::new(),
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `path = value` lines for every leaf; empty maps and lists print as `{}` / `[]`.
fn flatten(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(child, &path, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, child) in items.iter().enumerate() {
                flatten(child, &format!("{prefix}[{index}]"), out);
            }
        }
        leaf => out.push(format!("{prefix} = {}", compact(leaf))),
    }
}
