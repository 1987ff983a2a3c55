//! `cluster-image-registry-operator`: the operator binary.

use std::io::Write;
use std::process::ExitCode;

use image_registry_operator::{cli, commands};

fn main() -> ExitCode {
    let code = match cli::parse(std::env::args_os().skip(1)) {
        // Unlocked handles: `run` logs from the runtime's worker threads, and a stderr lock held
        // here for the whole command would block them forever at their first log line (the
        // watches' warnings once the API server is gone), and with them the timers and signals.
        Ok(cli) => commands::run(cli.command, &mut std::io::stdout(), &mut std::io::stderr()),
        Err(error) => {
            // Help and version go to stdout with exit 0; a usage error to stderr with exit 1
            // (2 means "changes pending" for `plan`).
            let (code, text) = cli::refused(&error);
            let _ = if code == 0 {
                std::io::stdout().write_all(text.as_bytes())
            } else {
                std::io::stderr().write_all(text.as_bytes())
            };
            code
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
