//! No secret value from any fixture reaches a snapshot or any rendering of a plan: Secret
//! data (encoded and decoded), the registry's httpSecret, and route keys.

use image_registry_core::reconcile;
use image_registry_core::render::{self, Format};
use image_registry_tests::{all_fixtures, load};
use serde_json::Value;

use image_registry_core::snapshot::IDENTIFIERS;

/// Every secret string in the fixtures, in the forms it could leak in.
fn secret_values() -> Vec<String> {
    let mut values = Vec::new();
    for path in all_fixtures() {
        let observed = load(&path).observed;
        for (key, object) in observed.objects.iter() {
            if key.kind == "Secret" {
                for field in ["data", "stringData"] {
                    let entries = object.get(field).and_then(Value::as_object).into_iter().flat_map(|m| m.iter());
                    for value in entries.filter(|(k, _)| !IDENTIFIERS.contains(&k.as_str())).map(|(_, v)| v) {
                        if let Some(text) = value.as_str() {
                            values.push(text.to_owned());
                            if field == "data"
                                && let Ok(bytes) = base64_decode(text)
                                && let Ok(decoded) = String::from_utf8(bytes)
                            {
                                values.push(decoded);
                            }
                        }
                    }
                }
            }
            if let Some(secret) = object.pointer("/spec/httpSecret").and_then(Value::as_str) {
                values.push(secret.to_owned());
            }
        }
        // What the plan generates: the registry's httpSecret, persisted in the Config.
        for step in reconcile(&observed).steps {
            if let image_registry_core::Action::Kube(action) = &step.action
                && let Some(secret) = action.payload().and_then(|p| p.expose().pointer("/spec/httpSecret"))
                && let Some(secret) = secret.as_str()
            {
                values.push(secret.to_owned());
            }
        }
    }
    values.retain(|v| v.len() >= 8);
    values.sort();
    values.dedup();
    values
}

fn base64_decode(text: &str) -> Result<Vec<u8>, ()> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|a| *a == byte).ok_or(())?;
        bits = (bits << 6) | u32::try_from(value).map_err(|_| ())?;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).map_err(|_| ())?);
        }
    }
    Ok(out)
}

#[test]
fn fixtures_hold_secrets_to_look_for() {
    // Guards the scan below against passing because it had nothing to find.
    assert!(secret_values().len() >= 6, "{:?}", secret_values().len());
}

#[test]
fn no_snapshot_holds_a_secret_value() {
    let secrets = secret_values();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let mut scanned = 0;
    for entry in walk(&dir) {
        let text = std::fs::read_to_string(&entry).unwrap();
        scanned += 1;
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{} contains a secret value", entry.display());
        }
    }
    assert!(scanned > 10);
}

#[test]
fn no_plan_rendering_holds_a_secret_value() {
    let secrets = secret_values();
    for path in all_fixtures() {
        let plan = reconcile(&load(&path).observed);
        for format in [Format::Text, Format::Yaml, Format::Json] {
            let text = render::render(&plan, format).unwrap();
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "{} {format:?} leaks a secret", path.display());
            }
        }
        for step in &plan.steps {
            let line = step.action.describe();
            assert!(secrets.iter().all(|s| !line.contains(s.as_str())), "{line}");
        }
        for error in &plan.errors {
            assert!(secrets.iter().all(|s| !error.message.contains(s.as_str())), "{}", error.message);
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// What the core hands the shell to read the clouds prints no credentials: each is redacted in
/// every `Debug` rendering (logs and panics use it), whatever the fixture holds.
#[test]
fn the_reads_the_shell_gets_print_no_credentials() {
    let secrets = secret_values();
    for path in all_fixtures() {
        let observed = load(&path).observed;
        let reads = image_registry_core::reads(&observed);
        let everything = format!("{reads:?} {reads:#?}");
        for secret in &secrets {
            assert!(!everything.contains(secret.as_str()), "{}: a secret in {everything}", path.display());
        }
        let Some(access) = reads.s3 else { continue };
        let printed = format!("{access:?} {access:#?}");
        for secret in &secrets {
            assert!(!printed.contains(secret.as_str()), "{}: a secret in {printed}", path.display());
        }
        if let Ok(credentials) = &access.credentials {
            assert!(!credentials.0.is_empty());
            assert!(printed.contains("<redacted>"), "{printed}");
        }
    }
}

/// Every fixture, redacted for sharing, plans what it plans, and holds none of its secrets.
#[test]
fn a_redacted_snapshot_of_every_fixture_plans_the_same_and_hides_its_secrets() {
    let secrets = secret_values();
    for path in all_fixtures() {
        let observed = load(&path).observed;
        let (redacted, differ) = image_registry_core::snapshot::redact(&observed);
        let describe =
            |plan: &image_registry_core::Plan| plan.steps.iter().map(|s| s.action.describe()).collect::<Vec<_>>();
        assert_eq!(differ, Vec::<String>::new(), "{}: {:#?}", path.display(), describe(&reconcile(&redacted)));
        let text = image_registry_core::fixture::render("snapshot", &redacted).unwrap();
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{}: a secret in the snapshot", path.display());
        }
    }
}
