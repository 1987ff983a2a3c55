//! The result of a pass: ordered actions with the reason for each, errors that failed the pass,
//! and when to look again.

use serde::{Serialize, Serializer};

use crate::action::{Action, Change};
use crate::observed::Memory;

/// One planned action and why it is there.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Stable identifier; outcomes refer to it.
    pub id: String,
    /// What to do.
    pub action: Action,
    /// Why (one sentence, no secrets).
    pub reason: String,
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            describe: String,
            id: &'a str,
            change: Change,
            destructive: bool,
            reason: &'a str,
            action: &'a Action,
        }
        View {
            describe: self.action.describe(),
            id: &self.id,
            change: self.action.change(),
            destructive: self.action.is_destructive(),
            reason: &self.reason,
            action: &self.action,
        }
        .serialize(s)
    }
}

/// Something that kept a part of the pass from deciding; the pass is retried with backoff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanError {
    /// Which part of the operator (`registry`, `pruner`, …).
    pub controller: String,
    /// What went wrong, naming the object and field.
    pub message: String,
}

/// Counts of a plan's actions, as printed in its headline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Objects and cloud resources to create.
    pub create: usize,
    /// Objects and cloud resources to change.
    pub update: usize,
    /// Objects and cloud resources to delete.
    pub delete: usize,
    /// How many of the actions are cloud calls.
    pub cloud: usize,
}

/// Ordered actions plus what the shell needs to schedule the next pass.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Actions, in the order they must be executed.
    #[serde(rename = "actions")]
    pub steps: Vec<Step>,
    /// Errors that failed part of the pass.
    pub errors: Vec<PlanError>,
    /// Look again after this many seconds even without events (`None`: wait for events).
    pub requeue_after_seconds: Option<u64>,
    /// What to remember for the next pass.
    #[serde(skip_serializing_if = "memory_is_empty")]
    pub memory: Memory,
}

fn memory_is_empty(memory: &Memory) -> bool {
    memory.failing_since.is_empty()
}

impl Plan {
    /// Appends an action with its reason.
    pub fn push(&mut self, action: Action, reason: impl Into<String>) {
        self.steps.push(Step { id: action.id(), action, reason: reason.into() });
    }

    /// Records an error of one controller.
    pub fn error(&mut self, controller: &str, message: impl Into<String>) {
        self.errors.push(PlanError { controller: controller.to_owned(), message: message.into() });
    }

    /// Asks for another pass within `seconds` (the earliest request wins).
    pub fn requeue_within(&mut self, seconds: u64) {
        self.requeue_after_seconds = Some(self.requeue_after_seconds.map_or(seconds, |s| s.min(seconds)));
    }

    /// Whether the plan holds any action.
    pub fn has_changes(&self) -> bool {
        !self.steps.is_empty()
    }

    /// terraform's `-detailed-exitcode`: 1 on error, 2 when changes are pending, else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.errors.is_empty() {
            1
        } else if self.has_changes() {
            2
        } else {
            0
        }
    }

    /// Counts by kind of change.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for step in &self.steps {
            match step.action.change() {
                Change::Create => summary.create += 1,
                Change::Update => summary.update += 1,
                Change::Delete => summary.delete += 1,
            }
            if matches!(step.action, Action::Cloud(_)) {
                summary.cloud += 1;
            }
        }
        summary
    }
}
