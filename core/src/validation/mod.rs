//! What the operator checks before it passes a Config value on (issue 25): the values copied
//! into the registry's pods (the API server's own rules for them, `kubernetes`), the proxy
//! URLs (`proxy`) and the storage names sent to a cloud (`storage`). A value that fails is a
//! [`FieldError`] naming the Config field and the rule; the pass then writes and calls nothing
//! that carries it (spec 10 §3.4 step 2: `VerificationFailed`).

pub mod kubernetes;
pub mod proxy;
pub mod storage;

use std::fmt;

/// One invalid value: where it is and which rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path, as `kubectl explain` spells it (`spec.tolerations[0].operator`).
    pub field: String,
    /// The rule it breaks (with the value, unless the value may hold a secret).
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects field errors under a path.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// Records that `field` breaks `message`'s rule.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }

    /// Records `result`'s error, if any, at `field`.
    pub fn check(&mut self, field: impl Into<String>, result: Result<(), String>) {
        if let Err(message) = result {
            self.add(field, message);
        }
    }

    /// The errors, in the order found.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// Whether none was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A lowercase ASCII letter or a digit: what DNS labels and most cloud names are made of.
pub(crate) fn lower_digit(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// The errors joined into one message, as a condition carries them.
pub fn message(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
