//! Directory objects: the `.dir` manifest DVC stores for a tracked directory.
//!
//! DVC-compat: the manifest is Python's `json.dumps(entries, sort_keys=True)`
//! encoded as UTF-8, with entries sorted by relpath in code-point order.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::hash::{hash_bytes, is_valid_md5_name, HashAlgorithm};

/// One file of a directory object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path relative to the directory, components joined by `/`. Raw bytes: Linux
    /// file names need not be UTF-8.
    pub relpath: Vec<u8>,
    /// Hex digest of the file's content.
    pub hash: String,
}

/// Decodes bytes the way Python's `os.fsdecode` does on Linux (UTF-8 with
/// surrogateescape): an undecodable byte `b` becomes the lone surrogate U+DC00+b.
pub fn python_code_points(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend(chunk.valid().chars().map(|c| c as u32));
        out.extend(chunk.invalid().iter().map(|&b| 0xDC00 + u32::from(b)));
    }
    out
}

/// Orders relpaths as Python orders the `str` DVC sorts by.
///
/// For valid UTF-8 the byte order is the code-point order; only names with
/// undecodable bytes need the slower comparison.
pub fn compare_relpaths(a: &[u8], b: &[u8]) -> Ordering {
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(_), Ok(_)) => a.cmp(b),
        _ => python_code_points(a).cmp(&python_code_points(b)),
    }
}

/// Sorts entries into manifest order.
pub fn sort_entries(entries: &mut [TreeEntry]) {
    sort_by_relpath(entries, |e| &e.relpath);
}

/// Sorts items by a relpath in manifest order; names are checked for UTF-8
/// once, not in every comparison.
pub fn sort_by_relpath<T: Send>(items: &mut [T], key: impl Fn(&T) -> &[u8] + Sync) {
    if items.iter().all(|x| std::str::from_utf8(key(x)).is_ok()) {
        items.sort_unstable_by(|a, b| key(a).cmp(key(b)));
    } else {
        items.sort_unstable_by(|a, b| compare_relpaths(key(a), key(b)));
    }
}

/// Appends raw name bytes as a JSON string literal exactly as Python's
/// `json.dumps` does with `ensure_ascii=True`.
fn push_json_bytes(out: &mut String, bytes: &[u8]) {
    // Fast path: printable ASCII without quote or backslash is copied as is.
    if bytes
        .iter()
        .all(|&b| (0x20..0x7F).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(std::str::from_utf8(bytes).expect("printable ASCII is UTF-8"));
        out.push('"');
        return;
    }
    push_json_string(out, &python_code_points(bytes));
}

/// Appends code points as a JSON string literal (Python's `ensure_ascii=True`).
fn push_json_string(out: &mut String, code_points: &[u32]) {
    out.push('"');
    for &cp in code_points {
        match cp {
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x20..=0x7E => out.push(char::from_u32(cp).expect("printable ASCII is a char")),
            0x10000.. => {
                let v = cp - 0x10000;
                let hi = 0xD800 + (v >> 10);
                let lo = 0xDC00 + (v & 0x3FF);
                write!(out, "\\u{hi:04x}\\u{lo:04x}").expect("writing to a String cannot fail");
            }
            _ => write!(out, "\\u{cp:04x}").expect("writing to a String cannot fail"),
        }
    }
    out.push('"');
}

/// Serialises sorted entries into manifest bytes.
///
/// `key` is the hash name stored per entry: `md5` for DVC objects.
pub fn serialize(entries: &[TreeEntry], key: &str) -> Vec<u8> {
    serialize_pairs(
        entries
            .iter()
            .map(|e| (e.relpath.as_slice(), e.hash.as_str())),
        key,
    )
}

/// Serialises sorted `(relpath, hash)` pairs into manifest bytes.
pub fn serialize_pairs<'a>(
    entries: impl ExactSizeIterator<Item = (&'a [u8], &'a str)>,
    key: &str,
) -> Vec<u8> {
    let mut out = String::with_capacity(entries.len() * 80 + 2);
    out.push('[');
    for (i, (relpath, hash)) in entries.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        // DVC-compat: keys sorted, so the hash key precedes "relpath" for md5.
        let mut fields: [(&str, &[u8]); 2] = [(key, hash.as_bytes()), ("relpath", relpath)];
        fields.sort_by(|a, b| a.0.cmp(b.0));
        out.push('{');
        for (j, (name, value)) in fields.iter().enumerate() {
            if j > 0 {
                out.push_str(", ");
            }
            push_json_bytes(&mut out, name.as_bytes());
            out.push_str(": ");
            push_json_bytes(&mut out, value);
        }
        out.push('}');
    }
    out.push(']');
    out.into_bytes()
}

/// Returns the object id of manifest bytes: `<md5>.dir`.
pub fn dir_hash(manifest: &[u8]) -> String {
    format!("{}.dir", hash_bytes(manifest, HashAlgorithm::Md5))
}

