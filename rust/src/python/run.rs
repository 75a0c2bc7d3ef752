//! The one door for long calls from Python.
//!
//! The work runs on its own thread (fanning out to rayon) with the GIL
//! released. The calling thread wakes every ~100 ms to check for Ctrl-C (then
//! sets the interrupt flag the work polls) and to hand the progress counters
//! to an optional callback: one Python call per tick, never per file.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use super::errors::to_py;
use crate::error::Result;
use crate::progress::Progress;

const TICK: Duration = Duration::from_millis(100);

struct Done {
    flag: Mutex<bool>,
    cond: Condvar,
}

impl Done {
    fn set(&self) {
        if let Ok(mut f) = self.flag.lock() {
            *f = true;
        }
        self.cond.notify_all();
    }

    /// Waits up to `timeout`; returns whether the work has finished.
    fn wait(&self, timeout: Duration) -> bool {
        let Ok(guard) = self.flag.lock() else {
            return true;
        };
        if *guard {
            return true;
        }
        match self.cond.wait_timeout(guard, timeout) {
            Ok((g, _)) => *g,
            Err(_) => true,
        }
    }
}

/// Sets the flag when dropped, so a panicking worker still wakes the caller.
struct SetOnDrop<'a>(&'a Done);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Files at most this large, and this many, are worked on by the calling thread
/// (see [`run_small_or_long`]): a few milliseconds of work at worst.
pub const SMALL_WORK_FILES: usize = 8;
pub const SMALL_WORK_BYTES: u64 = 8 << 20;

/// Whether work on these files ends quickly enough to run on the calling thread.
pub fn is_small_work<'a>(paths: impl ExactSizeIterator<Item = &'a std::path::Path>) -> bool {
    paths.len() <= SMALL_WORK_FILES
        && paths
            .map(std::fs::metadata)
            .all(|m| m.map_or(true, |m| m.len() <= SMALL_WORK_BYTES))
}

/// [`run_long`], except that `small` work runs on the calling thread (still
/// without the GIL): handing a millisecond of work to another thread costs a
/// wake-up each way, which on a busy machine (stages training on every core)
/// takes milliseconds itself. Ctrl-C is then noticed when the work is done.
pub fn run_small_or_long<T, F>(
    py: Python<'_>,
    callback: Option<&Bound<'_, PyAny>>,
    small: bool,
    work: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Progress) -> Result<T> + Send,
{
    if !small {
        return run_long(py, callback, work);
    }
    let progress = Progress::new();
    let outcome =
        py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&progress))));
    py.check_signals()?;
    finish(outcome, callback, &progress)
}

/// The work's result as Python sees it, after one last progress report.
fn finish<T>(
    outcome: std::thread::Result<Result<T>>,
    callback: Option<&Bound<'_, PyAny>>,
    progress: &Progress,
) -> PyResult<T> {
    let result = match outcome {
        Ok(r) => r.map_err(to_py)?,
        Err(panic) => return Err(panic_error(panic)),
    };
    if let Some(cb) = callback {
        let (files, bytes) = progress.snapshot();
        cb.call1((files, bytes))?;
    }
    Ok(result)
}

/// The error a panic in the core becomes: a bug, reported as one.
fn panic_error(panic: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    PyRuntimeError::new_err(format!("internal error in mlvc core: {what}"))
}

/// Runs `work` without the GIL, interruptible by Ctrl-C, reporting progress.
///
/// `callback`, if given, is called as `callback(files_done, bytes_done)` about
/// every 100 ms and once at the end; an exception it raises stops the work.
pub fn run_long<T, F>(py: Python<'_>, callback: Option<&Bound<'_, PyAny>>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Progress) -> Result<T> + Send,
{
    let progress = Progress::new();
    let done = Done {
        flag: Mutex::new(false),
        cond: Condvar::new(),
    };
    let mut pending: Option<PyErr> = None;
    let joined = std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let _wake = SetOnDrop(&done);
            work(&progress)
        });
        loop {
            let finished = py.detach(|| done.wait(TICK));
            if finished {
                break;
            }
            if pending.is_none() {
                if let Err(e) = py.check_signals() {
                    progress.interrupt();
                    pending = Some(e);
                    continue;
                }
                if let Some(cb) = callback {
                    let (files, bytes) = progress.snapshot();
                    if let Err(e) = cb.call1((files, bytes)) {
                        progress.interrupt();
                        pending = Some(e);
                    }
                }
            }
        }
        handle.join()
    });
    if let Some(e) = pending {
        return Err(e);
    }
    finish(joined, callback, &progress)
}
