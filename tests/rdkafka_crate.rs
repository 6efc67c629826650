//! The plugin in the Rust `rdkafka` crate (0.39), as its users write a
//! producer: a `ClientConfig` and a `BaseProducer` with a delivery context.
//! The crate keeps properties in a HashMap and sets them in its random
//! order, so `rdpart.*` properties in it fail whenever they come before
//! `plugin.library.paths`; `RDPART_CONFIG` (read when the plugin loads)
//! configures rdpart whatever the order. The placement oracle is
//! librdkafka's own fnv1a partitioner. Test binaries export their symbols
//! (build.rs), as a program linking librdkafka statically must for the
//! plugin.

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};
use std::ffi::c_void;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn plugin_path() -> String {
    // target/<profile>/deps/rdkafka_crate-HASH -> target/<profile>/librdpart.so
    let exe = std::env::current_exe().unwrap();
    let so = exe.parent().unwrap().parent().unwrap().join("librdpart.so");
    assert!(so.exists(), "{} missing: cargo build first", so.display());
    so.to_string_lossy().into_owned()
}

/// (partition, key) of each delivered message.
type Placements = Arc<Mutex<Vec<(i32, Vec<u8>)>>>;

#[derive(Clone, Default)]
struct Delivered(Placements);
impl ClientContext for Delivered {}
impl ProducerContext for Delivered {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        if let Ok(m) = r {
            let key = m.key().unwrap_or_default().to_vec();
            self.0.lock().unwrap().push((m.partition(), key));
        }
    }
}

fn config(rdpart_props: bool) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("plugin.library.paths", plugin_path())
        .set("test.mock.num.brokers", "3")
        .set("enable.idempotence", "true");
    if rdpart_props {
        c.set("rdpart.strategy", "fnv1a")
            .set("rdpart.sticky.messages", "50");
    }
    c
}

fn fnv1a(key: &[u8], n: i32) -> i32 {
    // SAFETY: librdkafka's partitioner accepts a NULL topic for keyed messages.
    unsafe {
        rdkafka_sys::rd_kafka_msg_partitioner_fnv1a(
            std::ptr::null(),
            key.as_ptr() as *const c_void,
            key.len(),
            n,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}

#[test]
fn hash_map_order_and_rdpart_config() {
    // rdpart.* in the map: refused whenever the map puts it first.
    let mut refused = 0;
    for _ in 0..20 {
        match config(true).create_with_context::<_, BaseProducer<Delivered>>(Delivered::default()) {
            Ok(_) => {}
            Err(e) => {
                assert!(e.to_string().contains("rdpart."), "{e}");
                refused += 1;
            }
        }
    }
    println!("rdpart.* in a ClientConfig: refused in {refused} of 20 runs");
    assert!(
        refused > 0,
        "the crate kept the order (then this test is moot: update it)"
    );

    // RDPART_CONFIG: every time, and placed as configured. (The only test
    // of this binary: nothing else reads the environment meanwhile.)
    std::env::set_var("RDPART_CONFIG", "strategy=fnv1a; sticky.messages=50");
    for run in 0..20 {
        let ctx = Delivered::default();
        let p: BaseProducer<Delivered> = config(false)
            .create_with_context(ctx.clone())
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        let keys: Vec<Vec<u8>> = (0..100)
            .map(|i| format!("key-{run}-{i}").into_bytes())
            .collect();
        for k in &keys {
            p.send(BaseRecord::<[u8], str>::to("t").key(&k[..]).payload("v"))
                .map_err(|(e, _)| e)
                .unwrap();
        }
        p.flush(Duration::from_secs(30)).unwrap();
        let got = ctx.0.lock().unwrap().clone();
        assert_eq!(got.len(), keys.len(), "run {run}");
        // The mock cluster auto-creates 4 partitions.
        for (partition, key) in got {
            assert_eq!(partition, fnv1a(&key, 4), "run {run}: {key:?}");
        }
    }
    std::env::set_var("RDPART_CONFIG", "strategy=jmp");
    let e = config(false)
        .create_with_context::<_, BaseProducer<Delivered>>(Delivered::default())
        .err()
        .expect("a bad RDPART_CONFIG fails the plugin's load");
    assert!(
        e.to_string().contains("RDPART_CONFIG") && e.to_string().contains("jmp"),
        "{e}"
    );
    std::env::remove_var("RDPART_CONFIG");
}
