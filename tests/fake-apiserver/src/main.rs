//! `fake-apiserver`: the test double of the Kubernetes API server, over HTTP on 127.0.0.1.

use std::path::PathBuf;
use std::process::ExitCode;

use fake_apiserver::{FakeApiServer, serve};

const USAGE: &str = "\
Usage: fake-apiserver [--load FIXTURE] [--port P] [--kubeconfig-out FILE] [--no-controllers]

A test double of the Kubernetes API server on 127.0.0.1 (never part of the operator).
  --load FILE            start with the objects of a fixture (its Scenario document is ignored)
  --port P               listen on P (default 0: any free port; the address is printed)
  --kubeconfig-out FILE  write a kubeconfig for kubectl or the operator
  --no-controllers       do not play the cluster's other controllers (rollouts, routers, service-ca)
Control: GET/DELETE /_fake/requests, GET/POST/DELETE /_fake/faults, POST /_fake/close-watches,
GET /_fake/objects.
";

struct Args {
    load: Option<PathBuf>,
    port: u16,
    kubeconfig: Option<PathBuf>,
    controllers: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args { load: None, port: 0, kubeconfig: None, controllers: true };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--load" => parsed.load = Some(value("--load")?.into()),
            "--port" => {
                let port = value("--port")?;
                parsed.port = port.parse().map_err(|_| format!("--port {port:?} is not a port number"))?;
            }
            "--kubeconfig-out" => parsed.kubeconfig = Some(value("--kubeconfig-out")?.into()),
            "--no-controllers" => parsed.controllers = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}\n");
            }
            eprint!("{USAGE}");
            return ExitCode::from(if message.is_empty() { 0 } else { 1 });
        }
    };
    let server = FakeApiServer::default();
    server.with_store(|s| s.controllers = args.controllers);
    if let Some(path) = &args.load {
        match serve::load_fixture(&server, path) {
            Ok(n) => eprintln!("loaded {n} objects from {}", path.display()),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let listener = match serve::bind(args.port).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let Ok(address) = listener.local_addr() else { return ExitCode::from(1) };
    if let Some(path) = &args.kubeconfig
        && let Err(e) = serve::write_kubeconfig(address, path)
    {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    println!("fake-apiserver listening on http://{address}");
    tokio::select! {
        () = serve::serve(server, listener) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}
