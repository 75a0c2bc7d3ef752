//! The one place Rust errors become Python exceptions.
//!
//! I/O errors become builtin `OSError` subclasses carrying errno and filename;
//! domain errors are classes of `mlvc.exceptions` under one base, `MlvcError`.

use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::error::Error;
use crate::git::GitError as CoreGitError;

pyo3::create_exception!(
    mlvc.exceptions,
    MlvcError,
    PyException,
    "Base class of every mlvc error."
);
pyo3::create_exception!(
    mlvc.exceptions,
    SpecialFileError,
    MlvcError,
    "A FIFO, socket or device where a file was expected."
);
pyo3::create_exception!(
    mlvc.exceptions,
    IgnoreFileInTreeError,
    MlvcError,
    "A `.dvcignore` file inside a directory tracked as data."
);
pyo3::create_exception!(
    mlvc.exceptions,
    IgnoreFileError,
    MlvcError,
    "A `.dvcignore` file with a pattern that cannot be read."
);
pyo3::create_exception!(
    mlvc.exceptions,
    CorruptObjectError,
    MlvcError,
    "A cache object whose content does not match its name."
);
pyo3::create_exception!(
    mlvc.exceptions,
    InvalidManifestError,
    MlvcError,
    "A `.dir` object that cannot be parsed or is unsafe."
);
pyo3::create_exception!(
    mlvc.exceptions,
    MissingObjectError,
    MlvcError,
    "An object needed from the cache is not there."
);
pyo3::create_exception!(
    mlvc.exceptions,
    LinkError,
    MlvcError,
    "No configured cache type could link a file."
);
pyo3::create_exception!(
    mlvc.exceptions,
    StateError,
    MlvcError,
    "The state database failed."
);
pyo3::create_exception!(
    mlvc.exceptions,
    GitError,
    MlvcError,
    "A git operation failed."
);
pyo3::create_exception!(
    mlvc.exceptions,
    RefConflictError,
    GitError,
    "A ref was not in the state an update required."
);

/// Converts a core error into the Python exception a caller expects.
pub fn to_py(err: Error) -> PyErr {
    match err {
        Error::Io { path, source } => match source.raw_os_error() {
            Some(errno) => {
                let strerror = std::io::Error::from_raw_os_error(errno).to_string();
                let strerror = strerror
                    .split(" (os error")
                    .next()
                    .unwrap_or(&strerror)
                    .to_string();
                PyOSError::new_err((errno, strerror, path.into_os_string()))
            }
            None => PyOSError::new_err((0, source.to_string(), path.into_os_string())),
        },
        Error::SpecialFile { .. } => SpecialFileError::new_err(err.to_string()),
        Error::IgnoreFileInTree { .. } => IgnoreFileInTreeError::new_err(err.to_string()),
        Error::BadIgnoreFile { .. } => IgnoreFileError::new_err(err.to_string()),
        Error::CorruptObject { .. } => CorruptObjectError::new_err(err.to_string()),
        Error::InvalidManifest { .. } => InvalidManifestError::new_err(err.to_string()),
        Error::MissingObject { .. } => MissingObjectError::new_err(err.to_string()),
        Error::Link { .. } => LinkError::new_err(err.to_string()),
        Error::State { .. } => StateError::new_err(err.to_string()),
        Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        Error::InvalidHash(_) | Error::InvalidArgument(_) => PyValueError::new_err(err.to_string()),
        Error::Git(g) => git_to_py(g),
    }
}

/// Converts a git error.
pub fn git_to_py(err: CoreGitError) -> PyErr {
    let msg = err.to_string();
    match err {
        CoreGitError::RefPrecondition { .. } => RefConflictError::new_err(msg),
        _ => GitError::new_err(msg),
    }
}

/// Registers the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MlvcError", py.get_type::<MlvcError>())?;
    m.add("SpecialFileError", py.get_type::<SpecialFileError>())?;
    m.add(
        "IgnoreFileInTreeError",
        py.get_type::<IgnoreFileInTreeError>(),
    )?;
    m.add("IgnoreFileError", py.get_type::<IgnoreFileError>())?;
    m.add("CorruptObjectError", py.get_type::<CorruptObjectError>())?;
    m.add(
        "InvalidManifestError",
        py.get_type::<InvalidManifestError>(),
    )?;
    m.add("MissingObjectError", py.get_type::<MissingObjectError>())?;
    m.add("LinkError", py.get_type::<LinkError>())?;
    m.add("StateError", py.get_type::<StateError>())?;
    m.add("GitError", py.get_type::<GitError>())?;
    m.add("RefConflictError", py.get_type::<RefConflictError>())?;
    Ok(())
}
