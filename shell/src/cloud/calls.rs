//! Counting cloud calls by service, call and outcome: the metric that shows the operator is
//! quiet towards the clouds at its fixpoint. Labels are bounded: a fixed set of calls and
//! outcomes (`ok` or an error class), never a bucket name or a message.

use image_registry_core::outcome::ErrorClass;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// The labels of one counted call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `s3`, `gcs`, `azure` or `swift`.
    pub service: String,
    /// The API operation, as the service names it (`HeadBucket`, `PutBucketTagging`, ...).
    pub call: String,
    /// `ok`, or the error class as the plan writes it (`alreadyExists`, `throttled`, ...).
    pub outcome: String,
}

/// The label of one Azure account-key cache request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KeyCacheLabels {
    /// `hit` or `miss`.
    pub result: String,
}

/// A shared handle on the call counter (clones count into the same family).
#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    family: Family<CallLabels, Counter>,
    key_cache: Family<KeyCacheLabels, Counter>,
}

impl CallCounter {
    /// The family, to register.
    pub fn family(&self) -> Family<CallLabels, Counter> {
        self.family.clone()
    }

    /// The Azure account-key cache's requests (the reference's
    /// `image_registry_operator_azure_key_cache_requests_total{result}`), to register.
    pub fn key_cache_family(&self) -> Family<KeyCacheLabels, Counter> {
        self.key_cache.clone()
    }

    /// Counts one request to the Azure account-key cache.
    pub fn key_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" }.to_owned();
        self.key_cache.get_or_create(&KeyCacheLabels { result }).inc();
    }

    /// Counts one call.
    pub fn count(&self, service: &str, call: &str, outcome: Result<(), ErrorClass>) {
        let outcome = match outcome {
            Ok(()) => "ok".to_owned(),
            Err(class) => {
                serde_json::to_value(class).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            }
        };
        self.family.get_or_create(&CallLabels { service: service.to_owned(), call: call.to_owned(), outcome }).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_service_call_and_outcome() {
        let calls = CallCounter::default();
        calls.count("s3", "HeadBucket", Ok(()));
        calls.count("s3", "HeadBucket", Ok(()));
        calls.count("s3", "CreateBucket", Err(ErrorClass::AlreadyExists));
        let labels =
            |call: &str, outcome: &str| CallLabels { service: "s3".into(), call: call.into(), outcome: outcome.into() };
        assert_eq!(calls.family().get_or_create(&labels("HeadBucket", "ok")).get(), 2);
        assert_eq!(calls.family().get_or_create(&labels("CreateBucket", "alreadyExists")).get(), 1);
    }
}
