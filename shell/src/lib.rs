//! The imperative shell of the image registry operator: the command line, and (as they land)
//! observing the cluster and executing plans.

pub mod cli;
pub mod crds;
