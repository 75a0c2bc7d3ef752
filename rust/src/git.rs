//! Git access through gitoxide (`gix`), so reading revisions and writing
//! objects and refs never spawns the `git` binary.
//!
//! [`GitRepo`] is cheap to clone and is `Send + Sync`: it keeps gitoxide's
//! thread-safe handle and derives a short-lived thread-local handle per call.
//! Object ids cross this API as full lowercase hex strings.

use std::path::{Path, PathBuf};

use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::{EntryKind, EntryMode};
use gix::objs::Kind;
use gix::refs::file::transaction::prepare::{MustNotExist, ReferenceOutOfDate};
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target, TargetRef};
use gix::ObjectId;

/// Symbolic refs nest at most this deep before we call the chain broken.
const MAX_SYMREF_DEPTH: usize = 5;

/// Reflog identity used when none is configured; git does not insist on one
/// for ref updates either.
const FALLBACK_NAME: &str = "mlvc";
const FALLBACK_EMAIL: &str = "mlvc@localhost";

/// Errors from git operations; each names what it was working on.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository was found at (or, for discovery, above) a path.
    #[error("no git repository found at `{}`", path.display())]
    NotARepository {
        /// The path that was opened or searched from.
        path: PathBuf,
    },
    /// A revision did not resolve to any object.
    #[error("revision `{rev}` not found in `{}`", repo.display())]
    RevisionNotFound {
        /// The revision as the caller spelled it.
        rev: String,
        /// The repository's git directory.
        repo: PathBuf,
    },
    /// A full object id was well-formed but no such object is stored.
    #[error("object `{id}` not found in `{}`", repo.display())]
    ObjectNotFound {
        /// The object id in hex.
        id: String,
        /// The repository's git directory.
        repo: PathBuf,
    },
    /// A revision or path named an object of the wrong kind.
    #[error("`{spec}` is a {actual}, not a {expected}")]
    WrongObjectKind {
        /// The revision, object id or `rev:path` that was looked up.
        spec: String,
        /// The kind the operation needed, like `commit` or `blob`.
        expected: String,
        /// The kind that was found.
        actual: String,
    },
    /// A ref was not in the state the caller required.
    #[error("ref `{name}` is `{actual}`, expected `{expected}`")]
    RefPrecondition {
        /// The full ref name.
        name: String,
        /// What the caller required: `absent`, `present` or an object id.
        expected: String,
        /// What was found: `absent` or an object id.
        actual: String,
    },
    /// A ref name or ref prefix is not valid.
    #[error("invalid ref name `{name}`: {message}")]
    InvalidRefName {
        /// The name as given.
        name: String,
        /// Why it was rejected.
        message: String,
    },
    /// A string that must be a full hex object id is not one.
    #[error("`{id}` is not a full hexadecimal object id")]
    InvalidObjectId {
        /// The string as given.
        id: String,
    },
    /// A path inside a tree is malformed.
    #[error("invalid tree path `{path}`: {message}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was rejected.
        message: String,
    },
    /// A tree entry mode is not one git stores.
    #[error("unsupported mode `{mode:o}` for `{path}`")]
    InvalidMode {
        /// The path the mode was given for.
        path: String,
        /// The rejected mode.
        mode: u32,
    },
    /// No author or committer name and email could be found in config or environment.
    #[error(
        "no {role} identity configured: set `user.name` and `user.email` or pass one explicitly"
    )]
    MissingIdentity {
        /// Either `author` or `committer`.
        role: &'static str,
    },
    /// Any other failure reported by gitoxide or the file system.
    #[error("{context}: {message}")]
    Other {
        /// What was being done, e.g. "reading `a.txt` at `HEAD`".
        context: String,
        /// The underlying error, rendered as text.
        message: String,
    },
}

