//! The cloud reads a pass needs: part of the core's answer, like the plan. The shell asks
//! [`reads`] what to read for a snapshot, reads exactly that (one typed list per backend, the
//! Swift probe included) and hands the facts back in the snapshot the pass decides on. It
//! never looks at the Config, the secrets or the platform to choose for itself.
//!
//! Reads come before the pass that needs them, from the same snapshot, so no pass ever
//! decides on facts it has not been given.

use crate::inputs::Inputs;
use crate::observed::Observed;
use crate::storage::Backend;

macro_rules! cloud_reads {
    ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
        /// What the shell reads of each cloud for one pass (`None`: nothing there).
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct CloudReads {
            /// The operator's release version (the clients' user agent).
            pub version: String,
            $($(#[$doc])* pub $module: Option<crate::storage::$module::read::Reads>,)*
        }

        /// The reads the pass over `observed` needs.
        pub fn reads(observed: &Observed) -> CloudReads {
            let inputs = Inputs::decode(observed);
            CloudReads {
                version: observed.operator.release_version.clone(),
                $($module: <crate::storage::slices::$variant as Backend>::reads(&inputs),)*
            }
        }
    };
}
crate::cloud_backends!(cloud_reads);

/// The names the Config gives a backend's storage: the spec's (unless the cloud would refuse it:
/// the pass reports it as `VerificationFailed` and carries it nowhere), then the status's (it was
/// applied before and is always read), once each.
pub(crate) fn named(spec: Option<String>, status: Option<String>, rule: fn(&str) -> Result<(), String>) -> Vec<String> {
    let spec = spec.filter(|n| rule(n).is_ok());
    let mut names: Vec<String> = Vec::new();
    for name in spec.into_iter().chain(status).filter(|n| !n.is_empty()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::storage::{Azure, Gcs, S3, Storage, Swift};
    use crate::api::{Config, ImageRegistryStatus};
    use crate::storage::{gcs, swift};

    fn storage(s3: &str, gcs: &str, account: &str, container: &str, swift: &str) -> Storage {
        Storage {
            s3: Some(S3 { bucket: s3.into(), ..S3::default() }),
            gcs: Some(Gcs { bucket: gcs.into(), ..Gcs::default() }),
            azure: Some(Azure { account_name: account.into(), container: container.into(), ..Azure::default() }),
            swift: Some(Swift { container: swift.into(), ..Swift::default() }),
            ..Storage::default()
        }
    }

    fn observed(config: &Config) -> Observed {
        let mut observed = Observed::new(jiff::Timestamp::UNIX_EPOCH, "seed");
        let Ok(value) = serde_json::to_value(config) else { panic!("encodes") };
        observed.objects.insert(value).ok();
        observed
    }

    /// Issue 25: a spec name the cloud would refuse is never read; the applied one still is.
    #[test]
    fn names_a_cloud_would_refuse_are_never_asked_about() {
        let mut config = Config::default();
        config.metadata.name = Some("cluster".into());
        config.spec.storage = storage("MyCluster-UPPER-Bucket", "goog-x", "Bad_Account", "bad--c", "a/b");
        config.status = Some(ImageRegistryStatus {
            storage: storage("applied-bucket", "applied-gcs", "appliedaccount", "applied-c", "applied"),
            ..ImageRegistryStatus::default()
        });
        let reads = reads(&observed(&config));
        let s3: Vec<_> = reads.s3.iter().flat_map(|r| &r.buckets).map(|b| b.target.bucket.as_str()).collect();
        assert_eq!(s3, ["applied-bucket"]);
        assert_eq!(reads.gcs.map(|r| r.buckets), Some(vec!["applied-gcs".to_owned()]));
        let Some(azure) = reads.azure else { panic!("azure is read") };
        assert_eq!(
            azure.accounts.into_iter().collect::<Vec<_>>(),
            [("appliedaccount".into(), vec!["applied-c".into()])]
        );
        assert_eq!(reads.swift.map(|r| r.containers), Some(vec!["applied".to_owned()]));
        // A valid account with a container Azure would refuse: the account is read, not the container.
        config.spec.storage = storage("", "", "validaccount", "bad--c", "");
        config.status = None;
        let Some(azure) = super::reads(&observed(&config)).azure else { panic!("azure is read") };
        assert_eq!(azure.accounts.into_iter().collect::<Vec<_>>(), [("validaccount".into(), Vec::<String>::new())]);
    }

    /// The same name in the spec and the status is read once; nothing named, nothing read.
    #[test]
    fn a_name_is_read_once_and_nothing_named_reads_nothing() {
        let mut config = Config::default();
        config.metadata.name = Some("cluster".into());
        config.spec.storage = storage("bucket-a", "bucket-b", "account", "c", "container");
        config.status =
            Some(ImageRegistryStatus { storage: config.spec.storage.clone(), ..ImageRegistryStatus::default() });
        let reads = reads(&observed(&config));
        assert_eq!(reads.s3.map(|r| r.buckets.len()), Some(1));
        assert_eq!(reads.gcs.map(|r| r.buckets), Some(vec!["bucket-b".to_owned()]));
        assert_eq!(reads.swift.map(|r| r.containers), Some(vec!["container".to_owned()]));
        config.spec.storage = Storage::default();
        config.status = None;
        let nothing = super::reads(&observed(&config));
        assert_eq!((nothing.s3, nothing.gcs, nothing.azure, nothing.swift), (None, None, None, None));
    }

    /// Secrets a read carries never show in its `Debug` text (which logs may print).
    #[test]
    fn a_read_never_shows_a_secret() {
        let gcs = Some(gcs::read::Reads {
            buckets: vec!["b".into()],
            keyfile: Ok(crate::storage::credentials::SecretText("PRIVATE-KEY-TEXT".into())),
            location: "us".into(),
            tags: false,
        });
        let credentials = swift::Credentials { password: "hunter2-password".into(), ..swift::Credentials::default() };
        let swift = Some(swift::read::Reads {
            probe: None,
            containers: vec!["c".into()],
            login: Ok(swift::read::Login {
                auth_url: "https://keystone/v3".into(),
                credentials,
                swift: Swift::default(),
                bundle: None,
            }),
        });
        let reads = CloudReads { gcs, swift, ..CloudReads::default() };
        let text = format!("{reads:?}");
        assert!(!text.contains("PRIVATE-KEY-TEXT") && !text.contains("hunter2-password"), "{text}");
    }
}
