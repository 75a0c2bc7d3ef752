//! Integration tests of the core on real temporary directories (one test binary).

mod cache;
mod checkout;
mod common;
mod digest;
mod git;
mod properties;
mod state;
mod walk;
