//! The one way into long-running Rust work (after polars' `enter_polars`): inputs are already
//! Rust values; the work runs on a worker thread with the GIL released; the calling thread
//! wakes every 100 ms to deliver progress and to check for Ctrl-C, which cancels the work
//! and surfaces as `KeyboardInterrupt`; errors are mapped; a panic becomes `InternalError`.

use crate::error::{to_py, InternalError};
use hyperword_core::{Control, Result};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(100);

/// What the worker thread tells the calling thread: an item reported on the way, or the end.
enum Message<T, U> {
    Item(U),
    Done(std::thread::Result<Result<T>>),
}

pub fn enter<T, F>(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control) -> Result<T> + Send,
{
    enter_reporting(py, progress, |_: &()| Ok(()), move |control, _| work(control))
}

/// [`enter`], for work that reports items as it goes (`report(item)`, from any of its
/// threads): each is handed to `on_item` on the calling thread, with the GIL held, as soon as
/// it arrives (a pending Ctrl-C is taken first, so that it does not land inside `on_item`).
/// An error from `on_item` stops the work as Ctrl-C does and is raised. Every item is handed
/// over even then: one whose `on_item` failed (a Ctrl-C landing inside it) once more, and
/// those reported while the work stops (their errors ignored); `on_item` must not mind
/// seeing an item twice (a shard's record is written again).
pub fn enter_reporting<T, U, F, H>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    mut on_item: H,
    work: F,
) -> PyResult<T>
where
    T: Send,
    U: Send,
    F: FnOnce(&Control, &(dyn Fn(U) + Sync)) -> Result<T> + Send,
    H: FnMut(&U) -> PyResult<()>,
{
    let control = Control::new();
    let (tx, rx) = channel::<Message<T, U>>();
    std::thread::scope(|scope| {
        let ctl = &control;
        scope.spawn(move || {
            let report = |item: U| {
                let _ = tx.send(Message::Item(item));
            };
            let outcome = catch_unwind(AssertUnwindSafe(|| work(ctl, &report)));
            let _ = tx.send(Message::Done(outcome));
        });
        let mut rx = rx;
        let mut tick = Instant::now() + POLL;
        loop {
            let wait = tick.saturating_duration_since(Instant::now());
            let (got, back) = py.detach(move || (rx.recv_timeout(wait), rx));
            rx = back;
            let mut failed = None;
            let interruption = match got {
                Ok(Message::Item(item)) => {
                    let signals = py.check_signals();
                    let handled = on_item(&item);
                    if handled.is_err() {
                        failed = Some(item);
                    }
                    signals.and(handled)
                }
                Ok(Message::Done(Ok(result))) => {
                    let result = result.map_err(to_py)?;
                    if let Some(callback) = progress {
                        callback.call1((control.words(),))?; // the final count, so a bar ends full
                    }
                    return Ok(result);
                }
                Ok(Message::Done(Err(panic))) => {
                    return Err(InternalError::new_err(format!(
                        "hyperword panicked: {}",
                        panic_message(&panic)
                    )))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(InternalError::new_err("the worker thread ended without a result"))
                }
                Err(RecvTimeoutError::Timeout) => {
                    tick = Instant::now() + POLL;
                    py.check_signals().and_then(|_| match progress {
                        Some(callback) => callback.call1((control.words(),)).map(drop),
                        None => Ok(()),
                    })
                }
            };
            if let Err(err) = interruption {
                control.cancel();
                if let Some(item) = failed {
                    let _ = on_item(&item);
                }
                // Wait for the worker to stop: it checks the flag between record batches.
                loop {
                    let (got, back) = py.detach(move || (rx.recv(), rx));
                    rx = back;
                    match got {
                        Ok(Message::Item(item)) => {
                            let _ = on_item(&item);
                        }
                        _ => return Err(err),
                    }
                }
            }
        }
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
