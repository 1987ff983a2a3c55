//! IBM COS provisioning (spec 30 §8): the service instance, then its HMAC resource key, each
//! recorded in the Config before anything depends on it, then the bucket through the shared
//! flow. The instance and the key are found again by the name the operator gives them, so a
//! lost write never makes a second one.

use super::call::{Call, CosTarget, instance_name_for, ownership_tag};
use super::facts::CosBucket;
use super::{Endpoints, MANAGER, WRITER, api_key, effective};
use crate::action::{Action, CloudAction};
use crate::api::storage::IbmCos;
use crate::api::{ConditionStatus, Config, Storage};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::outcome::OutcomeResult;
use crate::storage::completion::Completion;
use crate::storage::naming;
use crate::storage::provision::{self, Provision, Step};

/// Completes IBM COS storage for a Managed pass.
pub fn complete(config: &Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    provision::run(&Bucket, config, observed, applied, out);
}

/// The registry's COS bucket in the shared flow; its settings resolve only once the instance
/// and the key are in place.
struct Bucket;

/// `spec.storage.ibmcos` with the platform's values, its instance and key recorded.
#[derive(Clone)]
struct Resolved {
    cos: IbmCos,
    endpoints: Endpoints,
}

/// How the previous pass's attempt at `call` ended, if it was made.
fn outcome<'a>(observed: &'a Inputs<'_>, call: &Call) -> Option<&'a OutcomeResult> {
    let id = Action::Cloud(CloudAction::IbmCos(call.clone())).id();
    observed.outcomes.iter().find(|o| o.action_id == id).map(|o| &o.result)
}

fn failure(observed: &Inputs<'_>, call: &Call) -> Option<String> {
    match outcome(observed, call) {
        Some(OutcomeResult::Failed { message, .. }) => Some(message.clone()),
        Some(OutcomeResult::Succeeded | OutcomeResult::Skipped) | None => None,
    }
}

/// Records `cos` (a new CRN) in the spec and the status, before anything uses it.
fn record(cos: &IbmCos, applied: &Storage, out: &mut Completion) {
    let mut status = applied.ibmcos.clone().unwrap_or_default();
    status.service_instance_crn.clone_from(&cos.service_instance_crn);
    status.resource_key_crn.clone_from(&cos.resource_key_crn);
    status.resource_group_name.clone_from(&cos.resource_group_name);
    status.location.clone_from(&cos.location);
    out.spec.ibmcos = Some(cos.clone());
    out.status = Some(Storage {
        ibmcos: Some(status),
        management_state: out.spec.management_state.clone(),
        ..Storage::default()
    });
}

/// The service instance: `true` once the recorded one is active.
fn instance(cos: &mut IbmCos, applied: &Storage, observed: &Inputs<'_>, out: &mut Completion) -> bool {
    let facts = &observed.cloud.ibmcos;
    let name = instance_name_for(observed.infrastructure_name());
    if !cos.service_instance_crn.is_empty() {
        let crn = cos.service_instance_crn.clone();
        let Some(instance) = facts.instances.get(&crn) else {
            out.error = Some(format!("IBM COS service instance {crn} has not been observed"));
            return false;
        };
        match instance.state.as_str() {
            "active" => return true,
            "provisioning" => {
                out.condition(
                    ConditionStatus::False,
                    "IBM COS Instance Provisioning",
                    "IBM COS service instance is provisioning",
                );
                out.error = Some("waiting for IBM COS service instance to finish provisioning".to_owned());
                return false;
            }
            _ => {}
        }
        let recorded = applied.ibmcos.as_ref().is_some_and(|a| a.service_instance_crn == crn && !a.bucket.is_empty());
        if recorded {
            // The bucket that held the registry's data went with it: reported, not recreated.
            out.vanished("IBM COS service instance", &crn, "IBM COS Instance Gone");
            return false;
        }
        cos.service_instance_crn.clear();
        cos.resource_key_crn.clear();
        out.condition(
            ConditionStatus::False,
            "IBM COS Instance Gone",
            "IBM COS service instance is inactive or has been removed.",
        );
        record(cos, applied, out);
        return false;
    }
    if cos.resource_group_name.is_empty() {
        let field = match observed.platform_status().map(|p| p.type_.as_str()) {
            Some("PowerVS") => "status.platformStatus.powervs.resourceGroup",
            _ => "status.platformStatus.ibmcloud.resourceGroupName",
        };
        out.unknown(format!("infrastructures.config.openshift.io/cluster: {field} is empty: no resource group to find or create the IBM COS service instance in"));
        return false;
    }
    let Some(group) = facts.groups.get(&cos.resource_group_name) else {
        out.unknown(format!("resource group \"{}\" not found", cos.resource_group_name));
        return false;
    };
    let found = facts.instances.iter().find(|(_, i)| {
        i.name == name && i.resource_group_id == *group && matches!(i.state.as_str(), "active" | "provisioning")
    });
    if let Some((crn, _)) = found {
        cos.service_instance_crn.clone_from(crn);
        out.condition(
            ConditionStatus::False,
            "IBM COS Instance Creation Successful",
            "IBM COS service instance was successfully created",
        );
        record(cos, applied, out);
        return false;
    }
    let create = Call::CreateServiceInstance {
        name: name.clone(),
        resource_group_id: group.clone(),
        tags: vec![ownership_tag(observed.infrastructure_name())],
    };
    let message =
        failure(observed, &create).unwrap_or_else(|| format!("The IBM COS service instance {name} does not exist yet"));
    out.condition(ConditionStatus::False, "IBM COS Instance Missing", message);
    // What the operator creates it manages (the reference: an empty state becomes Managed).
    out.claim_management("Managed");
    out.spec.ibmcos = Some(cos.clone());
    let why = format!("the registry has no IBM COS service instance {name}");
    out.actions.push((Action::Cloud(CloudAction::IbmCos(create)), why));
    false
}

