//! Splitting a stream into a read half and a write half, for two tasks.
//!
//! The halves share the driver (the connection and the transport) behind a
//! `std::sync::Mutex`, locked only inside a poll, for synchronous calls: no
//! lock is ever held across an `.await`, so neither half can hold the other
//! up while it waits.
//!
//! The transport and the timer keep one waker each per direction, the last
//! one registered; with two tasks polling one transport, a plain waker of
//! one task would silently replace the other's. So the halves poll with one
//! shared waker that wakes both: each half registers its own task's waker
//! in a slot of its own, and a readiness wakes both slots. A half woken for
//! nothing polls, finds nothing, and sleeps again.
//!
//! Output is written by whichever half polls next: the write half as it
//! sends and flushes, the read half whenever input owes the peer something
//! (a pong, the close reply) and on each poll. So a pong goes out even if
//! the writing task is idle, and dropping either half leaves the other
//! working: the read half alone still answers pings and closes; the write
//! half alone still sends.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;
use futures_sink::Sink;
use futures_util::task::AtomicWaker;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::driver::Driver;
use crate::error::Error;
use crate::message::Message;

/// The wakers of the two halves' tasks, woken together.
#[derive(Default)]
struct Wakers {
    read: AtomicWaker,
    write: AtomicWaker,
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.read.wake();
        self.write.wake();
    }
}

struct Shared<S> {
    driver: Mutex<Driver<S>>,
    wakers: Arc<Wakers>,
    /// `Waker::from(wakers)`, made once.
    waker: Waker,
}

impl<S> Shared<S> {
    /// The driver, locked for the length of one poll. A half that panicked
    /// while holding it left the driver as consistent as any poll leaves it
    /// (every step is complete or not started), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Driver<S>> {
        self.driver.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The read half of a [`WebSocketStream`](crate::WebSocketStream): a
/// [`Stream`] of messages, cancel-safe as the whole stream is. It also
/// writes what input owes the peer (pongs, the close reply) and runs the
/// connection's timers, so keep it polled.
pub struct ReadHalf<S> {
    shared: Arc<Shared<S>>,
}

/// The write half of a [`WebSocketStream`](crate::WebSocketStream): a
/// [`Sink`] of messages, with the same batching (`feed` + `flush`) and
/// bound on queued output.
pub struct WriteHalf<S> {
    shared: Arc<Shared<S>>,
}

/// Splits a driver: (write half, read half), the order of
/// `StreamExt::split`.
pub(crate) fn split<S>(driver: Driver<S>) -> (WriteHalf<S>, ReadHalf<S>) {
    let wakers = Arc::new(Wakers::default());
    let shared = Arc::new(Shared {
        driver: Mutex::new(driver),
        waker: Waker::from(wakers.clone()),
        wakers,
    });
    (
        WriteHalf {
            shared: shared.clone(),
        },
        ReadHalf { shared },
    )
}

/// The driver back from its two halves, if they are of one stream.
pub(crate) fn reunite<S>(
    write: WriteHalf<S>,
    read: ReadHalf<S>,
) -> Result<Driver<S>, (WriteHalf<S>, ReadHalf<S>)> {
    if !Arc::ptr_eq(&read.shared, &write.shared) {
        return Err((write, read));
    }
    drop(write);
    let shared = Arc::into_inner(read.shared).expect("both halves were given");
    Ok(shared
        .driver
        .into_inner()
        .unwrap_or_else(|e| e.into_inner()))
}

impl<S> ReadHalf<S> {
    /// Whether `other` is the write half of the same stream.
    pub fn is_pair_of(&self, other: &WriteHalf<S>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next message (`StreamExt::next`); cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        self.next().await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let shared = &*self.shared;
        shared.wakers.read.register(cx.waker());
        let mut both = Context::from_waker(&shared.waker);
        shared.lock().poll_next_message(&mut both)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Polls the driver with the shared waker, this task's waker
    /// registered in the write slot.
    fn with_driver<T>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Driver<S>, &mut Context<'_>) -> T,
    ) -> T {
        let shared = &*self.shared;
        shared.wakers.write.register(cx.waker());
        let mut both = Context::from_waker(&shared.waker);
        f(&mut shared.lock(), &mut both)
    }

    /// Sends a message and flushes it (`SinkExt::send`).
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        futures_util::SinkExt::send(self, message).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_driver(cx, Driver::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.shared.lock().start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_driver(cx, Driver::poll_flush)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_driver(cx, Driver::poll_close)
    }
}

impl<S> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<S> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}
