//! File hashing: md5 with DVC 3.x semantics, blake3 as the fast option, and the
//! legacy `md5-dos2unix` of DVC 2.x caches.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use crate::md5::Md5;

use crate::error::{Error, IoContext, Result};
use crate::progress::Progress;

/// Default read-buffer size: big enough for few syscalls, small enough to stay in L2.
pub const DEFAULT_BUFFER_SIZE: usize = 1 << 20;

/// DVC 2.x converts CRLF per 1 MiB chunk, so the chunk size is part of the hash.
const DOS2UNIX_CHUNK: usize = 1 << 20;

/// The hash functions mlvc knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// md5 of the raw bytes (DVC 3.x `hash: md5`).
    Md5,
    /// BLAKE3: several times faster than md5; not understood by DVC.
    Blake3,
    /// DVC 2.x md5 where text chunks have CRLF turned into LF first.
    Md5Dos2Unix,
}

impl HashAlgorithm {
    /// Returns the name used on the command line and in the state database.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "md5",
            HashAlgorithm::Blake3 => "blake3",
            HashAlgorithm::Md5Dos2Unix => "md5-dos2unix",
        }
    }
}

impl FromStr for HashAlgorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "md5" => Ok(HashAlgorithm::Md5),
            "blake3" => Ok(HashAlgorithm::Blake3),
            "md5-dos2unix" => Ok(HashAlgorithm::Md5Dos2Unix),
            other => Err(Error::InvalidArgument(format!(
                "unknown hash algorithm `{other}`; expected one of md5, blake3, md5-dos2unix"
            ))),
        }
    }
}

/// A file's hash and the number of bytes hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Lowercase hex digest.
    pub hash: String,
    /// Bytes hashed.
    pub size: u64,
}

enum Hasher {
    Md5(Md5),
    Blake3(Box<blake3::Hasher>),
    Dos2Unix(Md5, Vec<u8>),
}

impl Hasher {
    fn new(algorithm: HashAlgorithm) -> Self {
        match algorithm {
            HashAlgorithm::Md5 => Hasher::Md5(Md5::new()),
            HashAlgorithm::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new())),
            HashAlgorithm::Md5Dos2Unix => Hasher::Dos2Unix(Md5::new(), Vec::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Blake3(h) => {
                h.update(data);
            }
            Hasher::Dos2Unix(h, pending) => {
                // Chunk boundaries must fall every 1 MiB of input, whatever the read size.
                let mut rest = data;
                while !rest.is_empty() {
                    let take = (DOS2UNIX_CHUNK - pending.len()).min(rest.len());
                    pending.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if pending.len() == DOS2UNIX_CHUNK {
                        dos2unix_chunk(h, pending);
                        pending.clear();
                    }
                }
            }
        }
    }

    fn finish(self) -> String {
        match self {
            Hasher::Md5(h) => h.finalize_hex(),
            Hasher::Blake3(h) => h.finalize().to_hex().to_string(),
            Hasher::Dos2Unix(mut h, pending) => {
                if !pending.is_empty() {
                    dos2unix_chunk(&mut h, &pending);
                }
                h.finalize_hex()
            }
        }
    }
}

/// DVC-compat: a chunk is text when its first 512 bytes hold no NUL and at most
/// 30% bytes outside printable ASCII and `\n\r\t\f\b` (dvc-data's istextblock).
fn is_text_block(block: &[u8]) -> bool {
    if block.is_empty() {
        return true;
    }
    if block.contains(&0) {
        return false;
    }
    let nontext = block
        .iter()
        .filter(|&&b| !((32..127).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x08)))
        .count();
    (nontext as f64) / (block.len() as f64) <= 0.30
}

