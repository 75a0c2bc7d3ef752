//! The crate-wide error type. Every variant names the file or object it concerns.

use std::io;
use std::path::PathBuf;

/// Result alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O call failed on a named path.
    #[error("{}: `{}`", .source, .path.display())]
    Io {
        /// The file the call was about.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A path is a FIFO, socket or device; its content cannot be versioned.
    #[error("`{}` is a {kind}, which cannot be tracked", .path.display())]
    SpecialFile {
        /// The offending path.
        path: PathBuf,
        /// "fifo", "socket", "block device" or "character device".
        kind: &'static str,
    },
    /// A `.dvcignore` file with a pattern that cannot be read.
    #[error("`{}`: {message}", .path.display())]
    BadIgnoreFile {
        /// The `.dvcignore` file.
        path: PathBuf,
        /// Which line, and what is wrong with it.
        message: String,
    },
    /// A `.dvcignore` file inside a directory being hashed as tracked data.
    #[error("`{}`: a `.dvcignore` file cannot be inside tracked data", .path.display())]
    IgnoreFileInTree {
        /// The `.dvcignore` file.
        path: PathBuf,
    },
    /// A cache object's content does not hash to its name.
    #[error("cache object `{}` is corrupt: its content hashes to {actual}", .path.display())]
    CorruptObject {
        /// The object file.
        path: PathBuf,
        /// The hash its name promises.
        expected: String,
        /// The hash of its content.
        actual: String,
    },
    /// A `.dir` manifest could not be parsed or names an unsafe path.
    #[error("invalid directory object `{}`: {message}", .path.display())]
    InvalidManifest {
        /// The manifest file (or a description of where it came from).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A requested hash name is malformed.
    #[error("invalid hash `{0}`: expected 32 lowercase hex digits, optionally followed by `.dir`")]
    InvalidHash(String),
    /// An object needed for checkout is not in the cache.
    #[error("object {hash} is missing from the cache (needed for `{}`)", .path.display())]
    MissingObject {
        /// The missing hash.
        hash: String,
        /// The workspace path that needed it.
        path: PathBuf,
    },
    /// No configured link type could materialise a file.
    #[error("could not link `{}` with any of the configured cache types ({tried}): {source}", .path.display())]
    Link {
        /// The destination path.
        path: PathBuf,
        /// The link types that were tried, in order.
        tried: String,
        /// The last failure.
        #[source]
        source: io::Error,
    },
    /// The state database failed.
    #[error("state database `{}`: {message}", .path.display())]
    State {
        /// The database file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
    /// The operation was interrupted (Ctrl-C) before it finished.
    #[error("interrupted")]
    Interrupted,
    /// An invalid argument was passed in.
    #[error("{0}")]
    InvalidArgument(String),
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Tells whether this is an I/O error saying something does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// Adds the path to an `io::Result`.
pub trait IoContext<T> {
    /// Converts the error into [`Error::Io`] naming `path`.
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
