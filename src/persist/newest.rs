//! Keeping the newest `keep` of a stream of timed items, in memory bounded
//! by `keep` whatever the stream's length: how decoding a store file stays
//! within the store's capacity even when the file claims more.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};

/// The `keep` most recent of a stream of items, by time: a plain vector
/// while no more than `keep` are expected, else a min-heap of `keep` that
/// drops the oldest. Memory is bounded by `keep`, whatever the file claims.
pub(crate) enum Newest<T> {
    All(Vec<(DateTime<Utc>, T)>),
    Heap {
        keep: usize,
        seq: u64,
        heap: BinaryHeap<Reverse<Timed<T>>>,
    },
}

/// An item ordered by its time, then by arrival; the item itself does not
/// take part in the ordering.
pub(crate) struct Timed<T> {
    at: DateTime<Utc>,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Timed<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<T> Eq for Timed<T> {}
impl<T> PartialOrd for Timed<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Timed<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> Newest<T> {
    /// A collector for a stream said to hold `expected` items, of which the
    /// newest `keep` are wanted.
    pub(crate) fn new(expected: u64, keep: usize) -> Newest<T> {
        if expected <= keep as u64 {
            Newest::All(Vec::with_capacity(expected as usize))
        } else {
            Newest::Heap {
                keep,
                seq: 0,
                heap: BinaryHeap::with_capacity(keep + 1),
            }
        }
    }

    /// Offers one item of time `at`; the oldest goes when more than `keep`.
    pub(crate) fn push(&mut self, at: DateTime<Utc>, item: T) {
        match self {
            Newest::All(v) => v.push((at, item)),
            Newest::Heap { keep, seq, heap } => {
                *seq += 1;
                heap.push(Reverse(Timed {
                    at,
                    seq: *seq,
                    item,
                }));
                if heap.len() > *keep {
                    heap.pop();
                }
            }
        }
    }

    /// The items kept, with their times, in no particular order.
    pub(crate) fn into_vec(self) -> Vec<(DateTime<Utc>, T)> {
        match self {
            Newest::All(v) => v,
            Newest::Heap { heap, .. } => {
                heap.into_iter().map(|Reverse(t)| (t.at, t.item)).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keeps_the_newest_and_on_a_tie_the_last_arrived() {
        let t = |s| Utc.timestamp_opt(s, 0).unwrap();
        let mut n = Newest::new(6, 2);
        for (s, item) in [(3, "a"), (1, "b"), (3, "c"), (2, "d"), (0, "e"), (3, "f")] {
            n.push(t(s), item);
        }
        let mut kept = n.into_vec();
        kept.sort();
        assert_eq!(kept, [(t(3), "c"), (t(3), "f")]);
        let mut all = Newest::new(2, 2);
        all.push(t(0), "x");
        all.push(t(1), "y");
        assert_eq!(all.into_vec().len(), 2);
    }
}