/// Renders a gitoxide error with its causes on one line.
fn describe(err: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.iter_errors() {
        let text = cause.to_string();
        // Wrappers often repeat their cause's text; keep each sentence once.
        if !parts.iter().any(|seen| seen.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn other(context: impl Into<String>, err: gix::Error) -> GitError {
    GitError::Other {
        context: context.into(),
        message: describe(&err),
    }
}

/// What a ref must be before an update or delete (gitoxide's `PreviousValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefExpect {
    /// No requirement.
    Any,
    /// The ref must not exist (updating it to the value it already has is accepted).
    MustNotExist,
    /// The ref must exist, with any value.
    MustExist,
    /// The ref must exist and point at this object id (full hex).
    MustExistAndMatch(String),
}

impl RefExpect {
    fn describe(&self) -> String {
        match self {
            RefExpect::Any => "anything".to_owned(),
            RefExpect::MustNotExist => "absent".to_owned(),
            RefExpect::MustExist => "present".to_owned(),
            RefExpect::MustExistAndMatch(hex) => hex.clone(),
        }
    }

    fn to_previous(&self) -> Result<PreviousValue, GitError> {
        Ok(match self {
            RefExpect::Any => PreviousValue::Any,
            RefExpect::MustNotExist => PreviousValue::MustNotExist,
            RefExpect::MustExist => PreviousValue::MustExist,
            RefExpect::MustExistAndMatch(hex) => {
                PreviousValue::MustExistAndMatch(Target::Object(parse_hex(hex)?))
            }
        })
    }
}

/// One change to a tree: put a blob at `path`, or delete whatever is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEdit {
    /// A `/`-separated path relative to the tree root, like `a/b/c.txt`.
    pub path: String,
    /// The new `(mode, object id hex)`, or `None` to delete the path (a whole subtree if it is a directory).
    ///
    /// Modes are `0o100644` (file), `0o100755` (executable), `0o120000` (symlink),
    /// `0o040000` (subtree) and `0o160000` (submodule commit).
    pub change: Option<(u32, String)>,
}

impl TreeEdit {
    /// Builds an edit that writes the object `id` with `mode` at `path`.
    pub fn upsert(path: impl Into<String>, mode: u32, id: impl Into<String>) -> Self {
        TreeEdit {
            path: path.into(),
            change: Some((mode, id.into())),
        }
    }

    /// Builds an edit that removes `path`.
    pub fn delete(path: impl Into<String>) -> Self {
        TreeEdit {
            path: path.into(),
            change: None,
        }
    }
}

/// An author or committer identity with a timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The person's name.
    pub name: String,
    /// The person's email, without angle brackets.
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time_seconds: i64,
    /// The time zone's offset from UTC in seconds (east is positive).
    pub offset_seconds: i32,
}

impl Signature {
    fn to_gix(&self) -> gix::actor::Signature {
        gix::actor::Signature {
            name: self.name.as_str().into(),
            email: self.email.as_str().into(),
            time: gix::date::Time::new(self.time_seconds, self.offset_seconds),
        }
    }
}

#[derive(Clone, Copy)]
enum Role {
    Author,
    Committer,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Committer => "committer",
        }
    }

    fn date_key(self) -> &'static str {
        match self {
            Role::Author => "gitoxide.commit.authorDate",
            Role::Committer => "gitoxide.commit.committerDate",
        }
    }
}

/// An open git repository, safe to share between threads.
///
/// Configuration and `GIT_AUTHOR_*`/`GIT_COMMITTER_*` variables are read once,
/// when the repository is opened; refs and objects are read fresh on every call.
#[derive(Clone)]
pub struct GitRepo {
    inner: gix::ThreadSafeRepository,
}

// Fails to compile unless gix's `parallel` feature swaps its `Rc`s for `Arc`s.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GitRepo>();
};

impl std::fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRepo")
            .field("git_dir", &self.inner.git_dir())
            .finish()
    }
}

