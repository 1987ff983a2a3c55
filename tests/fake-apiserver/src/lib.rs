//! A test double of the Kubernetes API server, for the operator's shell tests: never linked into
//! the operator. It serves what the operator relies on (typed paths for its groups, get, list,
//! watch, create, update, server-side apply with field ownership, merge and JSON patches, the
//! status subresource, deletes with preconditions and finalizers, discovery for kubectl), plays
//! the cluster's other controllers (rollouts, routers, service-ca), authorizes service accounts'
//! tokens with RBAC, injects faults and logs every request. Use it in-process as a
//! `tower::Service` for `kube::Client::new`, or over HTTP or HTTPS (what an in-cluster client
//! needs: a CA it trusts and a serving certificate for 127.0.0.1).

pub mod authz;
pub mod builtin;
pub mod http;
pub mod resources;
pub mod schema;
pub mod serve;
pub mod store;

pub use http::{FakeApiServer, Fault, LogEntry};
pub use store::Store;
