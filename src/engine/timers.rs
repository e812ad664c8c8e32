//! Whether the runtime an execution runs on can give it a timer.
//!
//! An execution's first `step()` needs no timer, so a workflow of Pass/Choice/Succeed/Fail states
//! runs on any executor: a tokio runtime built without `enable_time`, or none at all
//! (`futures::executor::block_on`). Anything further (a Task, a Wait, a retry) runs under the
//! execution's timeout, and tokio panics when a timer is made where there is no time driver.
//! Tokio 1.x has no way to ask whether there is one (tokio-rs/tokio#8361), so [`probe`] makes a
//! timer inside `catch_unwind` and turns that panic into a `States.Runtime` cause.
//!
//! The panic would still print through the process's panic hook: the first probe installs a
//! hook that stays silent for this one probe on this thread and hands every other panic to the
//! hook it replaced. Under `panic = "abort"` nothing can be caught and a runtime without timers
//! aborts, as it did before; build the runtime with `enable_time()` (or `enable_all()`).

use std::cell::Cell;
use std::future::Future;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

thread_local! {
    /// Set while this thread makes a timer that may panic: the hook keeps quiet then.
    static PROBING: Cell<bool> = const { Cell::new(false) };
}

/// Installs the quiet hook once per process.
static QUIET_HOOK: Once = Once::new();

/// The cause an execution fails with when its runtime has no time driver.
pub(crate) const NO_TIME_DRIVER: &str = "The execution needs a timer (for its timeout, a Wait, a retry or a Task's \
TimeoutSeconds), but the tokio runtime it runs on has no time driver: build the runtime with \
enable_time() or enable_all().";

/// The cause an execution fails with when it is polled outside any tokio runtime.
pub(crate) const NO_RUNTIME: &str = "The execution needs a timer (for its timeout, a Wait, a retry or a Task's \
TimeoutSeconds), but it is not running inside a tokio runtime: run it on a tokio runtime built \
with enable_time() or enable_all().";

/// Whether this thread's runtime can make timers: the cause why not.
pub(super) fn probe() -> Result<(), &'static str> {
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !PROBING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    PROBING.with(|p| p.set(true));
    let made = catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO)));
    PROBING.with(|p| p.set(false));
    made.map_err(|_| {
        if tokio::runtime::Handle::try_current().is_ok() {
            NO_TIME_DRIVER
        } else {
            NO_RUNTIME
        }
    })
}

/// How an execution run without a timer ended.
pub(super) enum Untimed<T> {
    Done(T),
    /// It would have to wait for something outside (a task's I/O): without a timer its timeout
    /// could not be kept.
    Waits,
    /// It ran past its deadline while only yielding (a loop of states).
    TimedOut,
}

/// Drives `fut` where no timer can be had: polled again at once while it only yields (its waker
/// woken during the poll: the VM giving the thread back, a Map's futures taking turns), given up
/// on as soon as it waits for anything else, or once `deadline` has passed.
pub(super) async fn untimed<F: Future>(
    mut fut: std::pin::Pin<&mut F>,
    deadline: std::time::Instant,
) -> Untimed<F::Output> {
    std::future::poll_fn(|_cx| {
        loop {
            let flag = Arc::new(Woken(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            if let Poll::Ready(v) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
                return Poll::Ready(Untimed::Done(v));
            }
            if !flag.0.load(Ordering::Acquire) {
                // Whatever it waits for holds our waker, not the caller's: give up on it.
                return Poll::Ready(Untimed::Waits);
            }
            if std::time::Instant::now() >= deadline {
                return Poll::Ready(Untimed::TimedOut);
            }
        }
    })
    .await
}

/// A waker that only records that it was woken.
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Gives the thread back once, waking at once (tokio's `yield_now` defers its wake-up to the
/// scheduler, which [`untimed`] would take for a wait).
pub(super) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
