//! The state cache: remembers file hashes keyed by (inode, size, mtime, ctime),
//! so an unchanged file is never read twice.
//!
//! SQLite in WAL mode: readers never block, and several processes (two `mlvc`
//! commands, or `mlvc` beside a test) can share one database. A whole tree's
//! record is one file beside it (`state.db-trees/`), replaced by a rename.

use std::cell::Cell;
use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::walk::FileMeta;

/// Where a repository keeps its state database, relative to the repo root.
pub const STATE_DB_RELPATH: &str = ".dvc/tmp/mlvc/state.db";

/// Lookups of more paths than this read a whole key range in one query.
const RANGE_SCAN_THRESHOLD: usize = 64;

/// The clock tick assumed for file timestamps with sub-second precision.
const FINE_TICK_NS: i64 = 100_000_000;
/// The tick assumed when timestamps are whole seconds (ext3, FAT, some network filesystems).
const COARSE_TICK_NS: i64 = 2_000_000_000;

/// Parsed small files kept at most (see [`StateDb::record_parsed`]).
const MAX_PARSED_TEXTS: i64 = 20_000;

/// The key of a parse: the parser's kind and the text, hashed together.
fn parsed_key(kind: &str, text: &[u8]) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(kind.as_bytes());
    h.update(&[0]);
    h.update(text);
    h.finalize().as_bytes().to_vec()
}

/// Returns the current time in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos() as i64
}

/// Tells whether a hash recorded at `recorded_ns` can be trusted for a file with `meta`.
///
/// A file modified within the same timestamp tick as it was hashed ("racily
/// clean", as git calls it) may have changed after the read without its
/// timestamps moving, so it is rehashed until a later recording proves it old.
pub fn is_racily_clean(meta: &FileMeta, recorded_ns: i64) -> bool {
    recorded_ns < trusted_from(meta)
}

/// The earliest recording time at which a file with `meta` is not racily
/// clean (see [`is_racily_clean`]).
pub fn trusted_from(meta: &FileMeta) -> i64 {
    // The filesystem's timestamp tick, guessed from the timestamps themselves.
    let whole_seconds = meta.mtime_ns % 1_000_000_000 == 0 && meta.ctime_ns % 1_000_000_000 == 0;
    let tick = if whole_seconds {
        COARSE_TICK_NS
    } else {
        FINE_TICK_NS
    };
    meta.mtime_ns.max(meta.ctime_ns) + tick + 1
}

/// One file of a tree record: `(relpath, meta, hash, recorded_ns)`.
pub type TreeRow<'a> = (&'a [u8], FileMeta, &'a str, i64);

/// A handle on one state database.
pub struct StateDb {
    path: PathBuf,
    /// Where tree records are kept (see [`StateDb::record_tree`]).
    trees: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for StateDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateDb").field("path", &self.path).finish()
    }
}

/// One remembered hash.
#[derive(Debug, Clone)]
struct Row {
    meta: FileMeta,
    hash: String,
    recorded_ns: i64,
}

impl Row {
    /// The hash, if it still describes a file with `meta`.
    fn valid_for(&self, meta: &FileMeta) -> Option<&str> {
        still_valid(&self.meta, self.recorded_ns, meta).then_some(self.hash.as_str())
    }
}

/// Tells whether a hash recorded for a file with `recorded` status at
/// `recorded_ns` still describes the file now that its status is `now`.
fn still_valid(recorded: &FileMeta, recorded_ns: i64, now: &FileMeta) -> bool {
    recorded.ino == now.ino
        && recorded.size == now.size
        && recorded.mtime_ns == now.mtime_ns
        && recorded.ctime_ns == now.ctime_ns
        && !is_racily_clean(now, recorded_ns)
}

/// One record of a snapshot: offsets into the snapshot's bytes, so decoding
/// 50,000 records allocates nothing per record.
#[derive(Debug, Clone, Copy)]
struct Record {
    rel_start: u32,
    rel_len: u32,
    hash_start: u32,
    hash_len: u8,
    meta: FileMeta,
    recorded_ns: i64,
}

