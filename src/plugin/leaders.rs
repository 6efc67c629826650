//! Leaders and their racks for the plugin's producers: for rack awareness
//! (`rdpart.rack.aware=true` with `client.rack`) and for adaptive (which
//! leaves a slow broker's partitions out together). A thread per producer,
//! started with its first topic that needs it, asks the cluster for its
//! topics' partitions, their leaders and the leaders' racks
//! (DescribeTopics, librdkafka 2.3.0 and later; for adaptive alone one
//! Metadata request), probes each leader once for adaptive, and records
//! them in each topic's view (strategy/view.rs: its leaders and rack),
//! every `PERIOD_RACKS` or `PERIOD_ADAPTIVE` and whenever an
//! acknowledgement shows a message delivered by a broker other than the
//! leader rdpart knows. The thread only waits on its own queue and on a
//! condition; it is stopped and joined in `on_destroy`, before
//! librdkafka's threads end.

use super::api::{LeaderApi, RackApi};
use super::log::{self, Log};
use crate::boundary::c_string;
use crate::registry::PRODUCERS;
use crate::sys::*;
use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How often the leaders are asked for without a reason: with rack
/// awareness (a leader that moves into the rack shows no other way), and
/// for adaptive alone (a leader that moves shows by the broker that
/// acknowledges its partition's messages).
pub const PERIOD_RACKS: Duration = Duration::from_secs(2);
pub const PERIOD_ADAPTIVE: Duration = Duration::from_secs(30);
/// The least time between two requests.
const SPACING: Duration = Duration::from_millis(200);
/// How long a topic's first message waits for its leaders' racks.
pub const FIRST_WAIT: Duration = Duration::from_millis(1_000);
/// How long the first message waits for the leaders' answers to probes.
const PROBE_WAIT: Duration = Duration::from_millis(150);
/// How long a probe may wait for its answer.
const PROBE_MS: i32 = 1_000;
/// Leaders probed per topic at most.
const PROBES_MAX: usize = 16;
/// How long a Metadata request may block the thread.
const METADATA_MS: i32 = 300;
/// Metadata requests per look at most.
const METADATA_TRIES: u32 = 3;
/// How long one request may take.
const REQUEST_MS: i32 = 5_000;

/// One producer's leader thread.
pub struct Watcher {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Shared {
    /// DescribeTopics (None: librdkafka before 2.3.0, leaders by Metadata).
    api: Option<RackApi>,
    leaders: LeaderApi,
    rk: usize,
    owner: usize,
    /// The instance's broker round trips.
    brokers: Arc<crate::strategy::Brokers>,
    /// `client.rack` with rdpart.rack.aware (None: leaders only, for adaptive).
    rack: Option<CString>,
    log: Arc<Log>,
    /// The topics to ask about, by name (a handle made again for a topic
    /// replaces the one before); `learnt` is signalled when one's leaders
    /// are first learnt.
    topics: Mutex<HashMap<CString, Topic>>,
    stopped: Mutex<bool>,
    wake: Condvar,
    refresh: AtomicBool,
    /// A new topic: ask at once, whatever the spacing.
    fresh: AtomicBool,
    learnt: Condvar,
}

/// What the thread knows of one topic.
#[derive(Default)]
struct Topic {
    /// The handle last seen for it.
    rkt: usize,
    /// Its leaders have been learnt (or the cluster answered it has none).
    learnt: bool,
    /// Its leaders are to be probed once learnt (adaptive).
    probe: bool,
    /// What the log was last told: whether no partition is in the rack.
    no_local: Option<bool>,
}

impl Watcher {
    pub fn new(
        api: Option<RackApi>,
        leaders: LeaderApi,
        rk: *mut rd_kafka_t,
        owner: usize,
        brokers: Arc<crate::strategy::Brokers>,
        rack: Option<CString>,
        log: Arc<Log>,
    ) -> Self {
        Watcher {
            shared: Arc::new(Shared {
                api,
                leaders,
                rk: rk as usize,
                owner,
                brokers,
                rack,
                log,
                topics: Mutex::default(),
                stopped: Mutex::new(false),
                wake: Condvar::new(),
                refresh: AtomicBool::new(false),
                fresh: AtomicBool::new(false),
                learnt: Condvar::new(),
            }),
            thread: Mutex::new(None),
        }
    }

