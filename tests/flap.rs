//! Flap resistance (issue 5): sequences of ordinary disturbances never make the registry or the
//! ClusterOperator report Degraded, Available only dips while no replica is available, and the
//! cluster settles back to a quiet fixpoint.

use image_registry_core::api::{ConditionStatus, Config};
use image_registry_core::observed::ObjectKey;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::reconcile;
use image_registry_tests::{cases, fixture};
use image_registry_world::events::Event as Happening;
use image_registry_world::run::{Ending, simulate};
use image_registry_world::{Fault, World};
use jiff::SignedDuration;
use proptest::prelude::*;
use serde_json::json;

#[derive(Clone, Debug)]
enum Event {
    /// One registry pod restarts.
    PodRestart,
    /// A node reboots: no replica is available for this many seconds (under five minutes).
    NodeReboot(u16),
    /// Someone adds a replica.
    ScaleUp,
    /// The next write fails once with a transient error.
    TransientError,
    /// The operator restarts: it forgets its memory and the last outcomes.
    OperatorRestart,
    /// Time passes.
    Tick(u16),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::PodRestart),
        (10u16..240).prop_map(Event::NodeReboot),
        Just(Event::ScaleUp),
        Just(Event::TransientError),
        Just(Event::OperatorRestart),
        (1u16..3600).prop_map(Event::Tick),
    ]
}

/// One operator pass: plan, execute, remember.
fn pass(world: &mut World) {
    world.observe_cloud();
    let plan = reconcile(&world.observed);
    world.observed.memory = plan.memory.clone();
    world.execute(&plan);
}

fn condition(world: &World, type_: &str) -> Option<ConditionStatus> {
    let config: Config = world.observed.objects.get("", "cluster").ok()??;
    config.status?.conditions.into_iter().find(|c| c.type_ == type_).map(|c| c.status)
}

fn operator_degraded(world: &World) -> Option<String> {
    let key = ObjectKey {
        group: "config.openshift.io".into(),
        kind: "ClusterOperator".into(),
        namespace: String::new(),
        name: "image-registry".into(),
    };
    let co = world.observed.objects.raw(&key)?;
    co.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Degraded")
        .map(|c| c["status"].as_str().unwrap_or_default().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ordinary_disturbances_do_not_flap(events in prop::collection::vec(event(), 1..10)) {
        let mut world = World::new(fixture("aws-converged"));
        let mut available = condition(&world, "Available");
        let mut flips = 0;
        let reboots = events.iter().filter(|e| matches!(e, Event::NodeReboot(_))).count();
        for event in &events {
            match event {
                Event::PodRestart => {
                    world.apply(&Happening::PodsUnavailable(1));
                    pass(&mut world);
                }
                Event::NodeReboot(seconds) => {
                    world.apply(&Happening::PodsUnavailable(i64::MAX));
                    pass(&mut world);
                    world.apply(&Happening::Wait(SignedDuration::from_secs(i64::from(*seconds))));
                    pass(&mut world);
                }
                Event::ScaleUp => {
                    let config: Config = world.observed.objects.get("", "cluster").unwrap().unwrap();
                    world.apply(&Happening::EditConfig(json!({"spec": {"replicas": config.spec.replicas + 1}})));
                    pass(&mut world);
                }
                Event::TransientError => {
                    world.faults.push(Fault { matching: String::new(), class: ErrorClass::Unavailable, remaining: 1 });
                    pass(&mut world);
                }
                Event::OperatorRestart => {
                    world.apply(&Happening::OperatorRestart);
                    pass(&mut world);
                }
                Event::Tick(seconds) => {
                    world.apply(&Happening::Wait(SignedDuration::from_secs(i64::from(*seconds))));
                    pass(&mut world);
                }
            }
            prop_assert_ne!(condition(&world, "Degraded"), Some(ConditionStatus::True), "after {:?}", event);
            let operator = operator_degraded(&world);
            prop_assert_ne!(operator.as_deref(), Some("True"), "after {:?}", event);
            let now = condition(&world, "Available");
            if now != available {
                flips += 1;
                available = now;
            }
            world.settle();
            world.advance(SignedDuration::from_secs(10));
            pass(&mut world);
            let now = condition(&world, "Available");
            if now != available {
                flips += 1;
                available = now;
            }
        }
        prop_assert!(flips <= 2 * reboots, "{} Available transitions for {} reboots: {:?}", flips, reboots, events);
        let report = simulate(world.observed.clone(), 6, vec![]);
        prop_assert_eq!(&report.ending, &Ending::Converged, "{}", report.summary());
        prop_assert!(report.working_passes() <= 3, "{}", report.summary());
    }
}
