//! The `ImagePruner` custom resource (`imagepruners.imageregistry.operator.openshift.io`, spec 50 §3).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, ResourceRequirements, Toleration};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::config::plain_integer;
use super::duration::GoDuration;
use super::operator::{LOG_LEVELS, OperatorCondition};

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// ImagePrunerSpec: when and how the pruning CronJob runs.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "imageregistry.operator.openshift.io",
    version = "v1",
    kind = "ImagePruner",
    plural = "imagepruners",
    singular = "imagepruner",
    status = "ImagePrunerStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "ImagePruner is the configuration object for the image registry pruner."
)]
#[serde(rename_all = "camelCase")]
pub struct ImagePrunerSpec {
    /// 5-field cron schedule; empty means `0 0 * * *`. Always sent.
    #[serde(default)]
    pub schedule: String,
    /// Suspend future runs (absent and `false` are distinct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Image revisions kept per image stream tag (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "plain_integer")]
    pub keep_tag_revisions: Option<i64>,
    /// Deprecated: minimum age in nanoseconds; ignored when `keepYoungerThanDuration` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_younger_than: Option<i64>,
    /// Minimum age for an image to be prunable (default 60m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_younger_than_duration: Option<GoDuration>,
    /// Pruner pod resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Pruner pod affinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Pruner pod node selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Pruner pod tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// Successful Jobs retained by the CronJob (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_jobs_history_limit: Option<i32>,
    /// Failed Jobs retained by the CronJob (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_jobs_history_limit: Option<i32>,
    /// Tolerate unparsable image references.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ignore_invalid_image_references: bool,
    /// Pruner job verbosity.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = LOG_LEVELS, "default" = "Normal"))]
    pub log_level: String,
}

/// ImagePrunerStatus.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImagePrunerStatus {
    /// Last generation applied.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    /// Pruner conditions (a plain list: no list-type marker).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<OperatorCondition>,
}