/// Every remembered hash below one directory, keyed by path relative to it and
/// read in a single query, so that workers consult it without the database.
///
/// Records are kept in byte order of their relpaths and found by binary
/// search: files of one directory sit together, so lookups stay in cache.
#[derive(Debug, Default)]
pub struct StateSnapshot {
    data: Vec<u8>,
    records: Vec<Record>,
    dir_hash: Option<String>,
}

/// A remembered hash that still holds, and when it was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known<'a> {
    /// The hex digest.
    pub hash: &'a str,
    /// When it was recorded (nanoseconds since the epoch).
    pub recorded_ns: i64,
}

impl StateSnapshot {
    /// Reads the records encoded from `start` on (see [`encode_record`]); `None`
    /// if they are damaged.
    fn decode(data: Vec<u8>, start: usize, dir_hash: Option<String>) -> Option<Self> {
        // Advances `pos` by `n` bytes and returns where they start, if they exist.
        fn take(pos: &mut usize, n: usize, len: usize) -> Option<usize> {
            let at = *pos;
            *pos = pos.checked_add(n).filter(|&end| end <= len)?;
            Some(at)
        }
        let len = data.len();
        let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"));
        let mut records = Vec::with_capacity(len.saturating_sub(start) / 80);
        let mut sorted = true;
        let mut pos = start;
        while pos < len {
            let at = take(&mut pos, 4, len)?;
            let rel_len = u32::from_le_bytes(data[at..at + 4].try_into().ok()?);
            let rel_start = take(&mut pos, rel_len as usize, len)?;
            let fields = take(&mut pos, 40, len)?;
            let hash_len = data[take(&mut pos, 1, len)?];
            let hash_start = take(&mut pos, usize::from(hash_len), len)?;
            if !data[hash_start..hash_start + usize::from(hash_len)].is_ascii() {
                return None;
            }
            let rec = Record {
                rel_start: u32::try_from(rel_start).ok()?,
                rel_len,
                hash_start: u32::try_from(hash_start).ok()?,
                hash_len,
                meta: FileMeta {
                    ino: u64_at(fields),
                    size: u64_at(fields + 8),
                    mtime_ns: u64_at(fields + 16) as i64,
                    ctime_ns: u64_at(fields + 24) as i64,
                    mode: 0,
                },
                recorded_ns: u64_at(fields + 32) as i64,
            };
            if let Some(prev) = records.last() {
                sorted &= rel_of(&data, prev) < rel_of(&data, &rec);
            }
            records.push(rec);
        }
        if !sorted {
            // Written in manifest order, which differs from byte order only for
            // names that are not UTF-8; a duplicate name is dropped (rehashed).
            records.sort_unstable_by(|a, b| rel_of(&data, a).cmp(rel_of(&data, b)));
            records.dedup_by(|a, b| rel_of(&data, a) == rel_of(&data, b));
        }
        Some(StateSnapshot {
            data,
            records,
            dir_hash,
        })
    }

    /// The remembered hash of `relpath`, if its status still matches `meta`.
    pub fn get(&self, relpath: &[u8], meta: &FileMeta) -> Option<Known<'_>> {
        let r = &self.records[self.find(relpath)?];
        if !still_valid(&r.meta, r.recorded_ns, meta) {
            return None;
        }
        let start = r.hash_start as usize;
        let hash = std::str::from_utf8(&self.data[start..start + usize::from(r.hash_len)]);
        Some(Known {
            hash: hash.ok()?,
            recorded_ns: r.recorded_ns,
        })
    }

    /// The index of `relpath`'s record. Walks visit files in sorted order, so
    /// the search gallops forward from the thread's previous hit: usually one
    /// or two comparisons instead of a full binary search.
    fn find(&self, relpath: &[u8]) -> Option<usize> {
        thread_local! {
            static PREVIOUS: Cell<usize> = const { Cell::new(0) };
        }
        let recs = &self.records;
        let rel = |i: usize| rel_of(&self.data, &recs[i]);
        let prev = PREVIOUS.get();
        let (mut lo, mut hi) = (0, recs.len());
        if prev < recs.len() && rel(prev) <= relpath {
            lo = prev;
            let mut step = 1;
            while lo + step < recs.len() && rel(lo + step) <= relpath {
                lo += step;
                step *= 2;
            }
            hi = (lo + step).min(recs.len());
        }
        let i = lo
            + recs[lo..hi]
                .binary_search_by(|r| rel_of(&self.data, r).cmp(relpath))
                .ok()?;
        PREVIOUS.set(i);
        Some(i)
    }

    /// The directory hash recorded with the tree, which holds while every file
    /// still matches its record and no file came or went.
    pub fn dir_hash(&self) -> Option<&str> {
        self.dir_hash.as_deref()
    }

    /// Number of remembered entries.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Tells whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

