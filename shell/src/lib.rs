//! The imperative shell of the image registry operator: the command line, observing the
//! cluster and the clouds, executing plans, and the leader-elected operator loop.

// A new call, outcome or kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

pub mod cli;
pub mod cloud;
pub mod commands;
pub mod controller;
pub mod crds;
pub mod events;
pub mod execute;
pub mod files;
pub mod kinds;
pub mod lease;
pub mod live;
pub mod locks;
pub mod metrics;
pub mod nodeca;
pub mod observe;
#[cfg(feature = "fake-cloud")]
pub mod simulate;
pub mod telemetry;
pub mod tls;
pub mod watches;
