//! The pure decision core of the image registry operator.
//!
//! `reads(&Observed) -> CloudReads` says what the shell reads of the clouds for a snapshot;
//! `reconcile(&Observed) -> Plan` decides everything: bootstrap, storage completion, the
//! registry's objects and the conditions. It does no IO, reads no clock and draws no random
//! numbers: time and randomness come in through [`Observed`]. It keeps no state either: a
//! process that reconciles again and again holds a [`Reconciler`], whose memo of encoded
//! objects makes a pass at the fixpoint cheap and never changes a plan.

pub mod action;
pub mod api;
pub mod checksum;
pub mod conditions;
pub mod controllers;
pub mod diff;
pub mod events;
pub mod fixture;
pub mod inputs;
pub mod memo;
pub mod names;
pub mod objects;
pub mod observed;
pub mod outcome;
pub mod plan;
pub mod platform;
pub mod reconcile;
pub mod render;
pub mod safety;
pub mod seed;
pub mod snapshot;
pub mod storage;
pub mod structure;
pub mod tls;
pub mod validation;

pub use action::{Action, CloudAction, KubeAction, Payload};
pub use observed::{ObjectKey, Observed};
pub use outcome::{ErrorClass, Outcome, OutcomeResult};
pub use plan::{Plan, Step};
pub use reconcile::{Reconciler, reconcile};
pub use storage::read::{CloudReads, reads};
