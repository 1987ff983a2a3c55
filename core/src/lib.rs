//! The pure decision core of the image registry operator.
//!
//! `reads(&Observed) -> CloudReads` says what the shell reads of the clouds for a snapshot;
//! `reconcile(&Observed) -> Plan` decides everything: bootstrap, storage completion, the
//! registry's objects and the conditions. It does no IO, reads no clock and draws no random
//! numbers: time and randomness come in through [`Observed`]. It keeps no state either: a
//! process that reconciles again and again holds a [`Reconciler`], whose memo of encoded
//! objects makes a pass at the fixpoint cheap and never changes a plan.

// The contract with the shell, the CLI and the tests: what a pass reads and decides, the
// API types, the calls and facts of every backend (`storage::<backend>::{call, facts, read}`),
// the presenters (render, snapshot, events, fixture), the storage-safety rules the shell
// checks again, and the merge table the test stand shares.
pub mod action;
pub mod api;
pub mod events;
pub mod fixture;
pub mod names;
pub mod observed;
pub mod outcome;
pub mod plan;
pub mod reconcile;
pub mod render;
pub mod safety;
pub mod snapshot;
pub mod storage;
pub mod structure;

// The decisions themselves: reachable only through `reconcile`, `reads` and `desired`.
pub(crate) mod checksum;
pub(crate) mod conditions;
pub(crate) mod controllers;
pub(crate) mod diff;
pub(crate) mod inputs;
pub(crate) mod memo;
pub(crate) mod objects;
pub(crate) mod platform;
pub(crate) mod seed;
pub(crate) mod tls;
pub(crate) mod validation;

pub use action::{Action, CloudAction, KubeAction, Payload};
pub use objects::{Desired, OWNED, Owned, desired};
pub use observed::{ObjectKey, Observed};
pub use outcome::{ErrorClass, Outcome, OutcomeResult};
pub use plan::{Plan, Step};
pub use reconcile::{Reconciler, reconcile};
pub use storage::read::{CloudReads, reads};
