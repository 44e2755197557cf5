//! Generates the LR parser from `grammar/mxc.lalrpop` into `OUT_DIR`.
fn main() {
    let manifest = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let grammar_dir = manifest.join("grammar");
    println!(
        "cargo:rerun-if-changed={}",
        grammar_dir.join("mxc.lalrpop").display()
    );
    lalrpop::Configuration::new()
        .set_in_dir(&grammar_dir)
        .set_out_dir(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .emit_rerun_directives(true)
        .process()
        .expect("the grammar in grammar/mxc.lalrpop must build");
}
