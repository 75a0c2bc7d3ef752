//! mlvc's core: parallel hashing, `.dvcignore`-aware walking, the state cache,
//! DVC-compatible directory objects, the object cache, checkout and linking,
//! and git access through gitoxide.
//!
//! Nothing here depends on Python; the PyO3 bindings live in `python/` behind
//! the `python` feature.

pub mod cache;
pub mod checkout;
pub mod copy;
pub mod digest;
pub mod error;
pub mod git;
pub mod hash;
pub mod link;
pub mod md5;
pub mod newfile;
pub mod progress;
pub mod staged;
pub mod state;
pub mod transfer;
pub mod tree;
pub mod walk;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
