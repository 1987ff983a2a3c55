//! `cluster-image-registry-operator`: the operator binary.

use std::process::ExitCode;

use image_registry_operator::cli;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match cli::parse(&args) {
        // Unlocked handles: `run` logs from the runtime's worker threads, and a stderr lock held
        // here for the whole command would block them forever at their first log line (the
        // watches' warnings once the API server is gone), and with them the timers and signals.
        Ok(command) => cli::run(command, &mut std::io::stdout(), &mut std::io::stderr()),
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            1
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
