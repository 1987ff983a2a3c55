//! Platform detection: the default storage and replica count for a platform type
//! (spec 10 §2.4, spec 30 §1.3).

use crate::api::Storage;
use crate::api::storage::{Azure, EmptyDir, Gcs, IbmCos, Pvc, S3, Swift};
use crate::names::DEFAULT_CLAIM;
use crate::storage::swift::facts::SwiftProbe;

/// Storage and replicas a platform bootstraps with.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformStorage {
    /// `spec.storage`; empty when the platform has no default (the registry bootstraps Removed).
    pub storage: Storage,
    /// `spec.replicas` before the single-replica clamp.
    pub replicas: i32,
}

/// The default storage for `platform_type` (`status.platformStatus.type`, case-exact).
///
/// OpenStack depends on the Swift probe the shell ran; without it the answer is unknown, which
/// is an error (the pass is retried), never a guess.
pub fn platform_storage(platform_type: &str, swift: Option<&SwiftProbe>) -> Result<PlatformStorage, String> {
    let with = |storage: Storage, replicas: i32| Ok(PlatformStorage { storage, replicas });
    let pvc = || Storage { pvc: Some(Pvc { claim: DEFAULT_CLAIM.to_owned() }), ..Storage::default() };
    match platform_type {
        "AWS" => with(Storage { s3: Some(S3::default()), ..Storage::default() }, 2),
        "Azure" => with(Storage { azure: Some(Azure::default()), ..Storage::default() }, 2),
        "GCP" => with(Storage { gcs: Some(Gcs::default()), ..Storage::default() }, 2),
        "IBMCloud" | "PowerVS" => with(Storage { ibmcos: Some(IbmCos::default()), ..Storage::default() }, 2),
        "OpenStack" => match swift {
            Some(SwiftProbe::Usable) => with(Storage { swift: Some(Swift::default()), ..Storage::default() }, 2),
            Some(SwiftProbe::NotUsable { .. }) => with(pvc(), 1),
            Some(SwiftProbe::Failed { message }) => Err(format!("unable to check for Swift availability: {message}")),
            None => {
                Err("the OpenStack Swift availability probe has not run (cloud.swift.probe is not observed)".to_owned())
            }
        },
        "oVirt" => with(pvc(), 1),
        "BareMetal" | "VSphere" | "None" | "Nutanix" | "KubeVirt" | "EquinixMetal" | "AlibabaCloud" | "External" => {
            with(Storage::default(), 1)
        }
        _ => with(Storage { empty_dir: Some(EmptyDir {}), ..Storage::default() }, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::StorageKind;

    fn kinds(platform: &str, swift: Option<&SwiftProbe>) -> (Vec<StorageKind>, i32) {
        let p = platform_storage(platform, swift).unwrap();
        (p.storage.kinds(), p.replicas)
    }

    #[test]
    fn platform_table() {
        use StorageKind::*;
        let usable = SwiftProbe::Usable;
        let unusable = SwiftProbe::NotUsable { reason: "no object-store endpoint".into() };
        let table: &[(&str, Option<&SwiftProbe>, Vec<StorageKind>, i32)] = &[
            ("AWS", None, vec![S3], 2),
            ("Azure", None, vec![Azure], 2),
            ("GCP", None, vec![Gcs], 2),
            ("IBMCloud", None, vec![IbmCos], 2),
            ("PowerVS", None, vec![IbmCos], 2),
            ("OpenStack", Some(&usable), vec![Swift], 2),
            ("OpenStack", Some(&unusable), vec![Pvc], 1),
            ("oVirt", None, vec![Pvc], 1),
            ("BareMetal", None, vec![], 1),
            ("VSphere", None, vec![], 1),
            ("None", None, vec![], 1),
            ("Nutanix", None, vec![], 1),
            ("KubeVirt", None, vec![], 1),
            ("EquinixMetal", None, vec![], 1),
            ("AlibabaCloud", None, vec![], 1),
            ("External", None, vec![], 1),
            ("Libvirt", None, vec![EmptyDir], 1),
            ("", None, vec![EmptyDir], 1),
            ("SomethingNew", None, vec![EmptyDir], 1),
            ("ovirt", None, vec![EmptyDir], 1),
        ];
        for (platform, swift, want, replicas) in table {
            assert_eq!(kinds(platform, *swift), (want.clone(), *replicas), "{platform}");
        }
    }

    #[test]
    fn pvc_default_names_the_claim() {
        let p = platform_storage("oVirt", None).unwrap();
        assert_eq!(p.storage.pvc.unwrap().claim, "image-registry-storage");
    }

    #[test]
    fn openstack_needs_the_probe() {
        assert!(platform_storage("OpenStack", None).unwrap_err().contains("cloud.swift.probe"));
        let failed = SwiftProbe::Failed { message: "401 Unauthorized".into() };
        assert!(platform_storage("OpenStack", Some(&failed)).unwrap_err().contains("401 Unauthorized"));
    }
}
