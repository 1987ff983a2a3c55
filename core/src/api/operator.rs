//! operator/v1 building blocks shared by both custom resources: conditions, generations,
//! management and log-level vocabularies.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `spec.managementState` of the Config, parsed. The wire value stays a string (the schema
/// uses a pattern, not an enum) so that any stored value decodes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ManagementState {
    /// The operator deploys and reconciles the registry.
    Managed,
    /// The operator leaves every resource alone.
    Unmanaged,
    /// The operator tears the registry down.
    Removed,
    /// `Force`, `""` or anything else: schema-valid or not, inert (spec 10 §3.3).
    Other(String),
}

impl ManagementState {
    /// Reads the wire value.
    pub fn parse(value: &str) -> Self {
        match value {
            "Managed" => Self::Managed,
            "Unmanaged" => Self::Unmanaged,
            "Removed" => Self::Removed,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Managed => "Managed",
            Self::Unmanaged => "Unmanaged",
            Self::Removed => "Removed",
            Self::Other(s) => s,
        }
    }
}

/// Pattern of `spec.managementState`.
pub const MANAGEMENT_STATE_PATTERN: &str = r"^(Managed|Unmanaged|Force|Removed)$";
/// Pattern of `spec.storage.managementState`.
pub const STORAGE_MANAGEMENT_STATE_PATTERN: &str = r"^(Managed|Unmanaged)$";

/// Coarse log levels (operator/v1 `LogLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Default verbosity.
    Normal,
    /// More output.
    Debug,
    /// Much more output.
    Trace,
    /// Everything.
    TraceAll,
}

impl LogLevel {
    /// Reads the wire value; empty or unknown values mean `Normal`, as in the reference.
    pub fn parse(value: &str) -> Self {
        match value {
            "Debug" => Self::Debug,
            "Trace" => Self::Trace,
            "TraceAll" => Self::TraceAll,
            _ => Self::Normal,
        }
    }

    /// klog-style verbosity used by the reference: Normal→2, Debug→4, Trace→6, TraceAll→8.
    pub fn verbosity(self) -> u8 {
        match self {
            Self::Normal => 2,
            Self::Debug => 4,
            Self::Trace => 6,
            Self::TraceAll => 8,
        }
    }
}

/// Values the `logLevel` enums accept (the empty string included).
pub const LOG_LEVELS: [&str; 5] = ["", "Normal", "Debug", "Trace", "TraceAll"];

/// Status of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// It is not known whether the condition holds.
    Unknown,
}

/// operator/v1 `OperatorCondition`, used by both custom resources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorCondition {
    /// Condition name, optionally prefixed by a DNS subdomain and `/`.
    #[serde(rename = "type")]
    #[schemars(
        length(max = 316),
        regex(
            pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        )
    )]
    pub type_: String,
    /// Condition state.
    pub status: ConditionStatus,
    /// When `status` last changed; always sent (a zero time fails validation).
    pub last_transition_time: Time,
    /// CamelCase machine reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// operator/v1 `GenerationStatus`: the last seen generation of a managed object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationStatus {
    /// API group of the tracked object (`""` for core).
    #[serde(default)]
    pub group: String,
    /// Resource (plural).
    #[serde(default)]
    pub resource: String,
    /// Namespace (`""` for cluster-scoped).
    #[serde(default)]
    pub namespace: String,
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Last observed generation.
    #[serde(default)]
    pub last_generation: i64,
    /// Content hash for objects without generation.
    #[serde(default)]
    pub hash: String,
}