/// The HMAC resource key: `true` once the recorded one is valid.
fn key(cos: &mut IbmCos, applied: &Storage, observed: &Inputs<'_>, out: &mut Completion) -> bool {
    let facts = &observed.cloud.ibmcos;
    let name = instance_name_for(observed.infrastructure_name());
    if !cos.resource_key_crn.is_empty() {
        let crn = cos.resource_key_crn.clone();
        let Some(key) = facts.keys.get(&crn) else {
            out.error = Some(format!("IBM COS resource key {crn} has not been observed"));
            return false;
        };
        if key.state != "active" {
            // A key holds no data: a new one is made.
            cos.resource_key_crn.clear();
            let message = format!("The resource key {crn} is inactive or has been removed; a new one is created");
            out.condition(ConditionStatus::False, "IBM COS Resource Key Gone", message);
            record(cos, applied, out);
            return false;
        }
        let invalid = if key.source_crn != cos.service_instance_crn {
            Some(format!("it belongs to {}, not to the service instance {}", key.source_crn, cos.service_instance_crn))
        } else if key.hmac.is_none() {
            Some("it has no HMAC credentials (cos_hmac_keys)".to_owned())
        } else if key.role != WRITER && key.role != MANAGER {
            Some(format!("its role {:?} is neither Writer nor Manager", key.role))
        } else {
            None
        };
        if let Some(why) = invalid {
            let message = format!("spec.storage.ibmcos.resourceKeyCRN: the resource key {crn} is not valid: {why}");
            out.fail("IBM COS Resource Key Invalid", message);
            return false;
        }
        return true;
    }
    let found = facts.keys.iter().find(|(_, k)| {
        k.name == name && k.source_crn == cos.service_instance_crn && k.state == "active" && k.hmac.is_some()
    });
    if let Some((crn, _)) = found {
        // Recorded now; the bucket may use the key in this pass: a lost write finds it again.
        cos.resource_key_crn.clone_from(crn);
        record(cos, applied, out);
        return true;
    }
    let create = Call::CreateResourceKey { name: name.clone(), instance_crn: cos.service_instance_crn.clone() };
    let message =
        failure(observed, &create).unwrap_or_else(|| format!("The IBM COS resource key {name} does not exist yet"));
    out.condition(ConditionStatus::False, "IBM COS Resource Key Missing", message);
    let why = format!("the IBM COS service instance has no HMAC resource key {name}");
    out.actions.push((Action::Cloud(CloudAction::IbmCos(create)), why));
    false
}

impl Bucket {
    fn create_call(r: &Resolved) -> Call {
        Call::CreateBucket { target: target(r) }
    }
}

