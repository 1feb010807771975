//! When a quiet connection lets its buffers go.
//!
//! An idle connection should cost little more than its own size, so the
//! connection's receive and send buffers are let go once it is quiet
//! ([`Connection::release_idle_buffers`](wsproto::Connection::release_idle_buffers)).
//! Doing so every time a read would block costs a busy connection an
//! allocation and a free per buffer per message: a closed loop of one
//! message in flight finds the socket empty after every message. So the
//! driver asks instead whether a connection had any input for a whole
//! [`QUIET`] period: a busy connection keeps its buffers and pays one timer
//! wake-up per period; an idle one lets them go within two periods, and
//! then holds no timer until input comes again.

use std::time::Duration;

/// How long a connection must see no input before it lets its buffers go.
pub(crate) const QUIET: Duration = Duration::from_millis(500);

/// Where the check stands, on the connection's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// To be armed at the next reading of the clock.
    Unarmed,
    /// Look at the input again at this time.
    Armed(Duration),
    /// The buffers were let go; nothing to do until input comes.
    Released,
}

/// Decides when a connection releases its idle buffers.
#[derive(Debug)]
pub(crate) struct IdleRelease {
    state: State,
    /// Input arrived since the check was armed.
    input_seen: bool,
}

impl IdleRelease {
    pub(crate) fn new() -> IdleRelease {
        IdleRelease {
            state: State::Unarmed,
            input_seen: false,
        }
    }

    /// Input arrived: the connection is not quiet (and, if it had let its
    /// buffers go, it holds some again).
    pub(crate) fn saw_input(&mut self) {
        self.input_seen = true;
        if self.state == State::Released {
            self.state = State::Unarmed;
        }
    }

    /// Whether to release now, at `now`: the check is due and the period
    /// since it was armed brought no input and left no output queued
    /// (`output_idle`). Otherwise a due check is armed again.
    pub(crate) fn is_due(&mut self, now: Duration, output_idle: bool) -> bool {
        let State::Armed(at) = self.state else {
            return false;
        };
        if at > now {
            return false;
        }
        if self.input_seen || !output_idle {
            self.arm(now);
            return false;
        }
        self.state = State::Released;
        true
    }

    /// The time to wake up for the check, arming it (from `now`) if input
    /// came since the buffers were let go; `None` once they are.
    pub(crate) fn deadline(&mut self, now: Duration) -> Option<Duration> {
        match self.state {
            State::Unarmed => {
                self.arm(now);
                Some(now + QUIET)
            }
            State::Armed(at) => Some(at),
            State::Released => None,
        }
    }

    fn arm(&mut self, now: Duration) {
        self.state = State::Armed(now + QUIET);
        self.input_seen = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_quiet_connection_releases_once_then_holds_no_timer() {
        let mut idle = IdleRelease::new();
        assert_eq!(idle.deadline(Duration::ZERO), Some(QUIET));
        assert!(!idle.is_due(QUIET - MS, true), "not before the deadline");
        assert!(idle.is_due(QUIET, true));
        assert_eq!(idle.deadline(QUIET), None);
        assert!(!idle.is_due(QUIET * 3, true), "released: nothing due");
    }

    #[test]
    fn input_during_the_period_postpones_the_release() {
        let mut idle = IdleRelease::new();
        idle.deadline(Duration::ZERO);
        idle.saw_input();
        assert!(!idle.is_due(QUIET, true));
        // Armed again from the check, not from the input.
        assert_eq!(idle.deadline(QUIET), Some(QUIET * 2));
        assert!(idle.is_due(QUIET * 2, true));
    }

    #[test]
    fn queued_output_postpones_the_release() {
        let mut idle = IdleRelease::new();
        idle.deadline(Duration::ZERO);
        assert!(!idle.is_due(QUIET, false));
        assert_eq!(idle.deadline(QUIET), Some(QUIET * 2));
        assert!(idle.is_due(QUIET * 2, true));
    }

    #[test]
    fn input_after_the_release_arms_the_check_again() {
        let mut idle = IdleRelease::new();
        idle.deadline(Duration::ZERO);
        assert!(idle.is_due(QUIET, true));
        idle.saw_input();
        let now = QUIET * 5;
        assert_eq!(idle.deadline(now), Some(now + QUIET));
        // The input came before the check was armed: it does not count.
        assert!(idle.is_due(now + QUIET, true));
    }
}
