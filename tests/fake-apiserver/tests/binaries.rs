//! The documented commands, as processes: `fake-apiserver --load fixtures/aws-fresh.yaml
//! --kubeconfig-out K`, then `cluster-image-registry-operator run --kubeconfig K` converges and
//! goes quiet, stops cleanly on SIGTERM, and `plan --kubeconfig K` prints a plan with reads only.
//! The operator binary must carry the `fake-cloud` feature, as `cargo test --workspace` builds it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn http(address: &str, method: &str, path: &str) -> Value {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn operator_binary() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_fake-apiserver")).with_file_name("cluster-image-registry-operator")
}

fn operator(args: &[&str]) -> Command {
    let mut command = Command::new(operator_binary());
    command
        .args(args)
        .env("RELEASE_VERSION", "4.20.0")
        .env("IMAGE", "quay.io/openshift/origin-docker-registry:4.20")
        .env("IMAGE_PRUNER", "quay.io/openshift/origin-cli:4.20")
        .env("OPERATOR_IMAGE", "quay.io/openshift/origin-cluster-image-registry-operator:4.20")
        .env("RUST_LOG", "warn");
    command
}

/// The fake API server binary on a free port, loaded with `aws-fresh`: the process, its
/// address, a scratch directory and the kubeconfig it wrote there.
fn fake_server(test: &str) -> (Killed, String, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("fake-apiserver-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/aws-fresh.yaml");
    let mut fake = Killed(
        Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
            .arg("--load")
            .arg(&fixture)
            .args(["--port", "0", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(fake.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().rsplit("http://").next().unwrap().to_owned();
    (fake, address, dir, kubeconfig)
}

/// `run` against the fake until the Config is Available: the process and its pid. Its log goes
/// to a file in `dir` (a pipe nobody reads could fill up and block it).
fn run_until_available(address: &str, kubeconfig: &str, retry_period: &str, dir: &Path) -> (Killed, String) {
    run_until_available_with(address, kubeconfig, retry_period, dir, |_| {})
}

/// As [`run_until_available`], with the command adjusted by `adjust` first.
fn run_until_available_with(
    address: &str,
    kubeconfig: &str,
    retry_period: &str,
    dir: &Path,
    adjust: impl FnOnce(&mut Command),
) -> (Killed, String) {
    let log = dir.join("operator.log");
    let args = ["run", "--kubeconfig", kubeconfig, "--cloud", "fake", "--metrics-address", "none", "--retry-period"];
    let mut command = operator(&args);
    adjust(&mut command);
    let run = command.arg(retry_period).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    let pid = run.id().to_string();
    let mut run = Killed(run);
    let started = Instant::now();
    while !available(&http(address, "GET", "/_fake/objects")) {
        if let Some(status) = run.0.try_wait().unwrap() {
            panic!("the operator exited ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no Available Config after 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    (run, pid)
}

fn available(objects: &Value) -> bool {
    objects.as_array().unwrap().iter().any(|o| {
        o["kind"] == "Config"
            && o["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Available" && c["status"] == "True"))
    })
}

fn writes(address: &str) -> usize {
    let log = http(address, "GET", "/_fake/requests");
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["write"] == true && !e["path"].as_str().unwrap().contains("/leases"))
        .count()
}

#[test]
fn the_documented_commands_converge_go_quiet_and_dry_run_reads_only() {
    assert!(operator_binary().exists(), "build the workspace first (cargo test --workspace builds the operator)");
    let (_fake, address, dir, kubeconfig) = fake_server("binaries");
    let k = kubeconfig.to_str().unwrap();

    let (mut run, pid) = run_until_available(&address, k, "2", &dir);
    std::thread::sleep(Duration::from_secs(2));
    let settled = writes(&address);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(writes(&address), settled, "the idle operator wrote");
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = run.0.wait().unwrap();
    assert!(status.success(), "SIGTERM ends the operator cleanly: {status}");
    let log = http(&address, "GET", "/_fake/requests");
    let agents: Vec<&str> = log.as_array().unwrap().iter().filter_map(|e| e["user_agent"].as_str()).collect();
    let expected = format!("cluster-image-registry-operator/{}", env!("CARGO_PKG_VERSION"));
    assert!(!agents.is_empty() && agents.iter().all(|a| *a == expected), "user agents: {agents:?}");

    http(&address, "DELETE", "/_fake/requests");
    let dry = operator(&["plan", "--kubeconfig", k]).output().unwrap();
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(text.starts_with("Plan: "), "{text}\n{}", String::from_utf8_lossy(&dry.stderr));
    let log = http(&address, "GET", "/_fake/requests");
    let log = log.as_array().unwrap();
    assert!(log.iter().any(|e| e["verb"] == "list"));
    assert!(log.iter().all(|e| e["write"] == false), "the dry-run wrote: {log:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// SIGTERM while the API server is gone: the pass in flight and the lease release each get a
/// bounded grace, and the process exits 0 well inside the pod's 30-second grace period.
#[test]
fn sigterm_ends_the_operator_in_time_when_the_api_server_is_gone() {
    assert!(operator_binary().exists(), "build the workspace first (cargo test --workspace builds the operator)");
    let (mut fake, address, dir, kubeconfig) = fake_server("sigterm");
    let k = kubeconfig.to_str().unwrap();
    let (mut run, pid) = run_until_available(&address, k, "1", &dir);
    // The API server goes away first (SIGKILL: no goodbye), then the pod is asked to stop.
    fake.0.kill().unwrap();
    fake.0.wait().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let asked = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = loop {
        if let Some(status) = run.0.try_wait().unwrap() {
            break status;
        }
        assert!(asked.elapsed() < Duration::from_secs(25), "still running 25 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(asked.elapsed() < Duration::from_secs(20), "took {:?}", asked.elapsed());
    std::fs::remove_dir_all(&dir).ok();
}

/// The API server gone for 20 seconds (less than the lease's renew deadline): the operator says
/// so once for all its watches, at WARN, and nothing at ERROR; kube's per-request failure traces
/// stay out of the default log. Before, every watch logged every retry: 305 lines a minute.
#[test]
fn an_api_server_outage_is_logged_once_not_per_watch_and_retry() {
    assert!(operator_binary().exists(), "build the workspace first (cargo test --workspace builds the operator)");
    let (mut fake, address, dir, kubeconfig) = fake_server("outage-log");
    let k = kubeconfig.to_str().unwrap();
    // The default filter, as in a pod (no RUST_LOG).
    let (_run, _pid) = run_until_available_with(&address, k, "26", &dir, |c| {
        c.env_remove("RUST_LOG");
    });
    std::thread::sleep(Duration::from_secs(2));
    let log = dir.join("operator.log");
    let before = std::fs::read_to_string(&log).unwrap().lines().count();
    fake.0.kill().unwrap();
    fake.0.wait().unwrap();
    std::thread::sleep(Duration::from_secs(20));
    let text = std::fs::read_to_string(&log).unwrap();
    let outage: Vec<&str> = text.lines().skip(before).collect();
    let watch_lines = outage.iter().filter(|l| l.contains("watch failed")).count();
    assert_eq!(watch_lines, 1, "one line for the outage of every watch: {outage:#?}");
    assert!(!outage.iter().any(|l| l.contains(" ERROR ")), "nothing at ERROR before the renew deadline: {outage:#?}");
    assert!(outage.len() <= 15, "{} lines in 20 s of outage: {outage:#?}", outage.len());
    std::fs::remove_dir_all(&dir).ok();
}