fn target(r: &Resolved) -> CosTarget {
    CosTarget { bucket: r.cos.bucket.clone(), location: r.cos.location.clone(), endpoint: r.endpoints.cos.clone() }
}

impl Provision for Bucket {
    type Spec = Resolved;
    type Facts = CosBucket;
    const WHAT: &'static str = "IBM COS bucket";
    const VANISHED: &'static str = "IBM COS Bucket Missing";

    fn resolve(&self, config: &Config, observed: &Inputs<'_>, out: &mut Completion) -> Option<Resolved> {
        let spec = out.spec.ibmcos.clone().unwrap_or_default();
        let (mut cos, endpoints) = match effective(&spec, observed.platform_status()) {
            Ok(resolved) => resolved,
            Err(e) => {
                out.unknown(e);
                return None;
            }
        };
        if let Err(e) = api_key(observed) {
            out.unknown(e);
            return None;
        }
        if !observed.cloud.ibmcos.error.is_empty() {
            out.unknown(observed.cloud.ibmcos.error.clone());
            return None;
        }
        let applied = config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default();
        if cos.bucket.is_empty() && cos.service_instance_crn.is_empty() {
            // Named with the location while the instance is made: what the operator names it
            // creates and manages.
            let cluster_id = out.cluster_id(observed)?;
            cos.bucket = naming::random(cluster_id, &[&cos.location], observed.seed, "ibmcos-bucket");
            out.generated_name();
        }
        if !instance(&mut cos, &applied, observed, out) || !key(&mut cos, &applied, observed, out) {
            return None;
        }
        Some(Resolved { cos, endpoints })
    }

    fn key(r: &Resolved) -> &str {
        &r.cos.bucket
    }

    fn name(&self, r: &mut Resolved, cluster_id: &str, observed: &Inputs<'_>) {
        r.cos.bucket = naming::random(cluster_id, &[&r.cos.location], observed.seed, "ibmcos-bucket");
    }

    fn facts(&self, r: &Resolved, observed: &Inputs<'_>) -> Option<CosBucket> {
        observed.cloud.ibmcos.buckets.get(&r.cos.bucket).cloned()
    }

    fn step(&self, _: &Resolved, facts: &CosBucket, _: &Config, _: &Inputs<'_>, _: &mut Completion) -> Step {
        match facts.state {
            BucketState::Exists => Step::Adopt,
            BucketState::Missing => Step::Missing,
            BucketState::Forbidden | BucketState::Unknown => Step::Unreachable(facts.message.clone()),
        }
    }

    fn recorded(r: &Resolved, applied: &Storage) -> bool {
        applied.ibmcos.as_ref().is_some_and(|a| a.bucket == r.cos.bucket)
    }

    fn adopt(
        &self,
        r: &mut Resolved,
        _: &CosBucket,
        user_supplied: bool,
        _: &Config,
        observed: &Inputs<'_>,
        out: &mut Completion,
    ) -> bool {
        let created = matches!(outcome(observed, &Self::create_call(r)), Some(OutcomeResult::Succeeded));
        let (reason, message) = match (user_supplied, created) {
            (true, _) => ("IBM COS Bucket Exists", "User supplied IBM COS bucket exists and is accessible"),
            (false, true) => ("Creation Successful", "IBM COS bucket was successfully created"),
            (false, false) => ("IBM COS Bucket Exists", ""),
        };
        out.condition(ConditionStatus::True, reason, message);
        true
    }

    fn create(&self, r: &mut Resolved, _: &CosBucket, observed: &Inputs<'_>, out: &mut Completion) {
        let create = Self::create_call(r);
        let message = failure(observed, &create)
            .unwrap_or_else(|| format!("The IBM COS bucket {} does not exist yet", r.cos.bucket));
        out.condition(ConditionStatus::False, "NoSuchBucket", message);
        let why = format!("the registry's IBM COS bucket {} does not exist", r.cos.bucket);
        out.actions.push((Action::Cloud(CloudAction::IbmCos(create)), why));
    }

    fn unreachable(&self, message: &str, out: &mut Completion) {
        out.condition(ConditionStatus::Unknown, "Unknown Error Occurred", message);
    }

    fn place(r: Resolved, storage: &mut Storage) {
        storage.ibmcos = Some(r.cos);
    }
}
