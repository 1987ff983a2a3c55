//! Logging for the live commands: tracing to stderr, as text or JSON lines, filtered by
//! `RUST_LOG` (default `info`, with the AWS SDK's crates at `warn`: at `info` the SDK's
//! credential providers log the access key ID they loaded). Plans' texts are already redacted;
//! nothing here prints secrets. Colours only on a terminal: a pod's log is a file.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// What is logged when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_s3=warn,aws_sdk_sts=warn";

/// Installs the subscriber (once; later calls do nothing).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
