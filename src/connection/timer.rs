//! Sans-IO timers: the caller passes the time in; the connection says when
//! it next needs attention.
//!
//! A command that arms a timer (`close()`, a keepalive ping) happens at a
//! moment the connection does not know (it never reads a clock), so arming
//! marks the timer `Pending`; the next reading of the clock, which the run
//! loop gives right after its commands
//! ([`Connection::poll_timeout`](super::Connection::poll_timeout) or
//! [`Connection::handle_timeout`](super::Connection::handle_timeout), both
//! taking `now`), stamps it with `now + delay`. So a deadline is reported
//! only once it is known, never as a "call me now".

use core::time::Duration;

/// The connection's timers, indexed by what they guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The peer's close frame (after ours); then, once the connection is
    /// closed, the transport being done with: the output written and, for
    /// a client, the server's closing of TCP (§7.1.1). When it fires, the
    /// output still queued is dropped.
    Close = 0,
    /// Time without input after which a keepalive ping is sent.
    Keepalive = 1,
    /// The pong owed for the keepalive ping.
    PongDeadline = 2,
}

const COUNT: usize = 3;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Slot {
    #[default]
    Off,
    Pending(Duration),
    At(Duration),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    slots: [Slot; COUNT],
}

impl Timers {
    /// Arms `timer` to fire `delay` after the next reading of the clock
    /// (the next [`Timers::stamp`]).
    pub(crate) fn arm(&mut self, timer: Timer, delay: Duration) {
        self.slots[timer as usize] = Slot::Pending(delay);
    }

    /// Arms `timer` to fire at `at`.
    pub(crate) fn arm_at(&mut self, timer: Timer, at: Duration) {
        self.slots[timer as usize] = Slot::At(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.slots[timer as usize] = Slot::Off;
    }

    pub(crate) fn is_armed(&self, timer: Timer) -> bool {
        self.slots[timer as usize] != Slot::Off
    }

    /// A reading of the clock: pending timers get their deadlines.
    pub(crate) fn stamp(&mut self, now: Duration) {
        for slot in &mut self.slots {
            if let Slot::Pending(delay) = *slot {
                *slot = Slot::At(now.saturating_add(delay));
            }
        }
    }

    /// The earliest deadline of the stamped timers.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::At(at) => Some(*at),
                Slot::Off | Slot::Pending(_) => None,
            })
            .min()
    }

    /// Takes one stamped timer that has expired at `now`.
    pub(crate) fn take_expired(&mut self, now: Duration) -> Option<Timer> {
        let index = self
            .slots
            .iter()
            .position(|slot| matches!(slot, Slot::At(at) if *at <= now))?;
        self.slots[index] = Slot::Off;
        Some([Timer::Close, Timer::Keepalive, Timer::PongDeadline][index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_timers_are_stamped_at_the_next_reading() {
        let mut timers = Timers::default();
        assert_eq!(timers.next_deadline(), None);
        timers.arm(Timer::Close, Duration::from_secs(5));
        // Not reported before the clock is read: no "call me now".
        assert_eq!(timers.next_deadline(), None);
        timers.stamp(Duration::from_secs(100));
        assert_eq!(timers.next_deadline(), Some(Duration::from_secs(105)));
        assert_eq!(timers.take_expired(Duration::from_secs(104)), None);
        timers.stamp(Duration::from_secs(104));
        assert_eq!(
            timers.take_expired(Duration::from_secs(105)),
            Some(Timer::Close)
        );
        assert_eq!(timers.next_deadline(), None);
        timers.arm_at(Timer::Keepalive, Duration::from_secs(7));
        assert_eq!(timers.next_deadline(), Some(Duration::from_secs(7)));
    }
}