    /// Adds a topic (first seen in on_send), starts the thread if needed,
    /// and waits (at most `FIRST_WAIT`) until the topic's leaders are
    /// learnt, so that its first messages are placed in the rack too: the
    /// producing thread blocks once per topic, as the Java producer's
    /// first send() of a topic waits for its metadata.
    ///
    /// With `probe` (adaptive), each leader is sent one small request when
    /// the topic's leaders are first learnt, so that every leader's round
    /// trip is known (strategy/backlog/brokers.rs) before the topic's
    /// first message is placed: a slow broker shows by keeping it waiting.
    ///
    /// A topic seen before under another handle (an application that makes
    /// its topic handles again) neither waits nor probes: its new handle's
    /// state gets the leaders from the next look, asked for at once.
    pub fn watch(&self, name: CString, rkt: usize, probe: bool, may_wait: bool) {
        let s = &self.shared;
        if !self.start(&name, rkt, probe) {
            return;
        }
        self.wake_thread();
        if !may_wait {
            return;
        }
        let deadline = Instant::now() + FIRST_WAIT;
        let wait = || {
            let mut topics = lock(&s.topics);
            while !topics.get(&name).is_some_and(|t| t.learnt) && !s.stopped() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                topics = s
                    .learnt
                    .wait_timeout(topics, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        };
        // In a Python producer, the host's other threads run meanwhile.
        match super::python::python() {
            Some(py) => py.released(wait),
            None => wait(),
        }
    }

    /// Records topic `name`'s handle; true when the name is new.
    fn start(&self, name: &CString, rkt: usize, probe: bool) -> bool {
        let mut topics = lock(&self.shared.topics);
        match topics.get_mut(name.as_c_str()) {
            Some(known) => {
                known.rkt = rkt;
                drop(topics);
                self.refresh();
                false
            }
            None => {
                let t = Topic {
                    rkt,
                    probe,
                    ..Topic::default()
                };
                topics.insert(name.clone(), t);
                true
            }
        }
    }

    /// Starts the thread, or asks it to look again.
    fn wake_thread(&self) {
        let s = &self.shared;
        let mut thread = lock(&self.thread);
        if *lock(&s.stopped) {
            return;
        }
        if thread.is_none() {
            let shared = Arc::clone(s);
            match std::thread::Builder::new()
                .name("rdpart-leaders".into())
                .spawn(move || shared.run())
            {
                Ok(h) => *thread = Some(h),
                Err(e) => s.log.write(
                    log::ERR,
                    &format!("rdpart: rdpart.rack.aware: cannot start a thread ({e}): keyless messages go to every partition"),
                    false,
                ),
            }
        } else {
            self.ask_now();
        }
    }

    /// Asks for a new topic's leaders now: the first message of a topic
    /// waits only as long as the cluster takes to answer, not for the
    /// spacing between two requests.
    fn ask_now(&self) {
        self.shared.fresh.store(true, Relaxed);
        let _g = lock(&self.shared.stopped);
        self.shared.wake.notify_one();
    }

    /// Asks for the leaders again soon (a broker thread may call this).
    pub fn refresh(&self) {
        if !self.shared.refresh.swap(true, Relaxed) {
            self.shared.wake.notify_one();
        }
    }

    /// Stops the thread and waits for it (on_destroy; again on drop).
    pub fn stop(&self) {
        *lock(&self.shared.stopped) = true;
        self.shared.wake.notify_all();
        drop(lock(&self.shared.topics));
        self.shared.learnt.notify_all();
        if let Some(h) = lock(&self.thread).take() {
            let _ = h.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn stopped(&self) -> bool {
        *lock(&self.stopped)
    }

    fn run(&self) {
        let period = if self.rack.is_some() {
            PERIOD_RACKS
        } else {
            PERIOD_ADAPTIVE
        };
        loop {
            let began = Instant::now();
            self.describe();
            // At least SPACING apart; `period` unless asked sooner.
            let mut stopped = lock(&self.stopped);
            loop {
                if *stopped {
                    return;
                }
                let waited = began.elapsed();
                let due = waited >= period
                    || (waited >= SPACING && self.refresh.load(Relaxed))
                    || self.fresh.swap(false, Relaxed);
                if due {
                    break;
                }
                let next = if self.refresh.load(Relaxed) {
                    SPACING
                } else {
                    period
                };
                let (g, _) = self
                    .wake
                    .wait_timeout(stopped, next.saturating_sub(waited))
                    .unwrap_or_else(|e| e.into_inner());
                stopped = g;
            }
            drop(stopped);
            self.refresh.store(false, Relaxed);
        }
    }

    /// One DescribeTopics request for every topic, and its answer applied
    /// (without rack awareness, a Metadata request: leaders, no racks).
    fn describe(&self) {
        let topics: Vec<CString> = lock(&self.topics).keys().cloned().collect();
        if topics.is_empty() {
            return;
        }
        // Racks need DescribeTopics; leaders alone take one Metadata round
        // trip (DescribeTopics takes two or more: it looks up the controller).
        let (Some(api), Some(_)) = (&self.api, &self.rack) else {
            return self.metadata();
        };
        let rk = self.rk as *mut rd_kafka_t;
        let names: Vec<*const c_char> = topics.iter().map(|n| n.as_ptr()).collect();
        // SAFETY: the producer lives until on_destroy has joined this
        // thread; the names outlive the call (librdkafka copies them), and
        // each object made here is destroyed here.
        unsafe {
            let q = (api.queue_new)(rk);
            if q.is_null() {
                return;
            }
            let opts = (api.options_new)(rk, 0); // RD_KAFKA_ADMIN_OP_ANY
            let mut err = [0 as c_char; 128];
            if !opts.is_null() {
                (api.options_set_request_timeout)(opts, REQUEST_MS, err.as_mut_ptr(), err.len());
            }
            let coll = (api.topic_names)(names.as_ptr(), names.len());
            (api.describe_topics)(rk, coll, opts, q);
            (api.topic_names_destroy)(coll);
            if !opts.is_null() {
                (api.options_destroy)(opts);
            }
            let deadline = Instant::now() + Duration::from_millis(REQUEST_MS as u64 + 1000);
            while !self.stopped() && Instant::now() < deadline {
                let ev = (api.queue_poll)(q, 100);
                if !ev.is_null() {
                    self.apply(api, ev);
                    (api.event_destroy)(ev);
                    break;
                }
            }
            (api.queue_destroy)(q);
        }
    }

    /// Applies a DescribeTopics result.
    ///
    /// # Safety
    /// `ev` is an event from this watcher's queue, live for the call.
    unsafe fn apply(&self, api: &RackApi, ev: *mut std::ffi::c_void) {
        // SAFETY: the caller's contract; every pointer read below belongs
        // to the event and lives while it does.
        unsafe {
            if (api.event_error)(ev) != ERR_NO_ERROR {
                let why = c_string((api.event_error_string)(ev));
                self.log.write(
                    log::DEBUG,
                    &format!("rdpart: rdpart.rack.aware: cannot describe the topics: {why}"),
                    false,
                );
                return;
            }
            let res = (api.describe_result)(ev);
            if res.is_null() {
                return;
            }
            let mut cnt = 0;
            let descs = (api.result_topics)(res, &mut cnt);
            for i in 0..if descs.is_null() { 0 } else { cnt } {
                let d = *descs.add(i);
                let name = std::ffi::CStr::from_ptr((api.topic_name)(d));
                let e = (api.topic_error)(d);
                if !e.is_null() && (api.error_code)(e) != ERR_NO_ERROR {
                    // The cluster answered: no such topic (yet). Its first
                    // message waits no longer than that answer took; the
                    // topic is asked for again soon, and the user told.
                    if !self.was_learnt(name) {
                        self.log.write(
                            log::NOTICE,
                            &format!(
                                "rdpart: topic \"{}\" is not known to the cluster yet: until its \
                                 leaders are, its keyless messages go to every partition \
                                 (rdpart.rack.aware)",
                                name.to_string_lossy()
                            ),
                            false,
                        );
                    }
                    self.learnt(name);
                    self.refresh.store(true, Relaxed);
                    continue;
                }
                let Some(t) = self.state(name) else {
                    continue;
                };
                let mut pc = 0;
                let parts = (api.topic_partitions)(d, &mut pc);
                let mut leaders: Vec<Option<(i32, bool)>> = Vec::new();
                for j in 0..if parts.is_null() { 0 } else { pc } {
                    let pi = *parts.add(j);
                    let Ok(p) = usize::try_from((api.partition_id)(pi)) else {
                        continue;
                    };
                    if p >= crate::strategy::LEADER_PARTITIONS as usize {
                        continue;
                    }
                    if leaders.len() <= p {
                        leaders.resize(p + 1, None);
                    }
                    let node = (api.partition_leader)(pi);
                    if !node.is_null() {
                        let rack = (api.node_rack)(node);
                        let local = match &self.rack {
                            Some(mine) => {
                                !rack.is_null() && std::ffi::CStr::from_ptr(rack) == mine.as_c_str()
                            }
                            None => false,
                        };
                        leaders[p] = Some(((api.node_id)(node), local));
                    }
                }
                self.record(&t.state, name, &leaders);
            }
        }
    }

    /// Records a topic's leaders (and whether each is in the rack).
    fn record(
        &self,
        t: &crate::strategy::TopicState,
        name: &std::ffi::CStr,
        leaders: &[Option<(i32, bool)>],
    ) {
        let n = leaders.len() as u32;
        t.view
            .leaders()
            .update(n, |p| leaders[p as usize].map(|(id, _)| id));
        let local = self.rack.as_ref().map(|_| {
            let r = t.view.rack();
            r.update(n, |p| matches!(leaders[p as usize], Some((_, true))));
            r.local_count()
        });
        let first = !self.was_learnt(name);
        if first {
            let brokers: Vec<String> = leaders
                .iter()
                .map(|l| l.map_or("-".into(), |(b, _)| b.to_string()))
                .collect();
            self.log.write(
                log::DEBUG,
                &format!(
                    "rdpart: topic \"{}\": leaders {}",
                    name.to_string_lossy(),
                    brokers.join(",")
                ),
                false,
            );
        }
        let probe = first
            && lock(&self.topics)
                .get_mut(name)
                .is_some_and(|t| std::mem::take(&mut t.probe));
        // Said before the first message goes on, so that the producer's
        // next message carries it to a queued log (log.rs).
        if let Some(local) = local {
            self.tell(name, local, leaders.len());
        }
        if probe {
            self.probe(name, leaders);
        } else {
            self.learnt(name);
        }
    }

    /// Wakes the topic's first message (`watch`).
    fn learnt(&self, name: &std::ffi::CStr) {
        if let Some(t) = lock(&self.topics).get_mut(name) {
            if !t.learnt {
                t.learnt = true;
                self.learnt.notify_all();
            }
        }
    }

    /// Whether the topic's leaders were learnt before.
    fn was_learnt(&self, name: &std::ffi::CStr) -> bool {
        lock(&self.topics).get(name).is_some_and(|t| t.learnt)
    }

    /// The placement state of the topic's current handle.
    fn state(&self, name: &std::ffi::CStr) -> Option<&'static crate::registry::ProducerTopic> {
        let rkt = lock(&self.topics).get(name)?.rkt;
        PRODUCERS.get_owned(rkt, self.owner)
    }

    /// One ListOffsets request to each leader (one partition per broker, in
    /// threads of their own, each ending within `PROBE_MS`); the topic's
    /// first message goes on when all have answered or after `PROBE_WAIT`,
    /// by when a slow leader has kept its request waiting long enough to
    /// be judged slow.
    fn probe(&self, topic: &std::ffi::CStr, leaders: &[Option<(i32, bool)>]) {
        let mut picks: Vec<i32> = Vec::new();
        let mut brokers: Vec<i32> = Vec::new();
        for (p, l) in leaders.iter().enumerate() {
            if let Some((b, _)) = l {
                if !brokers.contains(b) && brokers.len() < PROBES_MAX {
                    brokers.push(*b);
                    picks.push(p as i32);
                }
            }
        }
        let done = std::sync::atomic::AtomicUsize::new(0);
        let (rk, query) = (self.rk, self.leaders.query_watermark_offsets);
        let round_trips = &*self.brokers;
        std::thread::scope(|sc| {
            for (&p, &b) in picks.iter().zip(&brokers) {
                let done = &done;
                let spawned = std::thread::Builder::new()
                    .name("rdpart-probe".into())
                    .spawn_scoped(sc, move || {
                        let (mut lo, mut hi) = (0i64, 0i64);
                        // Timed here too: a request still queued behind a
                        // slow connection's setup is not yet sent, and
                        // librdkafka's interceptors cannot see it wait.
                        round_trips.request_sent(b);
                        let start = Instant::now();
                        // SAFETY: the producer lives until on_destroy has
                        // joined the watcher, which joins this scope first;
                        // the topic name outlives the scope.
                        unsafe {
                            query(
                                rk as *mut rd_kafka_t,
                                topic.as_ptr(),
                                p,
                                &mut lo,
                                &mut hi,
                                PROBE_MS,
                            )
                        };
                        round_trips.response_received(b, start.elapsed().as_micros() as i64, false);
                        done.fetch_add(1, Relaxed);
                    });
                if spawned.is_err() {
                    done.fetch_add(1, Relaxed);
                }
            }
            let until = Instant::now() + PROBE_WAIT;
            while done.load(Relaxed) < picks.len() && Instant::now() < until && !self.stopped() {
                std::thread::sleep(Duration::from_millis(5));
            }
            // The first message goes on; the scope waits for slow answers.
            self.learnt(topic);
        });
    }

    /// Leaders by a Metadata request for the producer's topics (adaptive
    /// without rack awareness). It blocks this thread, never longer
    /// than `METADATA_MS`, which bounds how long on_destroy may wait.
    fn metadata(&self) {
        if self.rack.is_some() {
            return;
        }
        let api = &self.leaders;
        let mut md: *const rd_kafka_metadata = std::ptr::null();
        let mut err = ERR_NO_ERROR;
        // A few short tries: librdkafka sends each to a broker that is up,
        // and the first may be a slow one (the only one connected yet).
        for _ in 0..METADATA_TRIES {
            // SAFETY: the producer lives until on_destroy has joined this
            // thread; all_topics=0 and no topic handle: the topics it knows.
            err = unsafe {
                (api.metadata)(
                    self.rk as *mut rd_kafka_t,
                    0,
                    std::ptr::null_mut(),
                    &mut md,
                    METADATA_MS,
                )
            };
            if err == ERR_NO_ERROR || self.stopped() {
                break;
            }
        }
        // SAFETY: on success, librdkafka's metadata, read and then destroyed here.
        let Some(m) = (unsafe { md.as_ref() }).filter(|_| err == ERR_NO_ERROR) else {
            return;
        };
        let n = usize::try_from(m.topic_cnt).unwrap_or(0);
        for i in 0..if m.topics.is_null() { 0 } else { n } {
            // SAFETY: topic_cnt topics, each with partition_cnt partitions.
            let mt = unsafe { &*m.topics.add(i) };
            if mt.topic.is_null() {
                continue;
            }
            // SAFETY: librdkafka's C string.
            let name = unsafe { std::ffi::CStr::from_ptr(mt.topic) };
            if mt.err != ERR_NO_ERROR {
                // As in apply(): answered, without leaders.
                self.learnt(name);
                continue;
            }
            let Some(t) = self.state(name) else {
                continue;
            };
            let mut leaders: Vec<Option<(i32, bool)>> = Vec::new();
            let pn = usize::try_from(mt.partition_cnt).unwrap_or(0);
            for j in 0..if mt.partitions.is_null() { 0 } else { pn } {
                // SAFETY: as above.
                let mp = unsafe { &*mt.partitions.add(j) };
                let Ok(p) = usize::try_from(mp.id) else {
                    continue;
                };
                if p >= crate::strategy::LEADER_PARTITIONS as usize {
                    continue;
                }
                if leaders.len() <= p {
                    leaders.resize(p + 1, None);
                }
                if mp.leader >= 0 {
                    leaders[p] = Some((mp.leader, false));
                }
            }
            self.record(&t.state, name, &leaders);
        }
        // SAFETY: the metadata rd_kafka_metadata() returned, destroyed once.
        unsafe { (api.metadata_destroy)(md) };
    }

    /// Says when a topic has no partition in the rack, and when it has again.
    fn tell(&self, name: &std::ffi::CStr, local: u32, n: usize) {
        let none = local == 0;
        let topic = name.to_string_lossy();
        let changed = match lock(&self.topics).get_mut(name) {
            Some(t) => {
                let said = t.no_local.replace(none);
                said.map_or(none, |was| was != none)
            }
            None => false,
        };
        if changed {
            let rack = self.rack.as_deref().unwrap_or_default().to_string_lossy();
            let msg = if none {
                format!("rdpart: topic \"{topic}\": no partition's leader is in rack \"{rack}\" (client.rack): its keyless messages go to every partition")
            } else {
                format!("rdpart: topic \"{topic}\": {local} of {n} partitions have their leader in rack \"{rack}\" again: keyless messages go only there")
            };
            self.log.write(log::NOTICE, &msg, false);
        }
    }
}
