//! `fake-apiserver`: the test double of the Kubernetes API server, over HTTP on 127.0.0.1.

use std::path::PathBuf;
use std::process::ExitCode;

use fake_apiserver::{FakeApiServer, serve};

const USAGE: &str = "\
Usage: fake-apiserver [--load FILE]... [--port P] [--kubeconfig-out FILE] [--tls]
                      [--service-account NS/NAME] [--no-controllers]

A test double of the Kubernetes API server on 127.0.0.1 (never part of the operator).
  --load FILE            start with the objects of a fixture (its Scenario document is ignored)
                         or of a manifests folder (every *.yaml in it); repeatable
  --port P               listen on P (default 0: any free port; the address is printed)
  --kubeconfig-out FILE  write a kubeconfig for kubectl or the operator
  --tls                  serve HTTPS with a CA made at start (written beside the kubeconfig as
                         FILE.ca.crt)
  --service-account NS/NAME
                         the kubeconfig carries a token of this service account, whose requests
                         are authorized with the RBAC objects loaded (needs --tls); without it,
                         the kubeconfig has no credentials and is allowed everything
  --no-controllers       do not play the cluster's other controllers (rollouts, routers, service-ca)
Control: GET/DELETE /_fake/requests, GET/POST/DELETE /_fake/faults, POST /_fake/close-watches,
GET /_fake/objects, POST /_fake/compact, POST /_fake/reset (body: a JSON array of objects).
";

struct Args {
    load: Vec<PathBuf>,
    port: u16,
    kubeconfig: Option<PathBuf>,
    controllers: bool,
    tls: bool,
    service_account: Option<(String, String)>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed =
        Args { load: Vec::new(), port: 0, kubeconfig: None, controllers: true, tls: false, service_account: None };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--load" => parsed.load.push(value("--load")?.into()),
            "--tls" => parsed.tls = true,
            "--service-account" => {
                let sa = value("--service-account")?;
                let (ns, name) =
                    sa.split_once('/').ok_or_else(|| format!("--service-account {sa:?} is not NS/NAME"))?;
                parsed.service_account = Some((ns.to_owned(), name.to_owned()));
            }
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
    if parsed.service_account.is_some() && !parsed.tls {
        return Err("--service-account needs --tls (a token is sent over HTTPS only)".to_owned());
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
    for path in &args.load {
        let loaded =
            if path.is_dir() { serve::load_manifests(&server, path) } else { serve::load_fixture(&server, path) };
        match loaded {
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
    let tls = if args.tls {
        match serve::Tls::generate() {
            Ok(tls) => Some(tls),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    if let Some(path) = &args.kubeconfig {
        let written = match (&tls, &args.service_account) {
            (Some(tls), sa) => {
                let ca = PathBuf::from(format!("{}.ca.crt", path.display()));
                let token = sa.as_ref().map(|(ns, name)| server.issue_token(ns, name)).unwrap_or_default();
                std::fs::write(&ca, &tls.ca_pem)
                    .and_then(|()| std::fs::write(path, serve::kubeconfig_tls(address, &ca, &token)))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
            (None, _) => serve::write_kubeconfig(address, path),
        };
        if let Err(e) = written {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("fake-apiserver listening on {scheme}://{address}");
    match &tls {
        Some(tls) => tokio::select! {
            () = serve::serve_tls(server, listener, tls) => {}
            _ = tokio::signal::ctrl_c() => {}
        },
        None => tokio::select! {
            () = serve::serve(server, listener) => {}
            _ = tokio::signal::ctrl_c() => {}
        },
    }
    ExitCode::SUCCESS
}
