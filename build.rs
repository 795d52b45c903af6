//! Rebuild when the embedded workspace changes: `include_dir!` alone does
//! not tell cargo which files it read.
fn main() {
    for path in [
        "pgpm.plan",
        "pgpm-jobs.control",
        "deploy",
        "revert",
        "verify",
        "extensions",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
}