fn dos2unix_chunk(h: &mut Md5, chunk: &[u8]) {
    if !is_text_block(&chunk[..chunk.len().min(512)]) {
        h.update(chunk);
        return;
    }
    let mut start = 0;
    let mut i = 0;
    while i + 1 < chunk.len() {
        if chunk[i] == b'\r' && chunk[i + 1] == b'\n' {
            h.update(&chunk[start..i]);
            start = i + 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    h.update(&chunk[start..]);
}

/// Hashes an in-memory byte string.
pub fn hash_bytes(data: &[u8], algorithm: HashAlgorithm) -> String {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish()
}

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Progress is reported in steps of this many bytes, so small files cost one
/// shared-counter update rather than one per read.
const PROGRESS_STEP: u64 = 8 << 20;

/// Hashes everything `reader` yields, polling `progress` for interrupts between reads.
pub fn hash_reader(
    reader: &mut impl Read,
    algorithm: HashAlgorithm,
    buffer_size: usize,
    progress: Option<&Progress>,
    origin: &Path,
) -> Result<FileDigest> {
    hash_reader_sized(reader, algorithm, buffer_size, progress, origin, None)
}

/// Like [`hash_reader`]; `expected_size` (from a fresh `stat`) lets a short read
/// that delivers exactly that many bytes end the loop without one more `read`
/// to see EOF. A file that grew meanwhile still reads to its end.
fn hash_reader_sized(
    reader: &mut impl Read,
    algorithm: HashAlgorithm,
    buffer_size: usize,
    progress: Option<&Progress>,
    origin: &Path,
    expected_size: Option<u64>,
) -> Result<FileDigest> {
    let buffer_size = buffer_size.max(1);
    BUFFER.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() != buffer_size {
            buf.resize(buffer_size, 0);
        }
        let mut h = Hasher::new(algorithm);
        let mut size = 0u64;
        let mut unreported = 0u64;
        loop {
            if let Some(p) = progress {
                p.check()?;
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(origin, e)),
            };
            h.update(&buf[..n]);
            size += n as u64;
            unreported += n as u64;
            if unreported >= PROGRESS_STEP {
                if let Some(p) = progress {
                    p.add_bytes(unreported);
                }
                unreported = 0;
            }
            if n < buffer_size && expected_size == Some(size) {
                break;
            }
        }
        if let Some(p) = progress {
            p.add_bytes(unreported);
        }
        Ok(FileDigest {
            hash: h.finish(),
            size,
        })
    })
}

/// Files up to this size can be read whole into memory, hashed and written
/// elsewhere from the same buffer (see [`with_small_file`]).
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;

thread_local! {
    static WHOLE_FILE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads a file expected to hold `expected_size` bytes whole, hashes it, and
/// calls `then` with the digest and the bytes: one read feeds both the hash
/// and a copy. A file that grew meanwhile is still read to its end.
pub fn with_small_file<T>(
    path: &Path,
    algorithm: HashAlgorithm,
    expected_size: u64,
    progress: Option<&Progress>,
    then: impl FnOnce(&FileDigest, &[u8]) -> Result<T>,
) -> Result<T> {
    let mut file = File::open(path).at(path)?;
    WHOLE_FILE.with(|cell| {
        let mut buf = cell.borrow_mut();
        // One byte of room past the expected end: a short read then says EOF
        // without another `read`.
        let room = expected_size as usize + 1;
        if buf.len() < room {
            buf.resize(room, 0);
        }
        let mut filled = 0usize;
        loop {
            if let Some(p) = progress {
                p.check()?;
            }
            if filled == buf.len() {
                let grown = buf.len() * 2;
                buf.resize(grown, 0);
            }
            let n = match file.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(path, e)),
            };
            filled += n;
            if filled as u64 == expected_size && filled < buf.len() {
                break;
            }
        }
        drop(file);
        if let Some(p) = progress {
            p.add_bytes(filled as u64);
        }
        let digest = FileDigest {
            hash: hash_bytes(&buf[..filled], algorithm),
            size: filled as u64,
        };
        let result = then(&digest, &buf[..filled]);
        if buf.len() > 4 * SMALL_FILE_LIMIT as usize {
            // A file that grew far past its size: do not keep its buffer.
            *buf = Vec::new();
        }
        result
    })
}

