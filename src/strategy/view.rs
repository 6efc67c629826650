//! A topic's view: what is known of the topic's partitions, whatever the
//! strategy. Learnt from outside placement: each partition's leader, and
//! whether it is in the client's rack (only under rack awareness), from
//! the plugin's leader thread; the producer's brokers' round trips, from
//! the plugin's request hooks and probes; a delivered message's partition
//! had a leader, from acknowledgements. And by placement itself: which
//! partitions librdkafka says have a leader while the topic settles
//! (available.rs). Read by the keyless strategies through usable.rs, by
//! adaptive, and by the plugin's leader check. A strategy's own state is
//! not here but in its module (adaptive's `Load`, hot keys' `HotKeys`,
//! each thread's `Lane`).

use super::available::Availability;
use super::backlog::Brokers;
use super::leaders::Leaders;
use super::rack::Rack;
use once_cell::race::OnceBox;
use std::sync::Arc;

/// What is known of one topic's partitions, shared by every thread. In
/// the order written (`repr(C)`): what every keyless placement reads
/// first, together.
#[repr(C)]
pub struct View {
    /// Whether its leaders are known yet, and which (available.rs).
    pub availability: Availability,
    /// The partitions in the client's rack (rack.rs), made when first learnt.
    rack: OnceBox<Rack>,
    /// Each partition's leader (leaders.rs), made when first learnt.
    leaders: OnceBox<Leaders>,
    /// The producer's brokers' round trips, shared with the plugin's
    /// instance, set when the plugin first sees the topic.
    brokers: OnceBox<Arc<Brokers>>,
}

impl View {
    /// `settled`: a view with nothing to ask librdkafka about (calls
    /// without a topic).
    pub const fn new(settled: bool) -> View {
        View {
            availability: Availability::new(settled),
            rack: OnceBox::new(),
            leaders: OnceBox::new(),
            brokers: OnceBox::new(),
        }
    }

    /// The partitions' leaders, to be written (made on first use).
    pub fn leaders(&self) -> &Leaders {
        self.leaders.get_or_init(Box::default)
    }

    /// The partitions' leaders, if they were learnt.
    #[inline]
    pub fn leaders_if_any(&self) -> Option<&Leaders> {
        self.leaders.get()
    }

    /// The rack view, to be written (made on first use: under rack
    /// awareness only).
    pub fn rack(&self) -> &Rack {
        self.rack.get_or_init(Box::default)
    }

    /// The rack view, if the leaders' racks were learnt.
    #[inline]
    pub fn rack_if_any(&self) -> Option<&Rack> {
        self.rack.get()
    }

    /// Points the view at its producer's broker round trips (the first
    /// time only: a topic belongs to one producer).
    pub fn set_brokers(&self, b: Arc<Brokers>) {
        if self.brokers.get().is_none() {
            let _ = self.brokers.set(Box::new(b));
        }
    }

    /// The producer's broker round trips, if the plugin reports them.
    #[inline]
    pub fn brokers(&self) -> Option<&Brokers> {
        self.brokers.get().map(|b| &**b)
    }
}
