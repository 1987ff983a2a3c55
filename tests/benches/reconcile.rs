//! The core's speed, in criterion benches (`scripts/bench` runs them; numbers and how to
//! reproduce them in docs/performance.md): `reconcile` on a fresh and a converged AWS cluster,
//! the converged one among 1,000 nodes and 1,000 unrelated objects in the operator's namespace,
//! and parsing a fixture.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use image_registry_core::fixture;
use image_registry_core::observed::Observed;
use image_registry_core::reconcile;
use image_registry_core::reconcile::Reconciler;
use serde_json::json;

fn read(name: &str) -> String {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(name: &str) -> Observed {
    fixture::parse(name, &read(name)).unwrap_or_else(|e| panic!("{e}")).observed
}

/// `observed` among `nodes` worker nodes and `unrelated` ConfigMaps in the operator's namespace.
pub fn scaled(mut observed: Observed, nodes: usize, unrelated: usize) -> Observed {
    for i in 0..nodes {
        let node = json!({
            "apiVersion": "v1", "kind": "Node",
            // No zone label: the fixture has no zoned nodes, and a zone would (rightly) change
            // the Deployment's spread constraints.
            "metadata": {"name": format!("worker-{i}"), "labels": {
                "node-role.kubernetes.io/worker": "",
                "kubernetes.io/hostname": format!("worker-{i}"),
            }},
            "spec": {"providerID": format!("aws:///us-east-1a/i-{i:017x}")},
        });
        observed.objects.insert(node).unwrap();
    }
    for i in 0..unrelated {
        let map = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("unrelated-{i}"), "namespace": "openshift-image-registry"},
            "data": {"key": format!("value {i}")},
        });
        observed.objects.insert(map).unwrap();
    }
    observed
}

fn benches(c: &mut Criterion) {
    let fresh = load("aws-fresh.yaml");
    let converged = load("aws-converged.yaml");
    let crowded = scaled(converged.clone(), 1000, 1000);
    assert!(reconcile(&converged).steps.is_empty(), "aws-converged must be a fixpoint to measure one");
    assert!(reconcile(&crowded).steps.is_empty(), "unrelated objects must not make work");

    let mut group = c.benchmark_group("reconcile");
    // As the operator's loop runs them: one reconciler, remembering encodings between passes.
    let reconciler = Reconciler::new();
    group.bench_function("aws-fresh", |b| b.iter(|| reconciler.reconcile(black_box(&fresh))));
    group.bench_function("aws-converged", |b| b.iter(|| reconciler.reconcile(black_box(&converged))));
    group.bench_function("aws-converged+1000-nodes+1000-objects", |b| {
        b.iter(|| reconciler.reconcile(black_box(&crowded)))
    });
    group.finish();

    let text = read("aws-converged.yaml");
    c.bench_function("fixture/parse aws-converged", |b| {
        b.iter(|| fixture::parse("aws-converged.yaml", black_box(&text)).map(|f| f.observed.objects.len()))
    });
}

criterion_group!(core, benches);
criterion_main!(core);
