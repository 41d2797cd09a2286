//! The read-ahead cache: read-only commands started at once, ahead of the steps that observe
//! them, so a converged run costs one round of reads instead of a chain.
//!
//! A read is in the cache from the moment it starts: a step that observes it while it runs
//! waits for that answer instead of running the command again, and a step whose own read has
//! answered goes on while the others still run (a cluster creation starts as soon as its
//! `describe-cluster` has answered). Running a command drops what was read about the resources
//! it changes, also while that read is still running.

use super::Output;
use crate::cmd::Cmd;
use crate::resource::Selector;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// An answer: `None` until the read has finished; then `Some(None)` when it could not run
/// (the step runs it itself and meets the error), else what it printed.
type Answer = Option<Option<Output>>;

struct Entry {
    /// Told apart from an entry for the same command made after this one was dropped.
    id: u64,
    cmd: Cmd,
    answer: watch::Receiver<Answer>,
    /// A failed answer no longer counts (see [`ReadAheadCache::forget_failures`]).
    failures_dropped: bool,
}

impl Entry {
    fn failed(&self) -> bool {
        matches!(&*self.answer.borrow(), Some(Some(out)) if !out.success())
    }
}

/// One read started ahead: where its answer goes.
pub(super) struct Started {
    pub cmd: Cmd,
    answer: watch::Sender<Answer>,
}

impl Started {
    pub(super) fn answer(&self, out: Option<Output>) {
        let _ = self.answer.send(Some(out));
    }
}

#[derive(Default)]
pub(super) struct ReadAheadCache {
    /// By the command's shell form.
    entries: Mutex<HashMap<String, Entry>>,
    next_id: AtomicU64,
}

impl ReadAheadCache {
    /// Puts the reads that name a resource, and are not in the cache yet, in it as running;
    /// the caller runs them and gives each its answer.
    pub(super) fn start(&self, cmds: Vec<Cmd>) -> Vec<Started> {
        let mut entries = self.entries.lock().unwrap();
        let mut started = Vec::new();
        for cmd in cmds {
            let key = cmd.to_string();
            if cmd.resource.is_none() || cmd.is_mutating() || entries.contains_key(&key) {
                continue;
            }
            let (tx, rx) = watch::channel(None);
            entries.insert(
                key,
                Entry {
                    id: self.next_id.fetch_add(1, Ordering::Relaxed),
                    cmd: cmd.clone(),
                    answer: rx,
                    failures_dropped: false,
                },
            );
            started.push(Started { cmd, answer: tx });
        }
        started
    }

    /// What `cmd` answered when it was read ahead, waiting for it while it runs; `None` when it
    /// was not read ahead, could not run, or was dropped meanwhile.
    pub(super) async fn answer(&self, cmd: &Cmd) -> Option<Output> {
        let key = cmd.to_string();
        let (id, mut rx) = {
            let entries = self.entries.lock().unwrap();
            let entry = entries.get(&key)?;
            (entry.id, entry.answer.clone())
        };
        // An error: the read was abandoned unanswered.
        let out = rx.wait_for(Option::is_some).await.ok()?.clone().flatten()?;
        let mut entries = self.entries.lock().unwrap();
        let entry = entries.get(&key).filter(|e| e.id == id)?;
        if entry.failures_dropped && !out.success() {
            entries.remove(&key);
            return None;
        }
        Some(out)
    }

    /// Drops what was read about what `what` selects, answered or still running.
    pub(super) fn forget(&self, what: &Selector) {
        self.entries.lock().unwrap().retain(|_, e| !e.cmd.is_about(what));
    }

    /// Drops the failed answers about what `what` selects, also those still to come: a read of
    /// a cluster's contents may have raced its becoming ACTIVE (eksctl refuses while it is not).
    pub(super) fn forget_failures(&self, what: &Selector) {
        let mut entries = self.entries.lock().unwrap();
        entries.retain(|_, e| !(e.cmd.is_about(what) && e.failed()));
        for e in entries.values_mut().filter(|e| e.cmd.is_about(what)) {
            e.failures_dropped = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Effect;
    use crate::resource::Resource;
    use crate::run::wait as block_on;

    fn read(name: &str) -> Cmd {
        let r = Resource::aws(None, ["eks", "c", name]);
        Cmd::new("echo", Effect::Read, "read").arg(name).resource(r)
    }

    fn out(status: i32) -> Option<Output> {
        Some(Output {
            status: Some(status),
            ..Output::default()
        })
    }

    #[test]
    fn an_observer_waits_for_the_read_in_flight() {
        let cache = ReadAheadCache::default();
        let started = cache.start(vec![read("a"), read("a"), read("b")]);
        assert_eq!(started.len(), 2, "one read per command");
        let a = read("a");
        let (got, ()) = block_on(async {
            tokio::join!(cache.answer(&a), async {
                tokio::task::yield_now().await;
                started[0].answer(out(0));
            })
        });
        assert_eq!(got.unwrap().status, Some(0));
        assert!(block_on(cache.answer(&read("c"))).is_none(), "never read ahead");
    }

    #[test]
    fn a_read_forgotten_in_flight_is_no_answer() {
        let cache = ReadAheadCache::default();
        let started = cache.start(vec![read("a")]);
        cache.forget(&Selector::Under(Resource::aws(None, ["eks", "c"])));
        started[0].answer(out(0));
        assert!(block_on(cache.answer(&read("a"))).is_none());
        // A new read of it can start again.
        assert_eq!(cache.start(vec![read("a")]).len(), 1);
    }

    #[test]
    fn failures_are_dropped_also_when_they_come_later() {
        let cache = ReadAheadCache::default();
        let started = cache.start(vec![read("a"), read("b"), read("ok")]);
        started[0].answer(out(1));
        cache.forget_failures(&Selector::Inside(Resource::aws(None, ["eks", "c"])));
        started[1].answer(out(1));
        started[2].answer(out(0));
        assert!(block_on(cache.answer(&read("a"))).is_none(), "failed before");
        assert!(block_on(cache.answer(&read("b"))).is_none(), "failed after");
        assert!(block_on(cache.answer(&read("ok"))).is_some());
    }

    #[test]
    fn a_read_that_could_not_run_is_left_to_the_step() {
        let cache = ReadAheadCache::default();
        let started = cache.start(vec![read("a")]);
        started[0].answer(None);
        assert!(block_on(cache.answer(&read("a"))).is_none());
        drop(started);
        let started = cache.start(vec![read("b")]);
        drop(started);
        assert!(block_on(cache.answer(&read("b"))).is_none(), "abandoned unanswered");
    }
}
