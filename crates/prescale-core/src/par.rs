//! Independent work spread over threads, its results taken in order.
//!
//! The fits of a nightly run (one per series) and of a replay (one per night) are independent
//! and take nearly all of the time; what follows each (storing it, planning on it, saying its
//! warnings) must happen one at a time and in order, so that a run's output does not depend on
//! how many threads it had. [`in_order`] does both: `work` runs on up to `threads` threads, and
//! `take` sees every result on the calling thread, in the items' order, as soon as it and those
//! before it are done.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

/// The threads to use when none are asked for: the machine's (its cgroup's) cores, 1 when they
/// cannot be told.
#[must_use]
pub fn default_threads() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Runs `work(i, &items[i])` for every item on up to `threads` threads (the calling one alone for
/// 1 or a single item) and calls `take(i, result)` on the calling thread for every item in order.
/// Each thread takes the next item not yet started, so a slow item holds back only the results
/// after it from `take`, not the work on them.
///
/// A panic in `work` stops the threads from starting more items and is raised again, with its
/// own payload, on the calling thread once the items already started are done.
pub fn in_order<T, R, W, F>(items: &[T], threads: NonZeroUsize, work: W, mut take: F)
where
    T: Sync,
    R: Send,
    W: Fn(usize, &T) -> R + Sync,
    F: FnMut(usize, R),
{
    let threads = threads.get().min(items.len());
    if threads <= 1 {
        for (i, item) in items.iter().enumerate() {
            take(i, work(i, item));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let panicked: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, stop, panicked, work) = (&next, &stop, &panicked, &work);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    match std::panic::catch_unwind(AssertUnwindSafe(|| work(i, item))) {
                        Ok(r) => {
                            if tx.send((i, r)).is_err() {
                                break;
                            }
                        }
                        Err(payload) => {
                            stop.store(true, Ordering::Relaxed);
                            panicked.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(payload);
                            break;
                        }
                    }
                }
            });
        }
        drop(tx);
        // Results that came before their turn wait here; the channel closes when every thread
        // ended (all done, or stopped by a panic, raised after the scope).
        let mut waiting = BTreeMap::new();
        let mut turn = 0;
        for (i, r) in rx {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&turn) {
                take(turn, r);
                turn += 1;
            }
        }
    });
    if let Some(payload) = panicked.into_inner().unwrap_or_else(PoisonError::into_inner) {
        std::panic::resume_unwind(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(k: usize) -> NonZeroUsize {
        NonZeroUsize::new(k).unwrap()
    }

    #[test]
    fn results_come_in_order_whatever_the_threads() {
        let items: Vec<u64> = (0..200).collect();
        for threads in [1, 2, 3, 8, 500] {
            let mut seen = Vec::new();
            // Uneven work: later items finish first on other threads.
            in_order(
                &items,
                n(threads),
                |i, x| {
                    if i % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    x * x
                },
                |i, r| seen.push((i, r)),
            );
            let want: Vec<(usize, u64)> = items.iter().map(|x| (*x as usize, x * x)).collect();
            assert_eq!(seen, want, "{threads} threads");
        }
    }

    #[test]
    fn work_runs_on_several_threads_at_once() {
        // Two items each wait until the other started: only two threads at once finish them.
        let started = AtomicUsize::new(0);
        let mut done = 0;
        in_order(
            &[0, 1],
            n(2),
            |_, _| {
                started.fetch_add(1, Ordering::SeqCst);
                let t0 = std::time::Instant::now();
                while started.load(Ordering::SeqCst) < 2 {
                    assert!(t0.elapsed().as_secs() < 30, "the other item never started beside this one");
                    std::thread::yield_now();
                }
            },
            |_, ()| done += 1,
        );
        assert_eq!(done, 2);
    }

    #[test]
    fn no_items_no_calls() {
        let items: Vec<u8> = Vec::new();
        in_order(&items, n(4), |_, _| unreachable!(), |_, ()| unreachable!());
    }

    #[test]
    fn a_panic_in_work_reaches_the_caller() {
        let items: Vec<usize> = (0..1000).collect();
        let started = AtomicUsize::new(0);
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            in_order(
                &items,
                n(2),
                |i, _| {
                    started.fetch_add(1, Ordering::SeqCst);
                    assert!(i != 13, "item 13");
                    // Work that takes time, as a fit does: 5 s for the rest on one thread.
                    std::thread::sleep(std::time::Duration::from_millis(5));
                },
                |_, ()| {},
            );
        }));
        // Its own message, not the scope's "a scoped thread panicked".
        let payload = caught.unwrap_err();
        let message = payload.downcast_ref::<String>().map(String::as_str).or(payload.downcast_ref::<&str>().copied());
        assert_eq!(message, Some("item 13"));
        // The threads stopped taking items: not the other 986 run first (a panic hook printing a
        // backtrace takes a while before the stop is set: half of them would take 2.5 s).
        let started = started.load(Ordering::SeqCst);
        assert!(started < 500, "{started} items started");
    }
}
