//! The controllers of a pass, each a pure function from the decoded inputs to its part of the
//! plan and its conditions: the CA configmaps (`certificates`), the registry itself (bootstrap,
//! storage, objects, removal, status), the image config, node-ca, the pruner, and the
//! ClusterOperator that aggregates them. `reconcile` runs them in this order.

pub mod certificates;
pub mod clusteroperator;
pub mod imageconfig;
pub mod nodeca;
pub mod pruner;
pub mod registry;
