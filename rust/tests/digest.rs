use mlvc::digest::{hash_files, hash_tree, DigestOptions};
use mlvc::hash::{hash_file, HashAlgorithm};
use mlvc::progress::Progress;
use mlvc::tree;

use crate::common::{md5_hex, write};

#[test]
fn tree_hash_matches_reference_construction() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let files: &[(&str, &[u8])] = &[
        ("a-b", b"1"),
        ("a.txt", b"2"),
        ("a/x", b"3"),
        ("a0", b""),
        ("\u{fc}ml", b"4"),
    ];
    for (n, d) in files {
        write(root, n, d);
    }
    let r = hash_tree(root, &DigestOptions::default(), None, &Progress::new()).unwrap();
    // Reference: entries sorted by relpath, Python-style JSON, md5 of it.
    let mut want: Vec<(String, String)> = files
        .iter()
        .map(|(n, d)| (n.to_string(), md5_hex(d)))
        .collect();
    want.sort();
    let json = want
        .iter()
        .map(|(n, h)| {
            let n: String = n
                .chars()
                .map(|c| {
                    if c.is_ascii() {
                        c.to_string()
                    } else {
                        format!("\\u{:04x}", c as u32)
                    }
                })
                .collect();
            format!("{{\"md5\": \"{h}\", \"relpath\": \"{n}\"}}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let json = format!("[{json}]");
    assert_eq!(String::from_utf8(r.manifest().to_vec()).unwrap(), json);
    assert_eq!(r.hash, format!("{}.dir", md5_hex(json.as_bytes())));
    assert_eq!(r.size, 4);
    assert_eq!(r.files.len(), 5);
}

#[test]
fn blake3_tree_uses_its_own_key() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "f", b"abc");
    let opts = DigestOptions {
        algorithm: HashAlgorithm::Blake3,
        ..DigestOptions::default()
    };
    let r = hash_tree(t.path(), &opts, None, &Progress::new()).unwrap();
    let s = String::from_utf8(r.manifest().to_vec()).unwrap();
    assert!(s.starts_with("[{\"blake3\": \""), "{s}");
}

#[test]
fn large_file_hash_is_streamed_and_correct() {
    let t = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..(3 << 20) + 17)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    write(t.path(), "big", &data);
    let d = hash_file(&t.path().join("big"), HashAlgorithm::Md5, 4096, None).unwrap();
    assert_eq!(d.hash, md5_hex(&data));
    assert_eq!(d.size, data.len() as u64);
}

#[test]
fn hash_files_keeps_order_and_follows_symlinks() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a", b"alpha");
    write(t.path(), "b", b"beta");
    std::os::unix::fs::symlink("a", t.path().join("l")).unwrap();
    let paths = vec![t.path().join("b"), t.path().join("a"), t.path().join("l")];
    let r = hash_files(&paths, &DigestOptions::default(), None, &Progress::new()).unwrap();
    let got: Vec<&str> = r.iter().map(|x| x.hash.as_str()).collect();
    assert_eq!(
        got,
        [md5_hex(b"beta"), md5_hex(b"alpha"), md5_hex(b"alpha")]
    );
}

#[test]
fn manifest_round_trip_through_parse() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "x/y", b"1");
    write(t.path(), "z", b"2");
    let r = hash_tree(t.path(), &DigestOptions::default(), None, &Progress::new()).unwrap();
    let parsed = tree::parse(r.manifest(), t.path()).unwrap();
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].relpath, b"x/y");
}

#[test]
fn a_dvcignore_inside_the_tree_is_refused_unless_it_ignores_itself() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "a", b"a");
    write(root, "sub/b", b"b");
    write(root, "sub/.dvcignore", b"b\n");
    // A name that only ends like the ignore file is data like any other.
    write(root, "x.dvcignore", b"x");
    let opts = DigestOptions::default();
    let err = hash_tree(root, &opts, None, &Progress::new()).unwrap_err();
    assert!(
        matches!(&err, mlvc::Error::IgnoreFileInTree { path } if path.ends_with("sub/.dvcignore")),
        "{err}"
    );
    write(root, "sub/.dvcignore", b"b\n.dvcignore\n");
    let r = hash_tree(root, &opts, None, &Progress::new()).unwrap();
    let names: Vec<&[u8]> = r.files.iter().map(|f| f.relpath.as_slice()).collect();
    assert_eq!(names, vec![&b"a"[..], b"x.dvcignore"]);
}
