//! Property tests: hashes depend on content only, never on how it is read.

use std::io::Cursor;
use std::path::Path;

use proptest::prelude::*;

use mlvc::digest::{hash_tree, DigestOptions};
use mlvc::hash::{hash_bytes, hash_reader, HashAlgorithm};
use mlvc::progress::Progress;
use mlvc::tree::{serialize, sort_entries, TreeEntry};

use crate::common::{md5_hex, write};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn buffer_size_never_changes_a_hash(data in proptest::collection::vec(any::<u8>(), 0..5000), buf in 1usize..3000) {
        for algo in [HashAlgorithm::Md5, HashAlgorithm::Blake3, HashAlgorithm::Md5Dos2Unix] {
            let whole = hash_bytes(&data, algo);
            let streamed = hash_reader(&mut Cursor::new(&data), algo, buf, None, Path::new("x")).unwrap();
            prop_assert_eq!(&streamed.hash, &whole);
        }
        prop_assert_eq!(hash_bytes(&data, HashAlgorithm::Md5), md5_hex(&data));
    }

    #[test]
    fn manifest_does_not_depend_on_entry_order(names in proptest::collection::btree_set("[a-zA-Z0-9._ -]{1,6}(/[a-z]{1,3})?", 1..20), seed in any::<u64>()) {
        let entries: Vec<TreeEntry> = names.iter().map(|n| TreeEntry { relpath: n.as_bytes().to_vec(), hash: md5_hex(n.as_bytes()) }).collect();
        let mut a = entries.clone();
        let mut b = entries;
        // A deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..b.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            b.swap(i, (s >> 33) as usize % (i + 1));
        }
        sort_entries(&mut a);
        sort_entries(&mut b);
        prop_assert_eq!(serialize(&a, "md5"), serialize(&b, "md5"));
    }
}

#[test]
fn tree_hash_does_not_depend_on_thread_count() {
    let t = tempfile::tempdir().unwrap();
    for i in 0..300 {
        write(
            t.path(),
            &format!("d{}/f{i}", i % 17),
            format!("content {i}").as_bytes(),
        );
    }
    let hashes: Vec<String> = [1, 2, 3, 8]
        .iter()
        .map(|&jobs| {
            let opts = DigestOptions {
                jobs,
                ..DigestOptions::default()
            };
            hash_tree(t.path(), &opts, None, &Progress::new())
                .unwrap()
                .hash
        })
        .collect();
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The walk yields byte order of relpaths by itself (state lookups rely on it),
    /// including names that sort around `/` such as `a.b`, `a0` and `a/x`.
    #[test]
    fn walk_output_is_in_byte_order(names in proptest::collection::btree_set("[a.0]{1,3}(/[a.0]{1,3}){0,2}", 1..30), jobs in 1usize..4) {
        let t = tempfile::tempdir().unwrap();
        for n in &names {
            if n.split('/').any(|c| c == "." || c == "..") {
                continue;
            }
            // A name that clashes with another's directory is skipped.
            let p = t.path().join(n);
            if std::fs::create_dir_all(p.parent().unwrap()).is_ok() && !p.is_dir() {
                std::fs::write(&p, n.as_bytes()).unwrap();
            }
        }
        let opts = mlvc::walk::WalkOptions { threads: jobs, ..Default::default() };
        let walked: Vec<Vec<u8>> = mlvc::walk::walk_files(t.path(), &opts, None)
            .unwrap()
            .into_iter()
            .map(|e| e.relpath)
            .collect();
        let mut sorted = walked.clone();
        sorted.sort();
        prop_assert_eq!(walked, sorted);
    }
}
