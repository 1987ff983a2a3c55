//! The one way the shell takes a lock: a poisoned mutex (a thread panicked while holding it)
//! still yields its data, since every value behind the shell's locks is a cache or a record
//! that stays usable; a panic elsewhere must not stop the operator's loop.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
