//! CronJob `image-pruner` (spec 40 §2.4): every ImagePruner field mapped to the job, and the
//! `oc adm prune images` command line.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, PodSpec, PodTemplateSpec, ResourceRequirements, SecurityContext, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{GoDuration, ImagePruner, LogLevel};
use crate::memo::Memo;
use crate::names::NAMESPACE;
use crate::objects::Desired;

/// Name of the CronJob.
pub const CRONJOB: &str = "image-pruner";
/// Label on the jobs the CronJob starts.
pub const CREATED_BY: (&str, &str) = ("created-by", "image-pruner");

/// Runs the command; on failure retries up to five times, waiting 30 s more each time; the
/// last run's exit code is the script's. The reference's text byte for byte (spec 40 §2.3, and
/// the CronJob a reference-converged cluster holds): a different text would rewrite the job
/// template of every cluster taken over from the reference.
pub const RETRY_SCRIPT: &str = "set -eu\n\"$@\" && exit\nfor i in 1 2 3 4 5; do\n  echo \"attempt #$i has failed (exit code $?), going to make another attempt...\" >&2\n  sleep $(($i * 30))\n  \"$@\" && break  # this is the last command of the script, so its last failure will be exit code of the script\ndone\n";

/// `--keep-younger-than`: the duration field wins over the deprecated nanoseconds.
pub fn keep_younger_than(pruner: &ImagePruner) -> String {
    match (pruner.spec.keep_younger_than_duration, pruner.spec.keep_younger_than) {
        (Some(duration), _) => duration.to_string(),
        (None, Some(nanos)) => GoDuration(nanos).to_string(),
        (None, None) => "60m".to_owned(),
    }
}

/// `--loglevel`: Normal (and anything unknown) is 1, the others their klog verbosity.
pub fn log_level(pruner: &ImagePruner) -> u8 {
    match LogLevel::parse(&pruner.spec.log_level) {
        LogLevel::Normal => 1,
        other => other.verbosity(),
    }
}

/// The `oc` command line.
pub fn command(pruner: &ImagePruner, registry_hostname: &str) -> Vec<String> {
    let spec = &pruner.spec;
    let mut args = vec![
        "oc".to_owned(),
        "adm".to_owned(),
        "prune".to_owned(),
        "images".to_owned(),
        "--confirm=true".to_owned(),
        "--certificate-authority=/var/run/configmaps/serviceca/service-ca.crt".to_owned(),
        format!("--keep-tag-revisions={}", spec.keep_tag_revisions.unwrap_or(3)),
        format!("--keep-younger-than={}", keep_younger_than(pruner)),
        format!("--ignore-invalid-refs={}", spec.ignore_invalid_image_references),
        format!("--loglevel={}", log_level(pruner)),
    ];
    if registry_hostname.is_empty() {
        args.push("--prune-registry=false".to_owned());
    } else {
        args.push("--prune-registry=true".to_owned());
        args.push(format!("--registry-url=https://{registry_hostname}"));
    }
    args
}

