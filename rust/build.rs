//! Compiles the C md5 block function (see `rust/src/md5_blocks.c` for why it is C).

fn main() {
    println!("cargo:rerun-if-changed=rust/src/md5_blocks.c");
    cc::Build::new()
        .file("rust/src/md5_blocks.c")
        .opt_level(2)
        .warnings(true)
        .compile("mlvc_md5_blocks");
}
