//! Every integration test of the workspace, one module per area, in one binary: the test stand
//! (`stand`: the emulators' endpoints and the ARM, Keystone and Resource Manager test doubles;
//! `shipped`: the shipped binary against the fake API server; `cluster`: fixtures on the fake)
//! is shared, and the areas' slow flows (quiet minutes, Degraded inertia) run side by side.

mod cluster;
mod shipped;
mod stand;

mod azure;
mod azure_e2e;
mod e2e;
mod flap;
mod gcs;
mod gcs_e2e;
mod ibmcos;
mod ibmcos_e2e;
mod incluster;
mod lifecycle;
mod manifests;
mod objects;
mod plans;
mod properties;
mod s3;
mod s3_e2e;
mod secrets;
mod storage;
mod swift;
mod swift_e2e;
