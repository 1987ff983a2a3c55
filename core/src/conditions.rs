//! Condition lists with the reference's update rule (spec 10 §6.1): a new type is appended with
//! `lastTransitionTime = now`; an existing one keeps its position and its transition time
//! unless its status changes; reason and message are always replaced.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::{ConditionStatus, OperatorCondition};

/// A condition as a controller computes it, before transition times are applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Condition type.
    pub type_: String,
    /// Status.
    pub status: ConditionStatus,
    /// Reason (may be empty).
    pub reason: String,
    /// Message (may be empty).
    pub message: String,
}

impl Wanted {
    /// A condition.
    pub fn new(type_: &str, status: ConditionStatus, reason: &str, message: impl Into<String>) -> Self {
        Self { type_: type_.to_owned(), status, reason: reason.to_owned(), message: message.into() }
    }
}

/// Applies `wanted` to `conditions` at `now`.
pub fn set(conditions: &mut Vec<OperatorCondition>, wanted: Wanted, now: Timestamp) {
    match conditions.iter_mut().find(|c| c.type_ == wanted.type_) {
        Some(existing) => {
            if existing.status != wanted.status {
                existing.status = wanted.status;
                existing.last_transition_time = Time(now);
            }
            existing.reason = wanted.reason;
            existing.message = wanted.message;
        }
        None => conditions.push(OperatorCondition {
            type_: wanted.type_,
            status: wanted.status,
            last_transition_time: Time(now),
            reason: wanted.reason,
            message: wanted.message,
        }),
    }
}

/// The condition of a type, if present.
pub fn find<'a>(conditions: &'a [OperatorCondition], type_: &str) -> Option<&'a OperatorCondition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn transition_time_moves_only_with_status() {
        let mut list = Vec::new();
        set(&mut list, Wanted::new("Available", ConditionStatus::False, "A", "one"), at(10));
        set(&mut list, Wanted::new("Degraded", ConditionStatus::False, "", ""), at(10));
        set(&mut list, Wanted::new("Available", ConditionStatus::False, "B", "two"), at(20));
        assert_eq!(list[0].last_transition_time, Time(at(10)));
        assert_eq!((list[0].reason.as_str(), list[0].message.as_str()), ("B", "two"));
        set(&mut list, Wanted::new("Available", ConditionStatus::True, "C", ""), at(30));
        assert_eq!(list[0].last_transition_time, Time(at(30)));
        assert_eq!(list.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(), ["Available", "Degraded"]);
    }
}
