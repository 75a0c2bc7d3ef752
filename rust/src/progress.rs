//! Shared counters and the interrupt flag that long operations poll.
//!
//! Long calls never call back into Python per file: workers bump atomic
//! counters, and the caller samples them (e.g. every ~100 ms) to report
//! progress, and sets the interrupt flag on Ctrl-C.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Progress counters plus a cooperative cancellation flag.
#[derive(Debug, Default)]
pub struct Progress {
    files: AtomicU64,
    bytes: AtomicU64,
    interrupted: AtomicBool,
}

impl Progress {
    /// Creates counters at zero with the interrupt flag clear.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one finished file of `bytes` bytes.
    pub fn add_file(&self, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Records bytes read without finishing a file (large files report as they go).
    pub fn add_bytes(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Returns `(files, bytes)` done so far.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.files.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    /// Asks every worker polling this flag to stop soon.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
    }

    /// Tells whether [`Progress::interrupt`] was called.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }

    /// Returns `Err(Error::Interrupted)` once the flag is set.
    pub fn check(&self) -> Result<()> {
        if self.is_interrupted() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}
