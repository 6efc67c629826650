//! The plugin's instance: one per conf, made by `conf_init` (mod.rs),
//! reached by every interceptor through its opaque and by the partitioner
//! through the registry. What the application's partitioner may use of it
//! is `Host` (custom.rs).

use super::api::Api;
use super::custom::{Custom, Host};
use super::leaders::Watcher;
use super::log::Log;
use crate::config::Config;
use crate::partitioner::Partitioner;
use std::ffi::c_void;
use std::sync::atomic::AtomicBool;

/// One plugin instance per conf: the partitioner's configuration, the
/// librdkafka it lives in, and (once a producer is made from the conf)
/// that producer's log.
pub struct Instance {
    /// The configuration while the conf is being set (on_conf_set)...
    pub(super) config: std::sync::Mutex<Config>,
    /// ...frozen into the partitioner when the producer is made (on_new).
    pub(super) part: std::sync::OnceLock<Partitioner>,
    pub(super) api: Api,
    /// The producer's log (log.rs), once a producer is made from the conf.
    pub(super) log: std::sync::Arc<Log>,
    /// The producer's default topic conf names another partitioner (said
    /// in on_new), which then places the topics made from it.
    pub(super) foreign_default: AtomicBool,
    /// The thread that learns leaders and their racks (leaders.rs), made
    /// in on_new, started by the first topic that needs it.
    pub(super) leaders: std::sync::OnceLock<Watcher>,
    /// The producer's brokers' round trips (adaptive), from on_request_sent
    /// and on_response_received.
    pub(super) brokers: std::sync::Arc<crate::strategy::Brokers>,
    /// The application's own partitioner, if it set one (custom.rs).
    pub(super) custom: Custom,
}

impl Instance {
    /// The configuration being set (before the producer is made).
    pub(super) fn config(&self) -> std::sync::MutexGuard<'_, Config> {
        self.config.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The partitioner, its configuration frozen: in on_new, or by the
    /// first reader (none comes before on_new). Once frozen, on_conf_set
    /// refuses rdpart's properties (`frozen`).
    #[inline]
    pub(super) fn part(&self) -> &Partitioner {
        self.part.get_or_init(|| {
            Partitioner::new(
                self.config().clone(),
                Some(self.api.available),
                Some(self.api.topic_name),
            )
        })
    }

    /// Whether the configuration is frozen (a producer was made from the conf).
    pub(super) fn frozen(&self) -> bool {
        self.part.get().is_some()
    }

    /// Err when `config` asks for rack awareness that this librdkafka
    /// cannot give.
    pub(super) fn check_racks(&self, config: &Config) -> Result<(), String> {
        if config.rack_aware && self.api.racks.is_none() {
            return Err(format!(
                "\"rdpart.rack.aware\": true needs librdkafka 2.3.0 or later (DescribeTopics, \
                 to learn the leaders' racks); this is librdkafka {} ({}): set false or upgrade",
                self.api.version_string(),
                self.api.path
            ));
        }
        Ok(())
    }

    /// The instance an interceptor's `ic_opaque` (or a topic's owner) is.
    ///
    /// # Safety
    /// `opaque` is NULL or the opaque conf_init registered, live (its conf
    /// is not destroyed).
    #[inline]
    pub(super) unsafe fn from_opaque<'a>(opaque: *const c_void) -> Option<&'a Instance> {
        // SAFETY: the caller's contract.
        unsafe { (opaque as *const Instance).as_ref() }
    }

    /// Logs `msg` (which starts with "rdpart: ") at syslog `level` on the
    /// producer's log (log.rs).
    pub fn log(&self, level: i32, msg: &str) {
        self.log.write(level, msg, false)
    }
}

impl Instance {
    /// What the application's partitioner may use (custom.rs).
    pub(super) fn host(&self) -> Host<'_> {
        Host {
            api: &self.api,
            log: &self.log,
            custom: &self.custom,
        }
    }
}