/// Checks that a manifest relpath cannot escape the directory it is checked out into.
pub fn validate_relpath(relpath: &[u8]) -> std::result::Result<(), String> {
    if relpath.is_empty() {
        return Err("empty relpath".into());
    }
    if relpath[0] == b'/' {
        return Err("absolute relpath".into());
    }
    if relpath.contains(&0) {
        return Err("relpath contains a NUL byte".into());
    }
    for part in relpath.split(|&b| b == b'/') {
        match part {
            b"" => return Err("relpath has an empty component".into()),
            b"." | b".." => return Err("relpath has a `.` or `..` component".into()),
            _ => {}
        }
    }
    Ok(())
}

/// Parses manifest bytes (DVC's, or any JSON list of `{"md5", "relpath", ...}` objects),
/// rejecting entries that would write outside the directory.
pub fn parse(bytes: &[u8], origin: &Path) -> Result<Vec<TreeEntry>> {
    let err = |message: String| Error::InvalidManifest {
        path: origin.to_path_buf(),
        message,
    };
    let mut p = JsonParser { s: bytes, i: 0 };
    let entries = p.parse_manifest().map_err(err)?;
    for e in &entries {
        validate_relpath(&e.relpath)
            .map_err(|m| err(format!("{m}: `{}`", String::from_utf8_lossy(&e.relpath))))?;
        if !is_valid_md5_name(&e.hash) || e.hash.ends_with(".dir") {
            return Err(err(format!("invalid md5 `{}`", e.hash)));
        }
    }
    Ok(entries)
}

/// A small JSON reader for manifests: it maps lone surrogates back to the raw
/// bytes Python's surrogateescape made of them, which general parsers reject.
struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

type PResult<T> = std::result::Result<T, String>;