fn rel_of<'d>(data: &'d [u8], r: &Record) -> &'d [u8] {
    let start = r.rel_start as usize;
    &data[start..start + r.rel_len as usize]
}

/// Appends one file's record in the snapshot encoding.
fn encode_record(data: &mut Vec<u8>, rel: &[u8], m: &FileMeta, hash: &str, recorded_ns: i64) {
    data.extend_from_slice(&(rel.len() as u32).to_le_bytes());
    data.extend_from_slice(rel);
    data.extend_from_slice(&m.ino.to_le_bytes());
    data.extend_from_slice(&m.size.to_le_bytes());
    data.extend_from_slice(&m.mtime_ns.to_le_bytes());
    data.extend_from_slice(&m.ctime_ns.to_le_bytes());
    data.extend_from_slice(&recorded_ns.to_le_bytes());
    data.push(hash.len() as u8);
    data.extend_from_slice(hash.as_bytes());
}

/// Tree records are kept in files in a directory named after the database's file
/// with this added (`state.db-trees`), one file per tree.
const TREES_SUFFIX: &str = "-trees";

/// The first bytes of a tree record file, naming its layout.
const TREE_MAGIC: &[u8; 12] = b"mlvc-tree-1\n";

/// Where a tree record file's body starts: after the magic and the body's blake3.
const TREE_BODY_AT: usize = TREE_MAGIC.len() + 32;

/// Reads a tree record file: the magic, the blake3 of the body, then the body:
/// the algorithm, the tree's prefix and its directory hash (each a `u32` length
/// and bytes), then its records. `None` unless it is whole and is `prefix`'s.
fn decode_tree_file(data: Vec<u8>, algo: &str, prefix: &[u8]) -> Option<StateSnapshot> {
    if data.len() < TREE_BODY_AT || &data[..TREE_MAGIC.len()] != TREE_MAGIC {
        return None;
    }
    if blake3::hash(&data[TREE_BODY_AT..]).as_bytes() != &data[TREE_MAGIC.len()..TREE_BODY_AT] {
        return None;
    }
    let mut pos = TREE_BODY_AT;
    let mut field = || -> Option<&[u8]> {
        let len_at = data.get(pos..pos + 4)?;
        let len = u32::from_le_bytes(len_at.try_into().ok()?) as usize;
        let value = data.get(pos + 4..(pos + 4).checked_add(len)?)?;
        pos += 4 + len;
        Some(value)
    };
    let (stored_algo, stored_prefix, dir_hash) = (field()?, field()?, field()?);
    if stored_algo != algo.as_bytes() || stored_prefix != prefix {
        return None; // another tree's record under a colliding name
    }
    let dir_hash = std::str::from_utf8(dir_hash).ok()?.to_string();
    StateSnapshot::decode(data, pos, Some(dir_hash))
}

/// Writes `data` to `path` (its directory made if missing) under a temp name,
/// then swaps it in for whatever was there ([`crate::newfile::swap_in`]: a
/// rename over the old record would make ext4 flush the new one at once).
fn replace_file(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let temp = crate::cache::temp_path_for(path);
    let create = || std::fs::File::create(&temp);
    let mut file = match create() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            create()
        }
        other => other,
    }
    .map_err(|e| Error::io(&temp, e))?;
    let written = file
        .write_all(data)
        .and_then(|()| {
            drop(file);
            crate::newfile::swap_in(&temp, path)
        })
        .map_err(|e| Error::io(path, e));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Removes the temp files in `dir` whose writers are gone (killed mid-write).
