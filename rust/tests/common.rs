//! Helpers shared by the integration tests.

use std::path::Path;

/// Writes `data` to `root/rel`, creating parent directories.
pub fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("test paths have parents")).expect("mkdir");
    std::fs::write(&p, data).expect("write");
}

/// md5 hex of bytes, computed independently of the crate under test.
pub fn md5_hex(data: &[u8]) -> String {
    use md5_reference::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