/// Hashes a file (following a symlink to its target), reading `buffer_size` bytes at a time.
///
/// Refuses FIFOs, sockets and devices rather than blocking on them.
pub fn hash_file(
    path: &Path,
    algorithm: HashAlgorithm,
    buffer_size: usize,
    progress: Option<&Progress>,
) -> Result<FileDigest> {
    let meta = std::fs::metadata(path).at(path)?;
    if let Some(kind) = special_kind(&meta.file_type()) {
        return Err(Error::SpecialFile {
            path: path.to_path_buf(),
            kind,
        });
    }
    if meta.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::from_raw_os_error(libc::EISDIR),
        ));
    }
    let mut file = File::open(path).at(path)?;
    hash_reader(&mut file, algorithm, buffer_size, progress, path)
}

/// Hashes a path the caller already knows to be a regular file (or a symlink to
/// one), skipping the status check [`hash_file`] makes; a walk has done it.
pub fn hash_regular_file(
    path: &Path,
    algorithm: HashAlgorithm,
    buffer_size: usize,
    progress: Option<&Progress>,
    expected_size: Option<u64>,
) -> Result<FileDigest> {
    let mut file = File::open(path).at(path)?;
    hash_reader_sized(
        &mut file,
        algorithm,
        buffer_size,
        progress,
        path,
        expected_size,
    )
}

/// Names the kind of a special file, or `None` for files, directories and symlinks.
pub fn special_kind(ft: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        Some("fifo")
    } else if ft.is_socket() {
        Some("socket")
    } else if ft.is_block_device() {
        Some("block device")
    } else if ft.is_char_device() {
        Some("character device")
    } else {
        None
    }
}

/// Names a special file type from the `S_IFMT` bits of a mode.
pub fn special_kind_of_mode(kind: u32) -> Option<&'static str> {
    match kind {
        libc::S_IFIFO => Some("fifo"),
        libc::S_IFSOCK => Some("socket"),
        libc::S_IFBLK => Some("block device"),
        libc::S_IFCHR => Some("character device"),
        _ => None,
    }
}

/// Tells whether `s` looks like an md5 hex digest, optionally with a `.dir` suffix.
pub fn is_valid_md5_name(s: &str) -> bool {
    let hex = s.strip_suffix(".dir").unwrap_or(s);
    hex.len() == 32
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_known_inputs() {
        assert_eq!(
            hash_bytes(b"", HashAlgorithm::Md5),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            hash_bytes(b"hello\n", HashAlgorithm::Md5),
            "b1946ac92492d2347c6235b4d2611184"
        );
    }

    #[test]
    fn md5_keeps_crlf_but_dos2unix_converts_text() {
        let crlf = b"alpha\r\nbeta\r\n";
        assert_ne!(
            hash_bytes(crlf, HashAlgorithm::Md5),
            hash_bytes(b"alpha\nbeta\n", HashAlgorithm::Md5)
        );
        assert_eq!(
            hash_bytes(crlf, HashAlgorithm::Md5Dos2Unix),
            hash_bytes(b"alpha\nbeta\n", HashAlgorithm::Md5)
        );
    }

    #[test]
    fn dos2unix_leaves_binary_chunks_alone() {
        let mut data = vec![0u8, 1, 2];
        data.extend_from_slice(b"\r\n");
        assert_eq!(
            hash_bytes(&data, HashAlgorithm::Md5Dos2Unix),
            hash_bytes(&data, HashAlgorithm::Md5)
        );
    }

    #[test]
    fn blake3_matches_reference() {
        assert_eq!(
            hash_bytes(b"abc", HashAlgorithm::Blake3),
            blake3::hash(b"abc").to_hex().to_string()
        );
    }

    #[test]
    fn text_detection_threshold() {
        assert!(is_text_block(b""));
        assert!(is_text_block(b"plain text\r\n"));
        assert!(!is_text_block(b"a\0b"));
        let mostly_high: Vec<u8> = std::iter::repeat_n(0xC3u8, 10).chain(*b"abc").collect();
        assert!(!is_text_block(&mostly_high));
    }

    #[test]
    fn valid_names() {
        assert!(is_valid_md5_name("d41d8cd98f00b204e9800998ecf8427e"));
        assert!(is_valid_md5_name("d41d8cd98f00b204e9800998ecf8427e.dir"));
        assert!(!is_valid_md5_name("../etc/passwd"));
        assert!(!is_valid_md5_name("D41D8CD98F00B204E9800998ECF8427E"));
    }
}
