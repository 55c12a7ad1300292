//! Requests in progress, process-wide: what a graceful drain waits for before the process
//! exits. Each request holds an [`Active`] guard for as long as `Edge::serve` serves it
//! (its whole answer, streams included); the guard is released when dropped, panics included.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The count of requests being served.
#[derive(Debug, Default)]
pub(crate) struct Activity(AtomicUsize);

impl Activity {
    /// A new counter at 0.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Activity::default())
    }

    /// Count one request until the returned guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> Active {
        self.0.fetch_add(1, Ordering::AcqRel);
        Active(self.clone())
    }

    /// Requests being served now.
    pub(crate) fn in_progress(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// One request being served.
#[derive(Debug)]
pub(crate) struct Active(Arc<Activity>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_until_dropped() {
        let a = Activity::new();
        let one = a.enter();
        let two = a.enter();
        assert_eq!(a.in_progress(), 2);
        drop(one);
        assert_eq!(a.in_progress(), 1);
        let r = std::panic::catch_unwind(move || {
            let _held = two;
            panic!("a bug on the request path");
        });
        assert!(r.is_err());
        assert_eq!(a.in_progress(), 0);
    }
}
