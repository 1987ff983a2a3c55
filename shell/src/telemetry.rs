//! Logging for the live commands: tracing to stderr, as text or JSON lines, filtered by
//! `RUST_LOG` (default `info`, with the AWS SDK's crates at `warn`: at `info` the SDK's
//! credential providers log the access key ID they loaded; kube's per-request failure traces
//! off, since the operator reports failures itself, once). Plans' texts are already redacted;
//! nothing here prints secrets. Colours only on a terminal: a pod's log is a file.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// What is logged when `RUST_LOG` is not set.
/// kube's client logs every failed request at ERROR and every dropped watch stream at WARN,
/// each retry again: the operator says what failed itself (a failed read or write, an outage of
/// the watches, once), so those two stay quiet unless `RUST_LOG` asks for them.
pub const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_s3=warn,aws_sdk_sts=warn,\
     kube_client::client::builder=off,kube_client::client=error,kube_runtime::watcher=error";

/// Installs the subscriber (once; later calls do nothing).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
