//! Issue 14 item 2: the shared structures of `expressway serve` under two threads, against the
//! crates the design card names.
//!
//! - `registry`: the state-machine registry (`server::registry::Machines`, an `IndexMap` behind a
//!   std `RwLock`) against a `dashmap::DashMap`, two threads each running a mix of
//!   StartExecution (look the machine up, clone its current revision's `Arc`: what
//!   `versions::resolve` does), DescribeStateMachine (look up, copy name, ARN and definition) and
//!   CreateStateMachine (insert or replace) — 1 create : 9 describe : 90 start, on 100 machines.
//!   The machine entry has the registry's shape (strings, an `Arc` revision, tags).
//! - `log_queue`: the execution log's queue (`server::logs`): two producer threads each sending
//!   jobs of the writer's size to one consumer thread through a bounded channel of 16 384, as
//!   today (std `sync_channel` behind a `Mutex`), std without the mutex (`SyncSender` is `Sync`
//!   since Rust 1.72), and `crossbeam_channel::bounded`.
//!
//! Every measurement is the wall time of both threads' whole batch (`iter_custom`), so per-op
//! figures are that time ÷ (2 × ops).
//!
//! `cargo bench --bench concurrency -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use indexmap::IndexMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

const MACHINES: usize = 100;
const OPS: usize = 20_000;
const THREADS: usize = 2;

#[derive(Clone)]
struct Revision {
    definition: Arc<str>,
    role_arn: String,
    revision_id: String,
    updated: SystemTime,
}

#[derive(Clone)]
struct Machine {
    name: String,
    arn: String,
    created: SystemTime,
    current: Arc<Revision>,
    tags: IndexMap<String, String>,
}

fn machine(i: usize) -> Machine {
    let name = format!("machine-{i}");
    Machine {
        arn: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"),
        name,
        created: SystemTime::now(),
        current: Arc::new(Revision {
            definition: Arc::from(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            revision_id: format!("rev-{i}"),
            updated: SystemTime::now(),
        }),
        tags: IndexMap::new(),
    }
}

/// What DescribeStateMachine copies out of the entry (into its answer's text).
fn describe(m: &Machine) -> String {
    let stamp = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    };
    format!(
        "{} {} {} {} {} {} {} {}",
        m.name,
        m.arn,
        m.current.definition,
        m.current.role_arn,
        m.current.revision_id,
        stamp(m.created),
        stamp(m.current.updated),
        m.tags.len()
    )
}

trait Store: Sync {
    fn create(&self, m: Machine);
    fn start(&self, name: &str) -> Option<Arc<Revision>>;
    fn describe(&self, name: &str) -> Option<String>;
}

struct Locked(RwLock<IndexMap<String, Machine>>);

impl Store for Locked {
    fn create(&self, m: Machine) {
        self.0
            .write()
            .expect("not poisoned")
            .insert(m.name.clone(), m);
    }
    fn start(&self, name: &str) -> Option<Arc<Revision>> {
        self.0
            .read()
            .expect("not poisoned")
            .get(name)
            .map(|m| m.current.clone())
    }
    fn describe(&self, name: &str) -> Option<String> {
        self.0.read().expect("not poisoned").get(name).map(describe)
    }
}

struct Dashed(dashmap::DashMap<String, Machine>);

impl Store for Dashed {
    fn create(&self, m: Machine) {
        self.0.insert(m.name.clone(), m);
    }
    fn start(&self, name: &str) -> Option<Arc<Revision>> {
        self.0.get(name).map(|m| m.current.clone())
    }
    fn describe(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|m| describe(&m))
    }
}

fn workload(store: &dyn Store, names: &[String], fresh: &[Machine], thread: usize) {
    for i in 0..OPS {
        let k = (i * 7 + thread * 13) % MACHINES;
        match i % 100 {
            0 => store.create(fresh[k].clone()),
            1..=9 => drop(black_box(store.describe(&names[k]))),
            _ => drop(black_box(store.start(&names[k]))),
        }
    }
}

fn timed(iters: u64, run: impl Fn() + Sync) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let started = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(&run);
            }
        });
        total += started.elapsed();
    }
    total
}

fn bench_registry(c: &mut Criterion) {
    let names: Vec<String> = (0..MACHINES).map(|i| format!("machine-{i}")).collect();
    let fresh: Vec<Machine> = (0..MACHINES).map(machine).collect();
    let locked = Locked(RwLock::new(
        fresh.iter().map(|m| (m.name.clone(), m.clone())).collect(),
    ));
    let dashed = Dashed(fresh.iter().map(|m| (m.name.clone(), m.clone())).collect());
    let mut group = c.benchmark_group("registry");
    group.throughput(Throughput::Elements((OPS * THREADS) as u64));
    for (label, store) in [("rwlock", &locked as &dyn Store), ("dashmap", &dashed)] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let thread = std::sync::atomic::AtomicUsize::new(0);
                timed(iters, || {
                    let t = thread.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    workload(store, &names, &fresh, t);
                })
            })
        });
    }
    group.finish();
}

/// A job of the log writer's size: an ARN and a few events' worth of strings.
fn job(i: usize) -> (String, Vec<String>) {
    (
        format!("arn:aws:states:us-east-1:123456789012:express:m:{i}"),
        vec![
            String::from("ExecutionStarted"),
            String::from("ExecutionSucceeded"),
        ],
    )
}

const JOBS: usize = 20_000;
const QUEUE: usize = 16_384;

fn bench_log_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("log_queue");
    group.throughput(Throughput::Elements((JOBS * THREADS) as u64));
    group.bench_function("std_mutex_sender", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
                let tx = Mutex::new(tx);
                let started = Instant::now();
                std::thread::scope(|s| {
                    s.spawn(move || {
                        for _ in 0..THREADS * JOBS {
                            let _ = rx.recv();
                        }
                    });
                    let producers: Vec<_> = (0..THREADS)
                        .map(|_| {
                            s.spawn(|| {
                                for i in 0..JOBS {
                                    let _ = tx.lock().expect("not poisoned").send(job(i));
                                }
                            })
                        })
                        .collect();
                    for p in producers {
                        let _ = p.join();
                    }
                });
                total += started.elapsed();
            }
            total
        })
    });
    group.bench_function("std_sender", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
                let started = Instant::now();
                std::thread::scope(|s| {
                    s.spawn(move || {
                        for _ in 0..THREADS * JOBS {
                            let _ = rx.recv();
                        }
                    });
                    let tx = &tx;
                    let producers: Vec<_> = (0..THREADS)
                        .map(|_| {
                            s.spawn(move || {
                                for i in 0..JOBS {
                                    let _ = tx.send(job(i));
                                }
                            })
                        })
                        .collect();
                    for p in producers {
                        let _ = p.join();
                    }
                });
                total += started.elapsed();
            }
            total
        })
    });
    group.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (tx, rx) = crossbeam_channel::bounded(QUEUE);
                let started = Instant::now();
                std::thread::scope(|s| {
                    s.spawn(move || {
                        for _ in 0..THREADS * JOBS {
                            let _ = rx.recv();
                        }
                    });
                    let tx = &tx;
                    let producers: Vec<_> = (0..THREADS)
                        .map(|_| {
                            s.spawn(move || {
                                for i in 0..JOBS {
                                    let _ = tx.send(job(i));
                                }
                            })
                        })
                        .collect();
                    for p in producers {
                        let _ = p.join();
                    }
                });
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench_registry, bench_log_queue);
criterion_main!(benches);