fn sweep_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if crate::walk::temp_name_writer(name.as_bytes()).is_some_and(|w| w.is_gone()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl StateDb {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let err = |e: rusqlite::Error| Error::State {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        // Read pages straight from the mapped file: a tree snapshot spans thousands.
        conn.pragma_update(None, "mmap_size", 1i64 << 30)
            .map_err(err)?;
        // The database is a cache: losing the last transactions on power loss is fine.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS hashes (
                path BLOB NOT NULL,
                algo TEXT NOT NULL,
                ino INTEGER NOT NULL,
                size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL,
                ctime_ns INTEGER NOT NULL,
                hash TEXT NOT NULL,
                recorded_ns INTEGER NOT NULL,
                PRIMARY KEY (algo, path)
            ) WITHOUT ROWID;
            -- Superseded by tree record files; a cache, so dropping them loses nothing.
            DROP TABLE IF EXISTS trees;
            DROP TABLE IF EXISTS tree_snapshots;
            CREATE TABLE IF NOT EXISTS parsed_texts (
                id INTEGER PRIMARY KEY,
                key BLOB NOT NULL UNIQUE,
                data TEXT NOT NULL
            );",
        )
        .map_err(err)?;
        let mut trees = path.as_os_str().to_owned();
        trees.push(TREES_SUFFIX);
        Ok(StateDb {
            path: path.to_path_buf(),
            trees: PathBuf::from(trees),
            conn: Mutex::new(conn),
        })
    }

    /// Returns the database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql_err(&self, e: rusqlite::Error) -> Error {
        Error::State {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| Error::State {
            path: self.path.clone(),
            message: "connection poisoned by a panic".into(),
        })
    }

    /// What a parser of `kind` made of `text` before (as stored by
    /// [`StateDb::record_parsed`]), if it was recorded.
    ///
    /// Keyed by the content itself, so an edit within a timestamp tick can
    /// never return a stale result.
    pub fn parsed(&self, kind: &str, text: &[u8]) -> Result<Option<String>> {
        let key = parsed_key(kind, text);
        let conn = self.lock()?;
        conn.prepare_cached("SELECT data FROM parsed_texts WHERE key = ?1")
            .and_then(|mut st| {
                let mut rows = st.query(params![key])?;
                rows.next()?.map(|r| r.get(0)).transpose()
            })
            .map_err(|e| self.sql_err(e))
    }

    /// Remembers what a parser of `kind` made of `text`.
    ///
    /// A cache of small files' parses, kept bounded: every so often the rows
    /// older than the newest [`MAX_PARSED_TEXTS`] are dropped.
    pub fn record_parsed(&self, kind: &str, text: &[u8], data: &str) -> Result<()> {
        let key = parsed_key(kind, text);
        let conn = self.lock()?;
        conn.execute(
            "INSERT OR REPLACE INTO parsed_texts (key, data) VALUES (?1, ?2)",
            params![key, data],
        )
        .map_err(|e| self.sql_err(e))?;
        let id = conn.last_insert_rowid();
        if id % 1024 == 0 {
            conn.execute(
                "DELETE FROM parsed_texts WHERE id <= ?1",
                params![id - MAX_PARSED_TEXTS],
            )
            .map_err(|e| self.sql_err(e))?;
        }
        Ok(())
    }

    /// Reads what is remembered below `prefix` (an absolute directory path ending
    /// in `/`): the tree record written by [`StateDb::record_tree`] when there is
    /// a sound one, else every per-file entry in the range.
    pub fn snapshot(&self, algo: &str, prefix: &[u8]) -> Result<StateSnapshot> {
        let path = self.tree_file(algo, prefix);
        match std::fs::read(&path) {
            Ok(data) => {
                if let Some(snap) = decode_tree_file(data, algo, prefix) {
                    return Ok(snap);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let conn = self.lock()?;
        // No (usable) tree record: the per-file entries, in the same encoding.
        let mut data = Vec::new();
        for (path, row) in self.range(&conn, algo, prefix, 0)? {
            encode_record(
                &mut data,
                &path[prefix.len()..],
                &row.meta,
                &row.hash,
                row.recorded_ns,
            );
        }
        Ok(StateSnapshot::decode(data, 0, None).unwrap_or_default())
    }

    /// Remembers a whole tree below `prefix` as one record: a [`TreeRow`] for
    /// every file, and the directory hash they make up.
    ///
    /// The record is a file of its own beside the database, written under a temp
    /// name and renamed over the last one, without a sync: readers see one record
    /// or the other, and a torn one (after a power loss) fails its checksum and
    /// counts as absent. In the database, a 5 MB record (50,000 files) cost
    /// several times the write itself, in the write-ahead log and its checkpoint.
    pub fn record_tree(
        &self,
        algo: &str,
        prefix: &[u8],
        files: &[TreeRow<'_>],
        dir_hash: &str,
    ) -> Result<()> {
        let mut data = Vec::with_capacity(TREE_BODY_AT + 64 + prefix.len() + files.len() * 96);
        data.extend_from_slice(TREE_MAGIC);
        data.extend_from_slice(&[0; 32]); // the checksum, below
        for field in [algo.as_bytes(), prefix, dir_hash.as_bytes()] {
            data.extend_from_slice(&(field.len() as u32).to_le_bytes());
            data.extend_from_slice(field);
        }
        for (rel, m, h, rec) in files {
            encode_record(&mut data, rel, m, h, *rec);
        }
        let sum = blake3::hash(&data[TREE_BODY_AT..]);
        data[TREE_MAGIC.len()..TREE_BODY_AT].copy_from_slice(sum.as_bytes());
        let path = self.tree_file(algo, prefix);
        replace_file(&path, &data)?;
        sweep_stale_temps(&self.trees);
        Ok(())
    }

    /// The file holding the tree record of `prefix`.
    fn tree_file(&self, algo: &str, prefix: &[u8]) -> PathBuf {
        let mut h = blake3::Hasher::new();
        h.update(algo.as_bytes());
        h.update(&[0]);
        h.update(prefix);
        let hex = h.finalize().to_hex();
        self.trees.join(format!("{}.tree", &hex[..32]))
    }

    fn range(
        &self,
        conn: &Connection,
        algo: &str,
        prefix: &[u8],
        capacity: usize,
    ) -> Result<HashMap<Vec<u8>, Row>> {
        let mut stmt = conn
            .prepare_cached(
                "SELECT path, ino, size, mtime_ns, ctime_ns, hash, recorded_ns FROM hashes
                 WHERE algo = ?1 AND path >= ?2 AND path < ?3",
            )
            .map_err(|e| self.sql_err(e))?;
        let upper = prefix_upper_bound(prefix);
        let it = stmt
            .query_map(params![algo, prefix, upper], read_row)
            .map_err(|e| self.sql_err(e))?;
        let mut map = HashMap::with_capacity(capacity);
        for r in it {
            let (k, row) = r.map_err(|e| self.sql_err(e))?;
            map.insert(k, row);
        }
        Ok(map)
    }

    /// Returns, for each `(path, meta)`, the remembered hash if it is still valid.
    ///
    /// Paths should be absolute so that entries recorded from different working
    /// directories agree.
    pub fn lookup_many(
        &self,
        algo: &str,
        files: &[(&Path, FileMeta)],
    ) -> Result<Vec<Option<String>>> {
        if files.is_empty() {
            return Ok(vec![]);
        }
        let conn = self.lock()?;
        let rows: HashMap<Vec<u8>, Row> = if files.len() > RANGE_SCAN_THRESHOLD {
            let prefix = common_dir_prefix(files.iter().map(|(p, _)| p.as_os_str().as_bytes()));
            self.range(&conn, algo, &prefix, files.len())?
        } else {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT path, ino, size, mtime_ns, ctime_ns, hash, recorded_ns FROM hashes
                     WHERE algo = ?1 AND path = ?2",
                )
                .map_err(|e| self.sql_err(e))?;
            let mut map = HashMap::new();
            for (p, _) in files {
                let key = p.as_os_str().as_bytes();
                let mut it = stmt
                    .query_map(params![algo, key], read_row)
                    .map_err(|e| self.sql_err(e))?;
                if let Some(r) = it.next() {
                    let (k, row) = r.map_err(|e| self.sql_err(e))?;
                    map.insert(k, row);
                }
            }
            map
        };
        Ok(files
            .iter()
            .map(|(p, meta)| {
                rows.get(p.as_os_str().as_bytes())
                    .and_then(|row| row.valid_for(meta))
                    .map(str::to_string)
            })
            .collect())
    }

    /// Remembers hashes computed from reads that started at `started_ns`.
    pub fn record_many(
        &self,
        algo: &str,
        rows: &[(&Path, FileMeta, &str)],
        started_ns: i64,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(|e| self.sql_err(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO hashes
                     (path, algo, ino, size, mtime_ns, ctime_ns, hash, recorded_ns)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(|e| self.sql_err(e))?;
            for (p, m, h) in rows {
                stmt.execute(params![
                    p.as_os_str().as_bytes(),
                    algo,
                    m.ino as i64,
                    m.size as i64,
                    m.mtime_ns,
                    m.ctime_ns,
                    h,
                    started_ns
                ])
                .map_err(|e| self.sql_err(e))?;
            }
        }
        tx.commit().map_err(|e| self.sql_err(e))
    }

    /// Forgets every entry at or below `path`.
    pub fn forget(&self, path: &Path) -> Result<usize> {
        let conn = self.lock()?;
        let key = path.as_os_str().as_bytes().to_vec();
        let mut dir = key.clone();
        dir.push(b'/');
        let upper = prefix_upper_bound(&dir);
        conn.execute(
            "DELETE FROM hashes WHERE path = ?1 OR (path >= ?2 AND path < ?3)",
            params![key, dir, upper],
        )
        .map_err(|e| self.sql_err(e))
    }
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Vec<u8>, Row)> {
    Ok((
        r.get(0)?,
        Row {
            meta: FileMeta {
                ino: r.get::<_, i64>(1)? as u64,
                size: r.get::<_, i64>(2)? as u64,
                mtime_ns: r.get(3)?,
                ctime_ns: r.get(4)?,
                mode: 0,
            },
            hash: r.get(5)?,
            recorded_ns: r.get(6)?,
        },
    ))
}

/// The longest common prefix of the paths that ends at a `/`.
fn common_dir_prefix<'a>(mut paths: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let Some(first) = paths.next() else {
        return vec![];
    };
    let mut len = first.len();
    for p in paths {
        len = len.min(p.iter().zip(first).take_while(|(a, b)| a == b).count());
    }
    let cut = first[..len]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    first[..cut].to_vec()
}

/// The smallest byte string greater than every string starting with `prefix`.
fn prefix_upper_bound(prefix: &[u8]) -> Vec<u8> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last < 0xFF {
            upper.push(last + 1);
            return upper;
        }
    }
    // Every byte was 0xFF (or the prefix was empty): no finite bound; use a byte
    // string that sorts after any path.
    vec![0xFF; 4097]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let ps: Vec<&[u8]> = vec![b"/r/data/a/x", b"/r/data/b", b"/r/data/a/y"];
        assert_eq!(common_dir_prefix(ps.into_iter()), b"/r/data/".to_vec());
        assert_eq!(prefix_upper_bound(b"/r/data/"), b"/r/data0".to_vec());
        assert_eq!(prefix_upper_bound(b"a\xff"), b"b".to_vec());
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mlvc-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn meta(ino: u64) -> FileMeta {
        FileMeta {
            ino,
            size: 3,
            mtime_ns: 1_000_000_000,
            ctime_ns: 1_000_000_000,
            mode: 0,
        }
    }

    const LATER: i64 = 9_000_000_000;

    fn record_two(db: &StateDb) {
        let rows: Vec<TreeRow<'_>> = vec![
            (b"a", meta(1), "aa", LATER),
            (b"sub/b", meta(2), "bb", LATER),
        ];
        db.record_tree("md5", b"/r/data/", &rows, "dd.dir").unwrap();
    }

    #[test]
    fn tree_records_are_files_read_back_whole() {
        let d = scratch("tree-file");
        let db = StateDb::open(&d.join("state.db")).unwrap();
        record_two(&db);
        let snap = db.snapshot("md5", b"/r/data/").unwrap();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap.dir_hash(), Some("dd.dir"));
        assert_eq!(snap.get(b"sub/b", &meta(2)).unwrap().hash, "bb");
        assert!(snap.get(b"sub/b", &meta(3)).is_none());
        // Another tree, or another algorithm, has no record.
        assert!(db.snapshot("md5", b"/r/other/").unwrap().is_empty());
        assert!(db.snapshot("blake3", b"/r/data/").unwrap().is_empty());
        // A second record replaces the first.
        let one: Vec<TreeRow<'_>> = vec![(b"c", meta(4), "cc", LATER)];
        db.record_tree("md5", b"/r/data/", &one, "ee.dir").unwrap();
        let snap = db.snapshot("md5", b"/r/data/").unwrap();
        assert_eq!((snap.len(), snap.dir_hash()), (1, Some("ee.dir")));
        let files: Vec<_> = std::fs::read_dir(d.join("state.db-trees"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn a_damaged_tree_record_counts_as_absent() {
        let d = scratch("tree-torn");
        let db = StateDb::open(&d.join("state.db")).unwrap();
        record_two(&db);
        let file = db.tree_file("md5", b"/r/data/");
        let whole = std::fs::read(&file).unwrap();
        let mut flipped = whole.clone();
        *flipped.last_mut().unwrap() ^= 1;
        for bad in [
            &whole[..whole.len() - 1],
            &flipped[..],
            &[][..],
            &vec![0; whole.len()][..],
        ] {
            std::fs::write(&file, bad).unwrap();
            let snap = db.snapshot("md5", b"/r/data/").unwrap();
            assert!(snap.is_empty() && snap.dir_hash().is_none());
        }
        // The record of another tree, found under this one's name, is not taken.
        assert!(decode_tree_file(whole.clone(), "md5", b"/r/data/").is_some());
        assert!(decode_tree_file(whole.clone(), "md5", b"/r/dat/").is_none());
        assert!(decode_tree_file(whole, "sha1", b"/r/data/").is_none());
    }

    #[test]
    fn a_killed_writers_temp_file_is_swept_by_the_next_record() {
        let d = scratch("tree-sweep");
        let db = StateDb::open(&d.join("state.db")).unwrap();
        record_two(&db);
        let trees = d.join("state.db-trees");
        let dead = trees.join(".x.tree.2147483646.0.mlvc-tmp");
        let live = trees.join(format!(".x.tree.{}.0.mlvc-tmp", std::process::id()));
        std::fs::write(&dead, b"half").unwrap();
        std::fs::write(&live, b"half").unwrap();
        record_two(&db);
        assert!(!dead.exists());
        assert!(live.exists());
    }

    #[test]
    fn racy_window() {
        let m = FileMeta {
            ino: 1,
            size: 1,
            mtime_ns: 1_000_000_001,
            ctime_ns: 1_000_000_001,
            mode: 0,
        };
        assert!(is_racily_clean(&m, 1_000_000_002));
        assert!(!is_racily_clean(&m, 3_000_000_000));
        let coarse = FileMeta {
            mtime_ns: 1_000_000_000,
            ctime_ns: 1_000_000_000,
            ..m
        };
        assert!(is_racily_clean(&coarse, 2_500_000_000));
    }
}