/// The CronJob for `pruner`; `registry_hostname` is the Image config's internal hostname.
pub fn cronjob(
    memo: Option<&Memo>,
    pruner: &ImagePruner,
    image: &str,
    registry_hostname: &str,
) -> Result<Desired, String> {
    let spec = &pruner.spec;
    let schedule = if spec.schedule.is_empty() { "0 0 * * *".to_owned() } else { spec.schedule.clone() };
    let resources = spec.resources.clone().unwrap_or_else(|| ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), Quantity("100m".to_owned())),
            ("memory".to_owned(), Quantity("256Mi".to_owned())),
        ])),
        ..ResourceRequirements::default()
    });
    let mut args = vec!["-c".to_owned(), RETRY_SCRIPT.to_owned(), "arg0".to_owned()];
    args.extend(command(pruner, registry_hostname));
    let container = Container {
        name: "image-pruner".to_owned(),
        image: Some(image.to_owned()),
        command: Some(vec!["/bin/sh".to_owned()]),
        args: Some(args),
        resources: Some(resources),
        termination_message_policy: Some("FallbackToLogsOnError".to_owned()),
        security_context: Some(SecurityContext { read_only_root_filesystem: Some(true), ..SecurityContext::default() }),
        volume_mounts: Some(vec![VolumeMount {
            name: "serviceca".to_owned(),
            mount_path: "/var/run/configmaps/serviceca".to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    };
    let pod = PodSpec {
        restart_policy: Some("Never".to_owned()),
        service_account_name: Some("pruner".to_owned()),
        priority_class_name: Some("system-cluster-critical".to_owned()),
        affinity: Some(spec.affinity.clone().unwrap_or_default()),
        node_selector: Some(spec.node_selector.clone().unwrap_or_default()),
        tolerations: Some(spec.tolerations.clone().unwrap_or_default()),
        volumes: Some(vec![Volume {
            name: "serviceca".to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: "serviceca".to_owned(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        }]),
        containers: vec![container],
        ..PodSpec::default()
    };
    let cronjob = CronJob {
        metadata: ObjectMeta {
            name: Some(CRONJOB.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(CronJobSpec {
            schedule,
            suspend: Some(spec.suspend.unwrap_or(false)),
            concurrency_policy: Some("Forbid".to_owned()),
            successful_jobs_history_limit: Some(spec.successful_jobs_history_limit.unwrap_or(3)),
            failed_jobs_history_limit: Some(spec.failed_jobs_history_limit.unwrap_or(3)),
            starting_deadline_seconds: Some(3600),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(BTreeMap::from([(CREATED_BY.0.to_owned(), CREATED_BY.1.to_owned())])),
                    ..ObjectMeta::default()
                }),
                spec: Some(JobSpec {
                    backoff_limit: Some(0),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(BTreeMap::from([("app".to_owned(), "image-pruner".to_owned())])),
                            annotations: Some(BTreeMap::from([(
                                "openshift.io/required-scc".to_owned(),
                                "restricted-v2".to_owned(),
                            )])),
                            ..ObjectMeta::default()
                        }),
                        spec: Some(pod),
                    },
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    };
    Desired::remembered(memo, &cronjob, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ImagePrunerSpec;

    fn pruner(spec: ImagePrunerSpec) -> ImagePruner {
        ImagePruner::new("cluster", spec)
    }

    #[test]
    fn keep_younger_than_cases() {
        assert_eq!(keep_younger_than(&pruner(ImagePrunerSpec::default())), "60m");
        let ns = GoDuration::from_secs(10).0;
        assert_eq!(
            keep_younger_than(&pruner(ImagePrunerSpec { keep_younger_than: Some(ns), ..Default::default() })),
            "10s"
        );
        let hour = Some(GoDuration::from_secs(3600));
        assert_eq!(
            keep_younger_than(&pruner(ImagePrunerSpec { keep_younger_than_duration: hour, ..Default::default() })),
            "1h0m0s"
        );
        let both = ImagePrunerSpec {
            keep_younger_than: Some(GoDuration::from_secs(3600).0),
            keep_younger_than_duration: Some(GoDuration::from_secs(10)),
            ..Default::default()
        };
        assert_eq!(keep_younger_than(&pruner(both)), "10s");
    }

    #[test]
    fn log_levels() {
        assert_eq!(log_level(&pruner(ImagePrunerSpec::default())), 1);
        assert_eq!(log_level(&pruner(ImagePrunerSpec { log_level: "Debug".into(), ..Default::default() })), 4);
        assert_eq!(log_level(&pruner(ImagePrunerSpec { log_level: "TraceAll".into(), ..Default::default() })), 8);
    }

    #[test]
    fn command_with_and_without_registry() {
        let p = pruner(ImagePrunerSpec { ignore_invalid_image_references: true, ..Default::default() });
        let with = command(&p, "image-registry.openshift-image-registry.svc:5000");
        assert_eq!(with.last().unwrap(), "--registry-url=https://image-registry.openshift-image-registry.svc:5000");
        assert!(
            with.contains(&"--ignore-invalid-refs=true".to_owned())
                && with.contains(&"--keep-tag-revisions=3".to_owned())
        );
        assert_eq!(command(&p, "").last().unwrap(), "--prune-registry=false");
    }

    #[test]
    fn cronjob_maps_every_field() {
        let spec = ImagePrunerSpec {
            schedule: "*/5 * * * *".into(),
            suspend: Some(true),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(2),
            node_selector: Some([("a".to_owned(), "b".to_owned())].into()),
            ..Default::default()
        };
        let job = cronjob(None, &pruner(spec), "cli:latest", "").unwrap().object;
        assert_eq!(job["spec"]["schedule"], "*/5 * * * *");
        assert_eq!(job["spec"]["suspend"], true);
        assert_eq!(
            (job["spec"]["successfulJobsHistoryLimit"].clone(), job["spec"]["failedJobsHistoryLimit"].clone()),
            (1.into(), 2.into())
        );
        assert_eq!(job["spec"]["concurrencyPolicy"], "Forbid");
        assert_eq!(job["spec"]["startingDeadlineSeconds"], 3600);
        assert_eq!(job["spec"]["jobTemplate"]["metadata"]["labels"]["created-by"], "image-pruner");
        let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["nodeSelector"]["a"], "b");
        assert_eq!(pod["containers"][0]["image"], "cli:latest");
        assert_eq!(pod["containers"][0]["args"][2], "arg0");
        let defaults = cronjob(None, &pruner(ImagePrunerSpec::default()), "cli", "").unwrap().object;
        assert_eq!(defaults["spec"]["schedule"], "0 0 * * *");
        assert_eq!(defaults["spec"]["suspend"], false);
    }
}
