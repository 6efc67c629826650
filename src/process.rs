//! Process setup, run once when librdpart is loaded (before `main` for a
//! program linked with it, inside `dlopen` otherwise): resolve the
//! librdkafka functions the plain callbacks may call (loader.rs), and
//! install the fork handlers, so a child never inherits the topic tables'
//! insert lock held and draws its own random sequence.

// The `ctor` crate places it in .init_array: the loader runs it once, before
// anything can call into the library.
#[ctor::ctor(unsafe)]
fn on_load() {
    crate::loader::resolve_at_load();
    // SAFETY: plain functions that live as long as the process (the
    // library is never unloaded: -z nodelete).
    unsafe {
        libc::pthread_atfork(
            Some(before_fork),
            Some(after_fork_parent),
            Some(after_fork_child),
        )
    };
}

extern "C" fn before_fork() {
    crate::topics::lock_inserts();
}

extern "C" fn after_fork_parent() {
    crate::topics::unlock_inserts();
}

extern "C" fn after_fork_child() {
    // The child's only thread is the one that forked: reseed it (others
    // seed on first use, with the child's pid).
    crate::rng::reseed_this_thread();
    crate::topics::unlock_inserts();
}
