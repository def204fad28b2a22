//! The threads a compiled step shares its work with: one fixed team of
//! workers, started on first use, that run the parts of one job at a time.
//!
//! rayon would do, except for two things a training step cares about.
//! Each job injected into rayon's pool from outside it is queued in a
//! block list that allocates a new block every 63 jobs, so a step with a
//! dozen shared kernels allocates every few steps; and a rayon worker that
//! went to sleep takes a futex wake-up per job. The team allocates nothing
//! after its start, and its workers spin for a while after each job, so
//! the next kernel of the same step finds them awake.
//!
//! A job is `parts` calls of one closure, `body(part)`. The caller and the
//! workers claim parts from a shared counter until none are left, so any
//! part count works with any team size (`--threads 4` on two cores runs
//! four parts on two threads). One job runs at a time: a caller that finds
//! the team busy (another step on another thread, or a job started from
//! inside a part) runs its parts itself, in order.

use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it parks.
const SPIN: Duration = Duration::from_micros(200);

type Body = dyn Fn(usize) + Sync;

struct Team {
    /// Held by the caller for the whole of a job.
    busy: Mutex<()>,
    /// The job's generation and, in its low [`JOINED_BITS`] bits, how many
    /// workers (the first ones) take part in it; stored (release) once the
    /// job below is in place, so one acquire load tells a worker both.
    signal: AtomicUsize,
    /// The current job's closure, its lifetime erased. Written only by the
    /// caller holding `busy` while no worker is inside the job.
    job: UnsafeCell<Option<*const Body>>,
    parts: AtomicUsize,
    /// The next unclaimed part.
    next: AtomicUsize,
    /// Workers that have not finished the current job yet.
    pending: AtomicUsize,
    panicked: AtomicBool,
    /// Workers done with their start-up (see [`work`]).
    ready: AtomicUsize,
    workers: OnceLock<Vec<Thread>>,
}

const JOINED_BITS: u32 = 8;
const MAX_WORKERS: usize = (1 << JOINED_BITS) - 1;

// SAFETY: `job` is written only between jobs (when `pending` is zero and
// under `busy`) and read by workers only after they observed the signal
// that published it; the closure itself is `Sync`.
unsafe impl Sync for Team {}

static TEAM: OnceLock<&'static Team> = OnceLock::new();

fn team() -> &'static Team {
    TEAM.get_or_init(|| {
        let team: &'static Team = Box::leak(Box::new(Team {
            busy: Mutex::new(()),
            signal: AtomicUsize::new(0),
            job: UnsafeCell::new(None),
            parts: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            ready: AtomicUsize::new(0),
            workers: OnceLock::new(),
        }));
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let workers: Vec<Thread> = (1..cores.min(MAX_WORKERS + 1))
            .filter_map(|k| {
                thread::Builder::new()
                    .name(format!("dlc-worker-{k}"))
                    .spawn(move || work(team, k - 1))
                    .ok()
                    .map(|h| h.thread().clone())
            })
            .collect();
        // Whatever the workers allocate at start-up is the first job's.
        while team.ready.load(Ordering::Acquire) < workers.len() {
            thread::yield_now();
        }
        let _ = team.workers.set(workers);
        team
    })
}

/// Runs `body(0)`, …, `body(parts - 1)`, on the team's threads and the
/// caller's, and returns when all have returned.
pub(super) fn run(parts: usize, body: &(dyn Fn(usize) + Sync)) {
    let serial = || (0..parts).for_each(body);
    if parts <= 1 {
        return serial();
    }
    let team = team();
    let workers = team.workers.get().map_or(&[][..], Vec::as_slice);
    let Ok(_busy) = team.busy.try_lock() else {
        return serial();
    };
    let joined = workers.len().min(parts - 1);
    if joined == 0 {
        return serial();
    }
    // SAFETY: we hold `busy` and the previous job's workers are done
    // (`pending` reached zero before it returned), so nobody reads `job`.
    // The erased lifetime is sound because this function does not return
    // before every worker has left the job.
    unsafe {
        let erased: *const Body =
            std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static Body>(body);
        *team.job.get() = Some(erased);
    }
    team.parts.store(parts, Ordering::Relaxed);
    team.next.store(0, Ordering::Relaxed);
    team.pending.store(joined, Ordering::Relaxed);
    let generation = (team.signal.load(Ordering::Relaxed) >> JOINED_BITS) + 1;
    team.signal
        .store(generation << JOINED_BITS | joined, Ordering::Release);
    for w in &workers[..joined] {
        w.unpark();
    }
    // Our own parts may not unwind past the wait below: the workers still
    // hold `body`.
    let mine = panic::catch_unwind(AssertUnwindSafe(|| claim(team, body)));
    while team.pending.load(Ordering::Acquire) != 0 {
        std::hint::spin_loop();
    }
    if let Err(p) = mine {
        panic::resume_unwind(p);
    }
    if team.panicked.swap(false, Ordering::Relaxed) {
        panic!("a part of a shared kernel panicked on a worker thread");
    }
}

/// Runs `body(lo, hi)` for the chunks of `0..n` that `parts` threads
/// would take: each `align` long or a multiple of it (the last one
/// ragged), on the team and the caller's thread.
pub(super) fn chunks(n: usize, parts: usize, align: usize, body: impl Fn(usize, usize) + Sync) {
    if n == 0 {
        return;
    }
    let chunk = n.div_ceil(parts.max(1)).next_multiple_of(align).min(n);
    run(n.div_ceil(chunk), &|c| {
        body(c * chunk, ((c + 1) * chunk).min(n))
    });
}

/// Runs parts until none are left.
fn claim(team: &Team, body: &(dyn Fn(usize) + Sync)) {
    let parts = team.parts.load(Ordering::Relaxed);
    loop {
        let p = team.next.fetch_add(1, Ordering::Relaxed);
        if p >= parts {
            return;
        }
        body(p);
    }
}

/// Worker `index`'s loop: wait for a job it joins, claim parts, report.
fn work(team: &'static Team, index: usize) {
    super::subnormal::flush_forever();
    super::sgemm::warm_thread();
    team.ready.fetch_add(1, Ordering::Release);
    let mut seen = 0;
    loop {
        let mut idle = Instant::now();
        let mut spins = 0u32;
        loop {
            let signal = team.signal.load(Ordering::Acquire);
            if signal != seen {
                seen = signal;
                if index < signal & MAX_WORKERS {
                    break;
                }
            }
            spins += 1;
            if spins.is_multiple_of(64) && idle.elapsed() > SPIN {
                // An `unpark` that came before this returns at once.
                thread::park();
                idle = Instant::now();
            } else {
                std::hint::spin_loop();
            }
        }
        // SAFETY: the signal we acquired published `job`, and it stays in
        // place until `pending` (which we still count in) reaches zero.
        let body = unsafe { (*team.job.get()).map(|p| &*p) };
        if let Some(body) = body {
            if panic::catch_unwind(AssertUnwindSafe(|| claim(team, body))).is_err() {
                team.panicked.store(true, Ordering::Relaxed);
            }
        }
        team.pending.fetch_sub(1, Ordering::Release);
    }
}
