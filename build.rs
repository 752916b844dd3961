//! Rebuilds the binary when anything under `config/` changes: the default configuration and
//! every rule file there are built into it, including files added later.

fn main() {
    println!("cargo:rerun-if-changed=config");
}
