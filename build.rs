// Integration tests link librdkafka statically (rdkafka-sys) and load
// librdpart.so into it as a plugin; a plugin can only find a librdkafka
// that lives in the main program when the program exports its symbols.
//
// librdpart.so is linked with -z nodelete: librdkafka dlclose()s plugins
// (when a later one in plugin.library.paths fails to load, or when the
// property is set again) while their interceptors and partitioner stay
// registered, so the library must stay mapped for the life of the process.
//
// Its SONAME is librdpart.so.0, as `make install` installs it (with the
// librdpart.so link); the build tree gets the same link (Makefile, tests).
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librdpart.so.0");
    println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    println!("cargo:rerun-if-changed=build.rs");
}
