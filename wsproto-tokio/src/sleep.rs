//! The driver's one tokio sleep, touched as little as possible.
//!
//! The driver looks at its timers on every poll, several times per message,
//! and the deadlines move with every input (the keepalive interval runs
//! from the last input). Resetting a tokio `Sleep` moves its entry in the
//! timer wheel, and polling one checks the task's budget and registers the
//! waker, so per message both cost more than the timers' own arithmetic.
//! `LazySleep` therefore:
//!
//! - moves the sleep only to an earlier deadline: a later one is met by
//!   letting the earlier sleep fire, finding nothing due, and setting it
//!   again, once per deadline rather than once per message;
//! - polls the sleep only when it may have fired (its deadline has passed
//!   on the connection's clock) or when the task polling is not the one
//!   registered (`Waker::will_wake`): a sleep that has not fired keeps the
//!   waker it was last polled with.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// A sleep on a connection's clock (`Duration`s since `origin`).
#[derive(Debug)]
pub(crate) struct LazySleep {
    origin: Instant,
    sleep: Pin<Box<Sleep>>,
    /// The deadline the sleep is set to, until it has passed.
    at: Option<Duration>,
    /// The waker the sleep was last polled with, while it is set.
    waker: Option<Waker>,
}

impl LazySleep {
    pub(crate) fn new(origin: Instant) -> LazySleep {
        LazySleep {
            origin,
            sleep: Box::pin(tokio::time::sleep_until(origin)),
            at: None,
            waker: None,
        }
    }

    /// Arranges for the task to be woken at `at` or before (a deadline set
    /// earlier and not yet passed stays). `Ready` when the deadline set
    /// earlier has passed at `now`: the caller then looks again at what is
    /// due, and calls again with its next deadline.
    pub(crate) fn poll_until(
        &mut self,
        cx: &mut Context<'_>,
        at: Duration,
        now: Duration,
    ) -> Poll<()> {
        if self.at.is_some_and(|set| set <= now) {
            return self.fired();
        }
        if self.at.is_none_or(|set| at < set) {
            self.sleep.as_mut().reset(self.origin + at);
            self.at = Some(at);
            self.waker = None;
        }
        if self
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Pending => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Poll::Ready(()) => self.fired(),
        }
    }

    fn fired(&mut self) -> Poll<()> {
        self.at = None;
        self.waker = None;
        Poll::Ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::future::poll_fn;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// A waker that counts its wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    const S: Duration = Duration::from_secs(1);

    /// Polls once with `waker`, at the clock's current time.
    fn poll(sleep: &mut LazySleep, waker: &Waker, at: Duration) -> Poll<()> {
        let now = sleep.origin.elapsed();
        sleep.poll_until(&mut Context::from_waker(waker), at, now)
    }

    /// Lets the runtime's timer run (time is paused: it advances to the
    /// next deadline when every task is idle).
    async fn advance(by: Duration) {
        tokio::time::sleep(by).await;
    }

    #[tokio::test(start_paused = true)]
    async fn wakes_at_the_deadline_and_then_reports_it_passed() {
        let mut sleep = LazySleep::new(Instant::now());
        let (count, waker) = counting_waker();
        assert!(poll(&mut sleep, &waker, 2 * S).is_pending());
        advance(S).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        advance(S).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(poll(&mut sleep, &waker, 5 * S).is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_deadline_keeps_the_earlier_one() {
        let mut sleep = LazySleep::new(Instant::now());
        let (count, waker) = counting_waker();
        assert!(poll(&mut sleep, &waker, S).is_pending());
        assert!(poll(&mut sleep, &waker, 3 * S).is_pending());
        advance(S).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken at the first");
        assert!(poll(&mut sleep, &waker, 3 * S).is_ready());
        // Set again, to the later one.
        assert!(poll(&mut sleep, &waker, 3 * S).is_pending());
        advance(S).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        advance(S).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_deadline_moves_the_sleep() {
        let mut sleep = LazySleep::new(Instant::now());
        let (count, waker) = counting_waker();
        assert!(poll(&mut sleep, &waker, 3 * S).is_pending());
        assert!(poll(&mut sleep, &waker, S).is_pending());
        advance(S).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn another_task_is_registered_in_place_of_the_first() {
        let mut sleep = LazySleep::new(Instant::now());
        let (first, first_waker) = counting_waker();
        let (second, second_waker) = counting_waker();
        assert!(poll(&mut sleep, &first_waker, S).is_pending());
        assert!(poll(&mut sleep, &second_waker, S).is_pending());
        advance(S).await;
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn wakes_the_task_that_polls_it() {
        let mut sleep = LazySleep::new(Instant::now());
        let start = Instant::now();
        poll_fn(|cx| {
            let now = sleep.origin.elapsed();
            sleep.poll_until(cx, S, now)
        })
        .await;
        assert_eq!(start.elapsed(), S);
    }
}