fn absolute(path: &Path) -> Result<PathBuf, GitError> {
    std::path::absolute(path).map_err(|e| GitError::Other {
        context: format!("making `{}` absolute", path.display()),
        message: e.to_string(),
    })
}

fn open_error(path: &Path, err: gix::Error) -> GitError {
    if err.is_not_found() {
        GitError::NotARepository {
            path: path.to_path_buf(),
        }
    } else {
        other(format!("opening repository at `{}`", path.display()), err)
    }
}

fn parse_hex(hex: &str) -> Result<ObjectId, GitError> {
    ObjectId::from_hex(hex.as_bytes()).map_err(|_| GitError::InvalidObjectId { id: hex.to_owned() })
}

/// Splits a lookup path leniently: empty components (from `//` or a leading `/`) are ignored.
fn lookup_components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

fn check_edit_path(path: &str) -> Result<(), GitError> {
    let bad = |message: &str| GitError::InvalidPath {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    if path.is_empty() {
        return Err(bad("path is empty"));
    }
    for component in path.split('/') {
        match component {
            "" => return Err(bad("path has an empty component")),
            "." | ".." => return Err(bad("path has a `.` or `..` component")),
            c if c.eq_ignore_ascii_case(".git") => return Err(bad("path has a `.git` component")),
            _ => {}
        }
    }
    Ok(())
}

fn mode_to_kind(path: &str, mode: u32) -> Result<EntryKind, GitError> {
    Ok(match mode {
        0o100644 => EntryKind::Blob,
        0o100755 => EntryKind::BlobExecutable,
        0o120000 => EntryKind::Link,
        0o040000 => EntryKind::Tree,
        0o160000 => EntryKind::Commit,
        _ => {
            return Err(GitError::InvalidMode {
                path: path.to_owned(),
                mode,
            })
        }
    })
}

fn mode_to_u32(mode: EntryMode) -> u32 {
    // Normalises legacy modes such as 100664 the way `git ls-tree` does.
    u32::from(EntryKind::from(mode) as u16)
}

fn kind_name(mode: EntryMode) -> &'static str {
    match EntryKind::from(mode) {
        EntryKind::Tree => "tree",
        EntryKind::Commit => "submodule commit",
        EntryKind::Link => "symlink",
        EntryKind::Blob | EntryKind::BlobExecutable => "blob",
    }
}

impl GitRepo {
    /// Opens the repository containing `path`, searching upward like `git rev-parse` does.
    ///
    /// `GIT_DIR` and `GIT_CEILING_DIRECTORIES` are not consulted.
    pub fn discover(path: &Path) -> Result<Self, GitError> {
        let path = absolute(path)?;
        gix::ThreadSafeRepository::discover(&path)
            .map(|inner| GitRepo { inner })
            .map_err(|e| open_error(&path, e))
    }

    /// Opens exactly the repository at `path`, which is a work tree or a git directory.
    pub fn open(path: &Path) -> Result<Self, GitError> {
        let path = absolute(path)?;
        gix::ThreadSafeRepository::open(path.clone())
            .map(|inner| GitRepo { inner })
            .map_err(|e| open_error(&path, e))
    }

    /// Returns the work tree's root, or `None` for a bare repository.
    pub fn workdir(&self) -> Option<PathBuf> {
        self.inner.work_dir().map(Path::to_path_buf)
    }

    /// Returns the git directory, typically `<workdir>/.git`.
    pub fn git_dir(&self) -> PathBuf {
        self.inner.git_dir().to_path_buf()
    }

    fn local(&self) -> gix::Repository {
        self.inner.to_thread_local()
    }

    fn rev_to_id(&self, repo: &gix::Repository, rev: &str) -> Result<ObjectId, GitError> {
        repo.rev_parse_single(rev)
            .map(|id| id.detach())
            .map_err(|e| {
                // Unknown names, missing ancestors and malformed specs all mean "no such revision".
                if e.is_not_found() || e.is_validation() {
                    GitError::RevisionNotFound {
                        rev: rev.to_owned(),
                        repo: self.git_dir(),
                    }
                } else {
                    other(format!("resolving revision `{rev}`"), e)
                }
            })
    }

