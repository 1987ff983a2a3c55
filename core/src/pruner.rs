//! The image pruner's part of a pass: the default ImagePruner (spec 40 §2.2).

use crate::action::{Action, KubeAction, Payload};
use crate::api::{ImagePruner, ImagePrunerSpec};
use crate::names::CLUSTER;
use crate::observed::{ObjectKey, Observed};
use crate::plan::Plan;

const CONTROLLER: &str = "pruner";

/// The ImagePruner the operator creates when there is none.
pub fn default_image_pruner() -> ImagePruner {
    ImagePruner::new(
        CLUSTER,
        ImagePrunerSpec {
            suspend: Some(false),
            keep_tag_revisions: Some(3),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            ignore_invalid_image_references: true,
            ..ImagePrunerSpec::default()
        },
    )
}

/// Plans the pruner's actions.
pub fn plan(observed: &Observed, plan: &mut Plan) {
    match observed.objects.get::<ImagePruner>("", CLUSTER) {
        Err(e) => plan.error(CONTROLLER, format!("unable to read the image pruner: {e}")),
        Ok(Some(_)) => {}
        Ok(None) => match serde_json::to_value(default_image_pruner()) {
            Ok(object) => plan.push(
                Action::Kube(KubeAction::Create {
                    key: ObjectKey::of::<ImagePruner>("", CLUSTER),
                    object: Payload::new(object),
                }),
                "no ImagePruner \"cluster\" exists: create it with the defaults",
            ),
            Err(e) => plan.error(CONTROLLER, format!("cannot encode the default ImagePruner: {e}")),
        },
    }
}
