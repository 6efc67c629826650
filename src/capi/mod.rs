//! The C API (include/rdpart.h), one file per section of the header:
//!
//! - `callbacks.rs`: the partitioner callbacks, one per strategy;
//! - `conf.rs`: `rdpart_conf_t`, configurations in librdkafka's conf style;
//! - `partitioner.rs`: `rdpart_t`, partitioners made from a configuration;
//! - `version.rs`: `rdpart_version()`.
//!
//! Every exported function runs behind `boundary()`: no panic unwinds into
//! C. Every pointer may be NULL. Every partition returned is in
//! `0..partition_cnt`, or `RD_KAFKA_PARTITION_UA` (-1) when
//! `partition_cnt < 1`. Safety, for every exported function: a pointer
//! argument is NULL or valid as the header describes (`keydata` readable
//! for `keylen` bytes, strings NUL-terminated, objects from the matching
//! `_new` and not yet destroyed); it is stated once here and in the header.

#![allow(clippy::missing_safety_doc)]

/// The body of a naked callback: calls `$body` with the same six
/// arguments and, as the seventh, the callback's return address (the code
/// of the librdkafka that called it), then returns what `$body` returns.
#[cfg(target_arch = "x86_64")]
macro_rules! with_caller {
    ($body:ident) => {
        // At entry [rsp] is the return address. Pushing it makes it the
        // seventh (stack) argument and aligns the stack for the call.
        core::arch::naked_asm!("mov rax, [rsp]", "push rax", "call {f}", "pop rcx", "ret", f = sym $body)
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! with_caller {
    ($body:ident) => {
        // The return address is in x30; x6 is the seventh argument.
        core::arch::naked_asm!("mov x6, x30", "b {f}", f = sym $body)
    };
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!(
    "rdpart's callbacks are written for x86_64 and aarch64 (see with_caller! in capi/mod.rs)"
);

mod callbacks;
mod conf;
mod partitioner;
mod version;

pub use callbacks::*;
pub use conf::*;
pub use partitioner::*;
pub use version::*;
