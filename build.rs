// Integration tests link librdkafka statically (rdkafka-sys) and load
// librdpart.so into it as a plugin; a plugin can only find a librdkafka
// that lives in the main program when the program exports its symbols.
//
// librdpart.so is linked with -z nodelete: librdkafka dlclose()s plugins
// (when a later one in plugin.library.paths fails to load, or when the
// property is set again) while their interceptors and partitioner stay
// registered, so the library must stay mapped for the life of the process.
fn main() {
    println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    println!("cargo:rerun-if-changed=build.rs");
}