    /// Follows tags (and, when asked for a tree, a commit) from `id` to an object of `want`.
    fn peel(
        &self,
        repo: &gix::Repository,
        id: ObjectId,
        spec: &str,
        want: Kind,
    ) -> Result<ObjectId, GitError> {
        let context = || format!("peeling `{spec}` to a {want}");
        let object = repo
            .find_object(id)
            .and_then(|o| o.peel_tags_to_end())
            .map_err(|e| {
                if e.is_not_found() {
                    GitError::ObjectNotFound {
                        id: id.to_string(),
                        repo: self.git_dir(),
                    }
                } else {
                    other(context(), e)
                }
            })?;
        match (object.kind, want) {
            (have, want) if have == want => Ok(object.id),
            (Kind::Commit, Kind::Tree) => object
                .into_commit()
                .tree_id()
                .map(|id| id.detach())
                .map_err(|e| other(context(), e)),
            (have, want) => Err(GitError::WrongObjectKind {
                spec: spec.to_owned(),
                expected: want.to_string(),
                actual: have.to_string(),
            }),
        }
    }

    fn rev_to_kind(
        &self,
        repo: &gix::Repository,
        rev: &str,
        want: Kind,
    ) -> Result<ObjectId, GitError> {
        let id = self.rev_to_id(repo, rev)?;
        self.peel(repo, id, rev, want)
    }

