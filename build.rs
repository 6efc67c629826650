// Integration tests link librdkafka statically (rdkafka-sys) and load
// librdpart.so into it as a plugin; a plugin can only find a librdkafka
// that lives in the main program when the program exports its symbols.
fn main() {
    println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic");
    println!("cargo:rerun-if-changed=build.rs");
}
