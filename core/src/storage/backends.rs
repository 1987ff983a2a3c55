//! The one list of backends that reach a cloud: a line each, `Variant => module`.
//! Every type and dispatch that names each backend is made from it (`CloudAction`,
//! `CloudFacts`, `CloudReads`, the storage dispatch, the shell's clouds), so a new backend is
//! a folder in the core, a folder in the shell, and a line here.

/// Calls `$then!` with the list of backends.
#[macro_export]
macro_rules! cloud_backends {
    ($then:ident) => {
        $then! {
            /// AWS S3 (or an S3-compatible store).
            S3 => s3;
            /// Google Cloud Storage.
            Gcs => gcs;
            /// Azure (Resource Manager and Blob storage).
            Azure => azure;
            /// OpenStack Swift.
            Swift => swift;
            /// IBM Cloud Object Storage (IBM Cloud and Power VS).
            IbmCos => ibmcos;
        }
    };
}
