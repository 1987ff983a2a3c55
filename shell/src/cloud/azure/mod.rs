//! Azure: the shell's half of the Azure backend. So far the blob data plane (`blob.rs`, on the
//! official `azure_storage_blob` with Shared Key signing in `sharedkey.rs`) and the Resource
//! Manager client for storage accounts (`arm.rs`); the operator's clouds do not route Azure
//! calls here yet (issue 13).

pub mod arm;
pub mod blob;
pub mod errors;
pub mod identity;
pub mod sharedkey;
