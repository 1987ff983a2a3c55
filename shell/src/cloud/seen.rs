//! What a cloud client read, reused for a period (one resync; 20 minutes for Azure's account
//! keys): the quiet-at-the-fixpoint rule every cloud client shares. An answer is kept only when
//! it is worth reusing (a failed read never is), and forgotten as soon as the operator's own
//! call changed what it describes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Facts by resource name, with when they were read.
#[derive(Debug)]
pub struct Seen<T> {
    entries: HashMap<String, (Instant, T)>,
}

impl<T> Default for Seen<T> {
    fn default() -> Self {
        Self { entries: HashMap::new() }
    }
}

impl<T: Clone> Seen<T> {
    /// The facts about `name` read less than `resync` ago.
    pub fn fresh(&self, name: &str, resync: Duration) -> Option<T> {
        let (at, facts) = self.entries.get(name)?;
        (at.elapsed() < resync).then(|| facts.clone())
    }

    /// Records what was just read about `name`; `reusable: false` (a failed read) forgets it.
    pub fn record(&mut self, name: &str, facts: T, reusable: bool) {
        if reusable {
            self.entries.insert(name.to_owned(), (Instant::now(), facts));
        } else {
            self.entries.remove(name);
        }
    }

    /// Forgets `name` (the operator's own call changed it).
    pub fn forget(&mut self, name: &str) {
        self.entries.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_reused_within_the_period_and_failures_never() {
        let mut seen = Seen::default();
        seen.record("a", 1, true);
        assert_eq!(seen.fresh("a", Duration::from_secs(60)), Some(1));
        assert_eq!(seen.fresh("a", Duration::ZERO), None, "older than the period");
        seen.record("a", 2, false);
        assert_eq!(seen.fresh("a", Duration::from_secs(60)), None, "a failed read forgets");
        seen.record("b", 3, true);
        seen.forget("b");
        assert_eq!(seen.fresh("b", Duration::from_secs(60)), None);
    }
}
