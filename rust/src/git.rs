//! Placeholder until the git module lands.
/// Errors from git operations.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// Something failed.
    #[error("{0}")]
    Other(String),
    /// Precondition.
    #[error("ref {name}")]
    RefPrecondition {
        /// Name.
        name: String,
    },
}
