//! `cluster-image-registry-operator`: the operator binary.

use std::process::ExitCode;

use image_registry_operator::cli;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match cli::parse(&args) {
        Ok(command) => cli::run(command, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()),
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            1
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