    /// Resolves any single-object rev-spec git accepts (`HEAD~1`, a branch, a tag, a short id,
    /// `refs/exps/...`) to the full hex id of the commit it names, peeling tags.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        let repo = self.local();
        Ok(self.rev_to_kind(&repo, rev, Kind::Commit)?.to_string())
    }

    /// Returns the commit `HEAD` points to, or `None` on an unborn branch.
    pub fn head_commit(&self) -> Result<Option<String>, GitError> {
        let repo = self.local();
        let head = repo.head().map_err(|e| other("reading `HEAD`", e))?;
        let Some(id) = head
            .try_into_peeled_id()
            .map_err(|e| other("peeling `HEAD`", e))?
        else {
            return Ok(None);
        };
        Ok(Some(
            self.peel(&repo, id.detach(), "HEAD", Kind::Commit)?
                .to_string(),
        ))
    }

    /// Returns the short name of the branch `HEAD` is on (even if unborn), or `None` when detached.
    pub fn head_branch(&self) -> Result<Option<String>, GitError> {
        let repo = self.local();
        let name = repo.head_name().map_err(|e| other("reading `HEAD`", e))?;
        Ok(name.map(|name| {
            let full = name.as_bstr();
            full.strip_prefix(b"refs/heads/")
                .unwrap_or(full)
                .to_str_lossy()
                .into_owned()
        }))
    }

    /// Lists refs whose full name starts with `prefix` (`""` for all refs under `refs/`),
    /// loose and packed, sorted by name.
    ///
    /// Each id is what the ref points at directly, after following symbolic refs: an
    /// annotated tag's ref yields the tag object, not the commit (like `git for-each-ref`).
    /// Symbolic refs whose target does not exist are left out.
    pub fn list_refs(&self, prefix: &str) -> Result<Vec<(String, String)>, GitError> {
        let repo = self.local();
        let context = || format!("listing refs under `{prefix}`");
        let platform = repo.references().map_err(|e| other(context(), e))?;
        let iter = if prefix.is_empty() {
            platform.all()
        } else {
            platform.prefixed(prefix)
        }
        .map_err(|e| GitError::InvalidRefName {
            name: prefix.to_owned(),
            message: describe(&e),
        })?;
        let mut found = Vec::new();
        for reference in iter {
            let reference = reference.map_err(|e| other(context(), e))?;
            found.push(reference.detach());
        }
        let mut out = Vec::with_capacity(found.len());
        for reference in found {
            let name = reference.name.as_bstr().to_str_lossy().into_owned();
            let id = match reference.target {
                Target::Object(id) => Some(id),
                Target::Symbolic(_) => current_target(&repo, &name)?,
            };
            if let Some(id) = id {
                out.push((name, id.to_string()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Returns the bytes of the blob at `path` in the tree of `rev` (a commit, tag or tree).
    ///
    /// `Ok(None)` means the path does not exist at that revision; a missing revision is an
    /// error, and so is a path naming a directory or submodule. A symlink yields its target.
    pub fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let repo = self.local();
        let tree = self.rev_to_kind(&repo, rev, Kind::Tree)?;
        let context = || format!("reading `{path}` at `{rev}`");
        let components = lookup_components(path);
        let Some((mode, id)) = lookup(&repo, tree, &components).map_err(|e| other(context(), e))?
        else {
            return Ok(None);
        };
        if !mode.is_blob_or_symlink() {
            return Err(GitError::WrongObjectKind {
                spec: format!("{rev}:{path}"),
                expected: "blob".to_owned(),
                actual: kind_name(mode).to_owned(),
            });
        }
        let mut blob = repo.find_blob(id).map_err(|e| other(context(), e))?;
        Ok(Some(blob.take_data()))
    }

    /// Lists `(path, mode, blob id)` for every blob and symlink at or below `prefix` in the
    /// tree of `rev`, recursively and sorted by path; `""` lists the whole tree.
    ///
    /// Paths are relative to the root and `/`-separated. A prefix that does not exist
    /// yields an empty list; one naming a file yields just that file. Submodules are skipped,
    /// and non-UTF-8 names are converted lossily.
    pub fn list_files(
        &self,
        rev: &str,
        prefix: &str,
    ) -> Result<Vec<(String, u32, String)>, GitError> {
        let repo = self.local();
        let tree = self.rev_to_kind(&repo, rev, Kind::Tree)?;
        let context = || format!("listing `{prefix}` at `{rev}`");
        let components = lookup_components(prefix);
        let base = components.join("/");
        let root = if components.is_empty() {
            tree
        } else {
            match lookup(&repo, tree, &components).map_err(|e| other(context(), e))? {
                Some((mode, id)) if mode.is_tree() => id,
                Some((mode, id)) if mode.is_blob_or_symlink() => {
                    return Ok(vec![(base, mode_to_u32(mode), id.to_string())]);
                }
                _ => return Ok(Vec::new()),
            }
        };
        let tree = repo.find_tree(root).map_err(|e| other(context(), e))?;
        let mut recorder = gix::traverse::tree::Recorder::default();
        tree.traverse()
            .breadthfirst(&mut recorder)
            .map_err(|e| other(context(), e))?;
        let mut out: Vec<_> = recorder
            .records
            .into_iter()
            .filter(|entry| entry.mode.is_blob_or_symlink())
            .map(|entry| {
                let rel = entry.filepath.to_str_lossy();
                let path = if base.is_empty() {
                    rel.into_owned()
                } else {
                    format!("{base}/{rel}")
                };
                (path, mode_to_u32(entry.mode), entry.oid.to_string())
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Stores `data` as a blob and returns its id, the same one `git hash-object -w` gives.
    pub fn write_blob(&self, data: &[u8]) -> Result<String, GitError> {
        let repo = self.local();
        repo.write_blob(data)
            .map(|id| id.to_string())
            .map_err(|e| other("writing blob", e))
    }

    /// Applies `edits` in order to the tree of `base` (a tree, commit or tag; `None` for the
    /// empty tree), writes every changed tree and returns the new root tree's id.
    ///
    /// Missing directories are created (replacing a file that stands in the way), directories
    /// left empty are dropped, deleting an absent path is not an error, and each added object
    /// must already exist with a kind matching its mode.
    pub fn edit_tree(&self, base: Option<&str>, edits: &[TreeEdit]) -> Result<String, GitError> {
        let repo = self.local();
        let base_tree = match base {
            Some(rev) => self.rev_to_kind(&repo, rev, Kind::Tree)?,
            None => ObjectId::empty_tree(repo.object_hash()),
        };
        let mut editor = repo
            .edit_tree(base_tree)
            .map_err(|e| other("starting tree edit", e))?;
        for edit in edits {
            check_edit_path(&edit.path)?;
            let context = || format!("editing `{}`", edit.path);
            match &edit.change {
                Some((mode, hex)) => {
                    let kind = mode_to_kind(&edit.path, *mode)?;
                    let id = parse_hex(hex)?;
                    if kind != EntryKind::Commit {
                        self.check_object_kind(&repo, id, kind)?;
                    }
                    editor
                        .upsert(edit.path.as_str(), kind, id)
                        .map_err(|e| other(context(), e))?;
                }
                None => {
                    editor
                        .remove(edit.path.as_str())
                        .map_err(|e| other(context(), e))?;
                }
            }
        }
        editor
            .write()
            .map(|id| id.to_string())
            .map_err(|e| other("writing edited tree", e))
    }

    fn check_object_kind(
        &self,
        repo: &gix::Repository,
        id: ObjectId,
        kind: EntryKind,
    ) -> Result<(), GitError> {
        let header = repo
            .try_find_header(id)
            .map_err(|e| other(format!("looking up `{id}`"), e))?
            .ok_or_else(|| GitError::ObjectNotFound {
                id: id.to_string(),
                repo: self.git_dir(),
            })?;
        let want = if kind == EntryKind::Tree {
            Kind::Tree
        } else {
            Kind::Blob
        };
        if header.kind() != want {
            return Err(GitError::WrongObjectKind {
                spec: id.to_string(),
                expected: want.to_string(),
                actual: header.kind().to_string(),
            });
        }
        Ok(())
    }

    /// Writes a commit of `tree` (a tree-ish rev) with `parents` (commit revs) and returns its id.
    ///
    /// A missing trailing newline is added to a non-empty `message`, as `git commit-tree -m`
    /// does. An identity left as `None` comes from `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`
    /// (`GIT_COMMITTER_*`), then `author.*`/`committer.*`, then `user.*` config, with the time
    /// from `GIT_AUTHOR_DATE` (`GIT_COMMITTER_DATE`) when set, else now in the local zone.
    pub fn write_commit(
        &self,
        tree: &str,
        parents: &[String],
        message: &str,
        author: Option<&Signature>,
        committer: Option<&Signature>,
    ) -> Result<String, GitError> {
        let repo = self.local();
        let tree = self.rev_to_kind(&repo, tree, Kind::Tree)?;
        let parents = parents
            .iter()
            .map(|rev| self.rev_to_kind(&repo, rev, Kind::Commit))
            .collect::<Result<Vec<_>, _>>()?;
        let author = match author {
            Some(sig) => sig.to_gix(),
            None => configured_identity(&repo, Role::Author)?
                .ok_or(GitError::MissingIdentity { role: "author" })?,
        };
        let committer = match committer {
            Some(sig) => sig.to_gix(),
            None => configured_identity(&repo, Role::Committer)?
                .ok_or(GitError::MissingIdentity { role: "committer" })?,
        };
        let mut message = BString::from(message);
        if !message.is_empty() && !message.ends_with(b"\n") {
            message.push(b'\n');
        }
        let commit = gix::objs::Commit {
            tree,
            parents: parents.into(),
            author,
            committer,
            encoding: None,
            message,
            extra_headers: Vec::new(),
        };
        repo.write_object(&commit)
            .map(|id| id.to_string())
            .map_err(|e| other("writing commit", e))
    }

    /// Points the full ref `name` at `new` (an object id or rev, not peeled) if `expected`
    /// holds, and appends `reflog_message` to its reflog (created if needed).
    ///
    /// Symbolic refs such as `HEAD` are followed, as `git update-ref` does. No reflog is
    /// written when `core.logAllRefUpdates` is `false`. The reflog identity comes from config
    /// and environment like a commit's, with a generic fallback when none is configured.
    pub fn update_ref(
        &self,
        name: &str,
        new: &str,
        expected: RefExpect,
        reflog_message: &str,
    ) -> Result<(), GitError> {
        let repo = self.local();
        let full_name = full_ref_name(name)?;
        let new_id = self.rev_to_id(&repo, new)?;
        let previous = expected.to_previous()?;
        if expected == RefExpect::MustNotExist {
            // gitoxide accepts an existing ref that already has the new value; git does not.
            if let Some(actual) = current_target(&repo, name)? {
                return Err(precondition(name, &expected, Some(actual)));
            }
        }
        let committer = match configured_identity(&repo, Role::Committer)? {
            Some(sig) => sig,
            None => gix::actor::Signature {
                name: FALLBACK_NAME.into(),
                email: FALLBACK_EMAIL.into(),
                time: gix::date::Time::now_local_or_utc(),
            },
        };
        let edit = RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: true,
                    message: reflog_message.into(),
                },
                expected: previous,
                new: Target::Object(new_id),
            },
            name: full_name,
            deref: true,
        };
        let mut time_buf = gix::date::parse::TimeBuf::default();
        repo.edit_references_as([edit], Some(committer.to_ref(&mut time_buf)))
            .map(|_| ())
            .map_err(|e| ref_edit_error(&repo, name, &expected, "updating", e))
    }

    /// Deletes the full ref `name` (loose, packed and its reflog) if `expected` holds.
    ///
    /// Deleting a ref that does not exist succeeds under [`RefExpect::Any`].
    /// [`RefExpect::MustNotExist`] only succeeds, doing nothing, when the ref is absent.
    pub fn delete_ref(&self, name: &str, expected: RefExpect) -> Result<(), GitError> {
        let repo = self.local();
        let full_name = full_ref_name(name)?;
        if expected == RefExpect::MustNotExist {
            // gitoxide treats this combination as a caller bug, so decide it here.
            return match current_target(&repo, name)? {
                Some(actual) => Err(precondition(name, &expected, Some(actual))),
                None => Ok(()),
            };
        }
        let edit = RefEdit {
            change: Change::Delete {
                expected: expected.to_previous()?,
                log: RefLog::AndReference,
            },
            name: full_name,
            deref: true,
        };
        repo.edit_references_as([edit], None)
            .map(|_| ())
            .map_err(|e| ref_edit_error(&repo, name, &expected, "deleting", e))
    }
}

fn full_ref_name(name: &str) -> Result<FullName, GitError> {
    FullName::try_from(name).map_err(|e| GitError::InvalidRefName {
        name: name.to_owned(),
        message: e.to_string(),
    })
}

fn precondition(name: &str, expected: &RefExpect, actual: Option<ObjectId>) -> GitError {
    GitError::RefPrecondition {
        name: name.to_owned(),
        expected: expected.describe(),
        actual: actual.map_or_else(|| "absent".to_owned(), |id| id.to_string()),
    }
}

fn ref_edit_error(
    repo: &gix::Repository,
    name: &str,
    expected: &RefExpect,
    verb: &str,
    err: gix::Error,
) -> GitError {
    let precondition_error = |actual: &Target| GitError::RefPrecondition {
        name: name.to_owned(),
        expected: expected.describe(),
        actual: actual.to_string(),
    };
    if let Some(e) = err.downcast_any_ref::<ReferenceOutOfDate>() {
        return precondition_error(&e.actual);
    }
    if let Some(e) = err.downcast_any_ref::<MustNotExist>() {
        return precondition_error(&e.actual);
    }
    // gitoxide reports a missing ref only as a "not found" message.
    let needs_existing = matches!(
        expected,
        RefExpect::MustExist | RefExpect::MustExistAndMatch(_)
    );
    if needs_existing && err.is_not_found() {
        if let Ok(None) = current_target(repo, name) {
            return precondition(name, expected, None);
        }
    }
    other(format!("{verb} ref `{name}`"), err)
}

/// Returns the object a ref points at after following symbolic refs, or `None` if it
/// (or the end of its symbolic chain) does not exist.
fn current_target(repo: &gix::Repository, name: &str) -> Result<Option<ObjectId>, GitError> {
    let context = || format!("reading ref `{name}`");
    let mut current = full_ref_name(name)?;
    for _ in 0..MAX_SYMREF_DEPTH {
        let Some(reference) = repo
            .try_find_reference(current.as_ref())
            .map_err(|e| other(context(), e))?
        else {
            return Ok(None);
        };
        match reference.target() {
            TargetRef::Object(id) => return Ok(Some(id.to_owned())),
            TargetRef::Symbolic(next) => current = next.to_owned(),
        }
    }
    Err(GitError::Other {
        context: context(),
        message: format!("symbolic refs nest deeper than {MAX_SYMREF_DEPTH} levels"),
    })
}

/// Looks up `components` below `tree` without assuming intermediate entries are trees.
fn lookup(
    repo: &gix::Repository,
    tree: ObjectId,
    components: &[&str],
) -> Result<Option<(EntryMode, ObjectId)>, gix::Error> {
    let mut tree = repo.find_tree(tree)?;
    let Some((last, dirs)) = components.split_last() else {
        return Ok(Some((EntryKind::Tree.into(), tree.id)));
    };
    for dir in dirs {
        let next = match tree.find_entry(*dir) {
            Some(entry) if entry.mode().is_tree() => entry.object_id(),
            _ => return Ok(None),
        };
        tree = repo.find_tree(next)?;
    }
    Ok(tree
        .find_entry(*last)
        .map(|entry| (entry.mode(), entry.object_id())))
}

/// Builds the identity for `role` from config and environment, with a fresh timestamp
/// unless `GIT_AUTHOR_DATE`/`GIT_COMMITTER_DATE` pins one.
fn configured_identity(
    repo: &gix::Repository,
    role: Role,
) -> Result<Option<gix::actor::Signature>, GitError> {
    let configured = match role {
        Role::Author => repo.author(),
        Role::Committer => repo.committer(),
    };
    let Some(configured) = configured else {
        return Ok(None);
    };
    let configured =
        configured.map_err(|e| other(format!("reading the {} identity", role.name()), e))?;
    // gitoxide caches the signature time when the repository is opened, so compute our own.
    let time = match repo.config_snapshot().string(role.date_key()) {
        Some(raw) => {
            let raw = raw.to_str_lossy();
            gix::date::parse(&raw, None)
                .map_err(|e| other(format!("parsing the {} date `{raw}`", role.name()), e))?
        }
        None => gix::date::Time::now_local_or_utc(),
    };
    Ok(Some(gix::actor::Signature {
        name: configured.name.to_owned(),
        email: configured.email.to_owned(),
        time,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_paths_are_validated() {
        assert!(check_edit_path("a/b.txt").is_ok());
        for bad in ["", "/a", "a/", "a//b", "./a", "a/../b", ".git/x", "a/.GIT"] {
            assert!(check_edit_path(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn modes_map_to_entry_kinds() {
        assert_eq!(mode_to_kind("x", 0o100644).ok(), Some(EntryKind::Blob));
        assert_eq!(
            mode_to_kind("x", 0o100755).ok(),
            Some(EntryKind::BlobExecutable)
        );
        assert_eq!(mode_to_kind("x", 0o120000).ok(), Some(EntryKind::Link));
        assert!(mode_to_kind("x", 0o100664).is_err());
    }
}
