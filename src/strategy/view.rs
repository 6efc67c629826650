//! A topic's view: what placement is told about the topic's partitions
//! from outside it, as franz-go's client feeds its partitioners. Fed by
//! the plugin (each partition's leader and rack from its leader thread,
//! the producer's brokers' round trips from its probes) and by
//! acknowledgements (a delivered message's partition had a leader); read
//! by the keyless strategies, through usable.rs, and by adaptive. Nothing
//! in it is a strategy's own state: that lives in the strategy's module
//! (adaptive's `Load`, hot keys' `HotKeys`, each thread's `Lane`).

use super::available::Availability;
use super::backlog::Brokers;
use super::leaders::Leaders;
use super::rack::Rack;
use once_cell::race::OnceBox;
use std::sync::Arc;

/// What is known of one topic's partitions, shared by every thread.
pub struct View {
    /// Whether its leaders are known yet, and which (available.rs).
    pub availability: Availability,
    /// Each partition's leader (leaders.rs), made when first learnt.
    leaders: OnceBox<Leaders>,
    /// The partitions in the client's rack (rack.rs), made when first learnt.
    rack: OnceBox<Rack>,
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
            leaders: OnceBox::new(),
            rack: OnceBox::new(),
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

    /// The rack view, to be written (made on first use).
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
