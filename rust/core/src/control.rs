//! Cancellation, progress and thread use, shared between a running job and its caller.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Handed to long-running work: the caller may cancel it and read its progress.
#[derive(Debug, Default)]
pub struct Control {
    cancelled: AtomicBool,
    words: AtomicU64,
}

impl Control {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn add_words(&self, n: u64) {
        self.words.fetch_add(n, Ordering::Relaxed);
    }

    /// Words generated so far.
    pub fn words(&self) -> u64 {
        self.words.load(Ordering::Relaxed)
    }
}

static FORKED: AtomicBool = AtomicBool::new(false);

/// Mark this process as a fork child: thread pools created by the parent do not exist here,
/// so all later work runs on the calling thread (as HF tokenizers does after fork).
pub fn mark_forked() {
    FORKED.store(true, Ordering::Relaxed);
}

pub fn is_forked() -> bool {
    FORKED.load(Ordering::Relaxed)
}

/// How many threads a job asking for `requested` gets: one in a fork child, all cores for `None`.
pub fn effective_threads(requested: Option<usize>) -> usize {
    if is_forked() {
        return 1;
    }
    requested
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Run `work` for every index on `threads` threads (in order on the calling thread when one),
/// cancelling the others at the first failure. Returns the results in index order, or the
/// error that stopped the run rather than the interruptions it caused in other workers.
pub fn run_indexed<T, F>(threads: usize, indices: &[u64], control: &Control, work: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(u64) -> Result<T> + Sync,
{
    use rayon::prelude::*;
    let guarded = |&index: &u64| {
        let r = work(index);
        if r.is_err() {
            control.cancel(); // stop the other workers early
        }
        r
    };
    let threads = threads.min(indices.len()); // never more threads than shards
    let results: Vec<Result<T>> = if threads <= 1 {
        indices.iter().map(guarded).collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("hyperword-{i}"))
            .build()
            .map_err(|e| Error::config(format!("cannot start {threads} threads: {e}")))?;
        pool.install(|| indices.par_iter().map(guarded).collect())
    };
    let mut out = Vec::with_capacity(results.len());
    let mut interrupted = false;
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(Error::Interrupted) => interrupted = true,
            Err(e) => return Err(e),
        }
    }
    if interrupted {
        Err(Error::Interrupted)
    } else {
        Ok(out)
    }
}
