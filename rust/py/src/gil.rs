//! The one way into long-running Rust work (after polars' `enter_polars`): inputs are already
//! Rust values; the work runs on a worker thread with the GIL released; the calling thread
//! wakes every 100 ms to deliver progress and to check for Ctrl-C, which cancels the work
//! and surfaces as `KeyboardInterrupt`; errors are mapped; a panic becomes `InternalError`.

use crate::error::{to_py, InternalError};
use hyperword_core::{Control, Result};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

const POLL: Duration = Duration::from_millis(100);

pub fn enter<T, F>(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control) -> Result<T> + Send,
{
    let control = Control::new();
    let (tx, rx) = channel();
    std::thread::scope(|scope| {
        let ctl = &control;
        scope.spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| work(ctl)));
            let _ = tx.send(outcome);
        });
        let mut rx = rx;
        loop {
            let (got, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
            rx = back;
            let interruption = match got {
                Ok(Ok(result)) => {
                    let result = result.map_err(to_py)?;
                    if let Some(callback) = progress {
                        callback.call1((control.words(),))?; // the final count, so a bar ends full
                    }
                    return Ok(result);
                }
                Ok(Err(panic)) => {
                    return Err(InternalError::new_err(format!(
                        "hyperword panicked: {}",
                        panic_message(&panic)
                    )))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(InternalError::new_err("the worker thread ended without a result"))
                }
                Err(RecvTimeoutError::Timeout) => py.check_signals().and_then(|_| match progress {
                    Some(callback) => callback.call1((control.words(),)).map(drop),
                    None => Ok(()),
                }),
            };
            if let Err(err) = interruption {
                control.cancel();
                // Wait for the worker to stop: it checks the flag between record batches.
                let _ = py.detach(move || rx.recv());
                return Err(err);
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
