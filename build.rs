//! Rebuilds the binary when anything under `config/` or `migrations/` changes: the default
//! configuration, every rule file there and every migration are built into it, including files
//! added later.

fn main() {
    println!("cargo:rerun-if-changed=config");
    println!("cargo:rerun-if-changed=migrations");
}