impl<'a> JsonParser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> PResult<()> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn parse_manifest(&mut self) -> PResult<Vec<TreeEntry>> {
        self.expect(b'[')?;
        // An entry takes about 80 bytes: one allocation for a whole manifest.
        let mut out = Vec::with_capacity(self.s.len() / 80 + 1);
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                out.push(self.parse_entry()?);
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(format!("expected `,` or `]` at byte {}", self.i)),
                }
            }
        }
        self.ws();
        if self.i != self.s.len() {
            return Err(format!("trailing data at byte {}", self.i));
        }
        Ok(out)
    }

    fn parse_entry(&mut self) -> PResult<TreeEntry> {
        self.expect(b'{')?;
        let mut relpath = None;
        let mut hash = None;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                let key = self.parse_str()?;
                self.expect(b':')?;
                match key.as_ref() {
                    b"relpath" => relpath = Some(self.parse_string()?),
                    b"md5" => {
                        let v = self.parse_string()?;
                        hash =
                            Some(String::from_utf8(v).map_err(|_| "md5 is not ASCII".to_string())?);
                    }
                    _ => self.skip_value()?,
                }
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(format!("expected `,` or `}}` at byte {}", self.i)),
                }
            }
        }
        match (relpath, hash) {
            (Some(relpath), Some(hash)) => Ok(TreeEntry { relpath, hash }),
            _ => Err("entry without `relpath` or `md5`".into()),
        }
    }

    fn skip_value(&mut self) -> PResult<()> {
        match self.peek() {
            Some(b'"') => self.parse_string().map(|_| ()),
            Some(b'{') | Some(b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.s.get(self.i) {
                        None => return Err("unterminated value".into()),
                        Some(b'"') => {
                            self.parse_string()?;
                            continue;
                        }
                        Some(b'{') | Some(b'[') => depth += 1,
                        Some(b'}') | Some(b']') => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.i < self.s.len() && !matches!(self.s[self.i], b',' | b'}' | b']') {
                    self.i += 1;
                }
                Ok(())
            }
        }
    }

    fn hex4(&mut self) -> PResult<u32> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("bad \\u escape at byte {}", self.i))?;
        self.i += 4;
        Ok(h)
    }

    fn parse_string(&mut self) -> PResult<Vec<u8>> {
        self.parse_str().map(Cow::into_owned)
    }

    /// A string's bytes: borrowed from the input when it holds no escape (nearly
    /// always in a manifest), so most strings cost one exact allocation or none.
    fn parse_str(&mut self) -> PResult<Cow<'a, [u8]>> {
        self.expect(b'"')?;
        let s: &'a [u8] = self.s;
        let start = self.i;
        let plain = s[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\')
            .ok_or("unterminated string")?;
        self.i = start + plain;
        if s[self.i] == b'"' {
            self.i += 1;
            return Ok(Cow::Borrowed(&s[start..start + plain]));
        }
        let mut out = s[start..self.i].to_vec();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return Ok(Cow::Owned(out)),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0C),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            match char::from_u32(cp) {
                                Some(ch) => {
                                    let mut buf = [0u8; 4];
                                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                                }
                                // Python's surrogateescape: U+DC80..U+DCFF stand for raw bytes.
                                None if (0xDC80..=0xDCFF).contains(&cp) => {
                                    out.push((cp - 0xDC00) as u8)
                                }
                                None => return Err(format!("unpaired surrogate \\u{cp:04x}")),
                            }
                        }
                        _ => return Err(format!("bad escape at byte {}", self.i - 1)),
                    }
                }
                _ => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(relpath: &[u8], hash: &str) -> TreeEntry {
        TreeEntry {
            relpath: relpath.to_vec(),
            hash: hash.to_string(),
        }
    }

    #[test]
    fn serialises_like_python_json_dumps() {
        let entries = vec![
            e(b".hidden", "3b5d5c3712955042212316173ccf37be"),
            e(
                "sub dir/\u{fc}n\u{ef}/f\u{ef}le name.txt".as_bytes(),
                "b1946ac92492d2347c6235b4d2611184",
            ),
        ];
        let bytes = serialize(&entries, "md5");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"[{"md5": "3b5d5c3712955042212316173ccf37be", "relpath": ".hidden"}, {"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "sub dir/\u00fcn\u00ef/f\u00efle name.txt"}]"#
        );
    }

    #[test]
    fn escapes_astral_controls_and_raw_bytes() {
        let entries = vec![
            e("a\u{1F601}\n\"\\\u{7f}".as_bytes(), "x"),
            e(b"bad\xff", "y"),
        ];
        let s = String::from_utf8(serialize(&entries, "md5")).unwrap();
        assert!(s.contains(r#""a\ud83d\ude01\n\"\\\u007f""#), "{s}");
        assert!(s.contains(r#""bad\udcff""#), "{s}");
    }

    #[test]
    fn sorts_by_code_point() {
        let mut v: Vec<TreeEntry> = ["b", "a0", "a/y/z", "a/x", "a.txt", "a-b", "_u", "A"]
            .iter()
            .map(|n| e(n.as_bytes(), "h"))
            .collect();
        sort_entries(&mut v);
        let names: Vec<&[u8]> = v.iter().map(|x| x.relpath.as_slice()).collect();
        let want: Vec<&[u8]> = vec![b"A", b"_u", b"a-b", b"a.txt", b"a/x", b"a/y/z", b"a0", b"b"];
        assert_eq!(names, want);
    }

    #[test]
    fn raw_bytes_sort_as_surrogates() {
        // U+DCFF (from byte 0xff) sorts before U+E000 and astral characters.
        assert_eq!(
            compare_relpaths(b"\xff", "\u{e000}".as_bytes()),
            Ordering::Less
        );
        assert_eq!(
            compare_relpaths(b"\xff", "\u{1F601}".as_bytes()),
            Ordering::Less
        );
        assert_eq!(
            compare_relpaths(b"\xff", "\u{d7ff}".as_bytes()),
            Ordering::Greater
        );
    }

    #[test]
    fn round_trips() {
        let mut entries = vec![
            e(
                "f\u{ef}le\n\u{1F601}".as_bytes(),
                "b1946ac92492d2347c6235b4d2611184",
            ),
            e(b"raw\xfe\xff", "d41d8cd98f00b204e9800998ecf8427e"),
        ];
        sort_entries(&mut entries);
        let bytes = serialize(&entries, "md5");
        assert_eq!(parse(&bytes, Path::new("x")).unwrap(), entries);
    }

    #[test]
    fn rejects_escaping_paths() {
        for bad in [
            r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "../x"}]"#,
            r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "/etc/passwd"}]"#,
            r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a//b"}]"#,
            r#"[{"md5": "../../x", "relpath": "a"}]"#,
            r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e"}]"#,
            r#"{"#,
        ] {
            assert!(parse(bad.as_bytes(), Path::new("m")).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_extra_keys() {
        let s = r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a", "size": 0, "isexec": false, "x": {"y": [1, "]"]}}]"#;
        assert_eq!(parse(s.as_bytes(), Path::new("m")).unwrap().len(), 1);
    }

    #[test]
    fn reads_escapes_anywhere_in_a_string_or_key() {
        // Escapes at the start, middle and end of values, and a key spelt with one.
        let s = r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "rel\u0070ath": "\"a\\b/c\u00e9\ud83d\ude01\udcff\n"},
                   {"md5": "\u0064\u0034\u0031d8cd98f00b204e9800998ecf8427e", "relpath": "plain"}]"#;
        let got = parse(s.as_bytes(), Path::new("m")).unwrap();
        let mut want = "\"a\\b/c\u{e9}\u{1F601}".as_bytes().to_vec();
        want.extend_from_slice(b"\xff\n");
        assert_eq!(got[0].relpath, want);
        assert_eq!(got[1].relpath, b"plain");
        assert_eq!(got[1].hash, "d41d8cd98f00b204e9800998ecf8427e");
        for bad in [
            r#"[{"md5": "x", "relpath": "a"#,
            r#"[{"md5": "x", "relpath": "a\"#,
        ] {
            assert!(parse(bad.as_bytes(), Path::new("m")).is_err(), "{bad}");
        }
    }
}
