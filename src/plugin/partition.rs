//! The partitioner the plugin installs on every topic of its producers.

use super::custom;
use super::instance::Instance;
use crate::boundary::{boundary, key};
use crate::registry::{place_plain, PRODUCERS};
use crate::strategy::{Strategy, TopicRef};
use crate::sys::*;
use std::ffi::c_void;
use std::sync::atomic::Ordering::Relaxed;

/// The partitioner the plugin installs: the producer's configuration and
/// the topic's state come from the registry, never from the topic opaque.
pub unsafe extern "C" fn plugin_partition(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    _rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    if partition_cnt < 1 {
        return PARTITION_UA;
    }
    boundary(PARTITION_UA, || {
        match PRODUCERS.get(rkt as usize).and_then(|t| {
            // SAFETY: a registered topic's owner is the live instance of
            // the producer placing this message (its on_send registered it).
            unsafe { Instance::from_opaque(t.owner as *const c_void) }.map(|i| (t, i))
        }) {
            Some((t, inst)) => {
                if !t.placed.load(Relaxed) {
                    t.placed.store(true, Relaxed);
                }
                let place = |key: crate::boundary::Key| {
                    inst.part()
                        .place(rkt, TopicRef::Known(&t.state), key, partition_cnt as u32)
                        as i32
                };
                if inst.custom.is_set() {
                    return custom::partition(
                        &inst.host(),
                        t,
                        rkt,
                        keydata,
                        keylen,
                        msg_opaque,
                        partition_cnt,
                        place,
                    );
                }
                // SAFETY: librdkafka's contract for keydata/keylen.
                place(unsafe { key(keydata, keylen) })
            }
            // A topic no on_send registered: not produced through a plugin
            // producer (a direct call). Place as the default would.
            // SAFETY: the callback contract, passed on.
            None => unsafe {
                place_plain::<{ Strategy::Sticky as u8 }>(rkt, keydata, keylen, partition_cnt)
            },
        }
    })
}
