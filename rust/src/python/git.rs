//! Python access to git through gitoxide: resolve revisions, read files at a
//! revision, write objects and move refs with a stated precondition.

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::git_to_py;
use crate::git::{GitRepo, RefExpect, Signature, TreeEdit};

/// Parses the `expected` argument of ref updates.
///
/// `None` = any state, `"absent"` = must not exist, `"present"` = must exist,
/// a 40-hex id = must exist and point there.
fn expect_of(expected: Option<&str>) -> RefExpect {
    match expected {
        None => RefExpect::Any,
        Some("absent") => RefExpect::MustNotExist,
        Some("present") => RefExpect::MustExist,
        Some(id) => RefExpect::MustExistAndMatch(id.to_string()),
    }
}

type SignatureArg = (String, String, i64, i32);

fn signature(s: Option<SignatureArg>) -> Option<Signature> {
    s.map(|(name, email, time_seconds, offset_seconds)| Signature {
        name,
        email,
        time_seconds,
        offset_seconds,
    })
}

/// A git repository opened through gitoxide; safe to share between threads.
#[pyclass(frozen, module = "mlvc._core", name = "Git")]
pub struct PyGit {
    repo: GitRepo,
}

#[pymethods]
impl PyGit {
    /// Opens the repository containing `path` (searching upward, like git).
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let repo = py.detach(|| GitRepo::discover(&path)).map_err(git_to_py)?;
        Ok(PyGit { repo })
    }

    /// The work tree root (None for a bare repository).
    #[getter]
    fn workdir(&self) -> Option<OsString> {
        self.repo.workdir().map(PathBuf::into_os_string)
    }

    /// The `.git` directory.
    #[getter]
    fn git_dir(&self) -> OsString {
        self.repo.git_dir().into_os_string()
    }

    /// Resolves a revision to a full commit id.
    fn resolve(&self, py: Python<'_>, rev: &str) -> PyResult<String> {
        py.detach(|| self.repo.resolve(rev)).map_err(git_to_py)
    }

    /// The commit HEAD points at, or None on an unborn branch.
    fn head_commit(&self, py: Python<'_>) -> PyResult<Option<String>> {
        py.detach(|| self.repo.head_commit()).map_err(git_to_py)
    }

    /// The checked-out branch's short name, or None when HEAD is detached.
    fn head_branch(&self, py: Python<'_>) -> PyResult<Option<String>> {
        py.detach(|| self.repo.head_branch()).map_err(git_to_py)
    }

    /// `(full name, id)` of every ref whose name starts with `prefix`, sorted.
    #[pyo3(signature = (prefix="refs/"))]
    fn list_refs(&self, py: Python<'_>, prefix: &str) -> PyResult<Vec<(String, String)>> {
        py.detach(|| self.repo.list_refs(prefix)).map_err(git_to_py)
    }

    /// The bytes of `path` at `rev`, or None when the path does not exist there.
    fn read_file<'py>(
        &self,
        py: Python<'py>,
        rev: &str,
        path: &str,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let data = py
            .detach(|| self.repo.read_file(rev, path))
            .map_err(git_to_py)?;
        Ok(data.map(|d| PyBytes::new(py, &d)))
    }

    /// `(path, mode, blob id)` of every file under `prefix` at `rev`.
    #[pyo3(signature = (rev, prefix=""))]
    fn list_files(
        &self,
        py: Python<'_>,
        rev: &str,
        prefix: &str,
    ) -> PyResult<Vec<(String, u32, String)>> {
        py.detach(|| self.repo.list_files(rev, prefix))
            .map_err(git_to_py)
    }

    /// Stores a blob; returns its id.
    fn write_blob(&self, py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<String> {
        py.detach(|| self.repo.write_blob(&data)).map_err(git_to_py)
    }

    /// Applies `(path, mode, blob id)` edits (mode/id None = delete) to a tree.
    #[pyo3(signature = (base, edits))]
    fn edit_tree(
        &self,
        py: Python<'_>,
        base: Option<&str>,
        edits: Vec<(String, Option<u32>, Option<String>)>,
    ) -> PyResult<String> {
        let edits: Vec<TreeEdit> = edits
            .into_iter()
            .map(|(path, mode, id)| match (mode, id) {
                (Some(m), Some(id)) => TreeEdit::upsert(path, m, id),
                _ => TreeEdit::delete(path),
            })
            .collect();
        py.detach(|| self.repo.edit_tree(base, &edits))
            .map_err(git_to_py)
    }

    /// Writes a commit; author/committer are `(name, email, unix time, utc offset seconds)`
    /// or None for git's configured identity.
    #[pyo3(signature = (tree, parents, message, author=None, committer=None))]
    fn write_commit(
        &self,
        py: Python<'_>,
        tree: &str,
        parents: Vec<String>,
        message: &str,
        author: Option<SignatureArg>,
        committer: Option<SignatureArg>,
    ) -> PyResult<String> {
        let (a, c) = (signature(author), signature(committer));
        py.detach(|| {
            self.repo
                .write_commit(tree, &parents, message, a.as_ref(), c.as_ref())
        })
        .map_err(git_to_py)
    }

    /// Points `name` at `new` if the ref is as `expected` says; logs `message` in its reflog.
    #[pyo3(signature = (name, new, expected=None, message=""))]
    fn update_ref(
        &self,
        py: Python<'_>,
        name: &str,
        new: &str,
        expected: Option<&str>,
        message: &str,
    ) -> PyResult<()> {
        let exp = expect_of(expected);
        py.detach(|| self.repo.update_ref(name, new, exp, message))
            .map_err(git_to_py)
    }

    /// Deletes `name` if the ref is as `expected` says.
    #[pyo3(signature = (name, expected=None))]
    fn delete_ref(&self, py: Python<'_>, name: &str, expected: Option<&str>) -> PyResult<()> {
        let exp = expect_of(expected);
        py.detach(|| self.repo.delete_ref(name, exp))
            .map_err(git_to_py)
    }
}

/// Registers the class.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGit>()
}
