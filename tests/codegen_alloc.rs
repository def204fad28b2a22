//! The memory plan's promise: after the first call, `Compiled::run` does
//! no heap allocation. A counting global allocator watches repeated runs.
//! A step without contractions allocates nothing at all; the example train
//! steps (MLP, CNN, LSTM; one thread and two) allocate only in their first
//! run, when the worker team starts and `sgemm`'s per-thread packing space
//! is made.
//!
//! The counter is process-wide, so this file holds one test: the test
//! harness allocates whenever another test starts or ends.

mod run_step;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use dlc::codegen::{compile, In, Options, Out};
use dlc::ir::{DType, Graph, InputKind, Op, UnaryOp};
use run_step::example_train_step;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn step_graph(name: &str, text: &str, batch: usize) -> Graph {
    example_train_step(name, text, batch).graph
}

/// Allocations made by each of `runs` runs of `g` compiled for `threads`.
fn allocations_per_run(g: &Graph, threads: usize, runs: usize) -> Vec<usize> {
    let opts = Options {
        threads,
        ..Options::default()
    };
    let mut c = compile(g, &opts).expect("compile");
    let fin: Vec<Vec<f32>> = c.inputs().iter().map(|s| vec![0.01; s.len()]).collect();
    let iin: Vec<Vec<i32>> = c.inputs().iter().map(|s| vec![1; s.len()]).collect();
    let ins: Vec<In> = c
        .inputs()
        .iter()
        .enumerate()
        .map(|(k, s)| match s.dtype {
            DType::F32 => In::F32(&fin[k]),
            DType::I32 => In::I32(&iin[k]),
        })
        .collect();
    let sigs = c.outputs().to_vec();
    let mut fout: Vec<Vec<f32>> = sigs.iter().map(|s| vec![0.0; s.len()]).collect();
    let mut iout: Vec<Vec<i32>> = sigs.iter().map(|s| vec![0; s.len()]).collect();
    let mut outs: Vec<Out> = sigs
        .iter()
        .zip(fout.iter_mut().zip(iout.iter_mut()))
        .map(|(s, (f, i))| match s.dtype {
            DType::F32 => Out::F32(f),
            DType::I32 => Out::I32(i),
        })
        .collect();
    (0..runs)
        .map(|_| {
            let before = ALLOCS.load(Ordering::SeqCst);
            c.run(&ins, &mut outs).expect("run");
            ALLOCS.load(Ordering::SeqCst) - before
        })
        .collect()
}

/// The examples' train steps, each with matmuls (and the CNN with
/// convolutions and their gradients) through our `sgemm`.
fn train_steps() -> Vec<(&'static str, Graph)> {
    [
        ("mlp", include_str!("../examples/mlp.dlm"), 32),
        ("mnist_cnn", include_str!("../examples/mnist_cnn.dlm"), 8),
        (
            "lstm_classifier",
            include_str!("../examples/lstm_classifier.dlm"),
            8,
        ),
    ]
    .into_iter()
    .map(|(name, text, batch)| (name, step_graph(name, text, batch)))
    .collect()
}

fn contractions(g: &Graph) -> usize {
    g.nodes
        .iter()
        .filter(|n| {
            matches!(
                n.op,
                Op::MatMul { .. }
                    | Op::Conv2d { .. }
                    | Op::Conv2dGradInput { .. }
                    | Op::Conv2dGradWeight { .. }
            )
        })
        .count()
}

fn train_steps_never_allocate_after_the_first(threads: usize) {
    for (name, g) in train_steps() {
        assert!(contractions(&g) > 0, "{name} has no contraction to test");
        let counts = allocations_per_run(&g, threads, 40);
        println!("{name}, {threads} threads: allocations per run {counts:?}");
        // The first run may start the worker threads and give each its
        // packing space.
        assert!(counts[1..].iter().all(|&c| c == 0), "{name}: {counts:?}");
    }
}

fn a_step_without_contractions_never_allocates() {
    let mut g = Graph::new();
    let x = g
        .input("x", InputKind::Data, &[8, 3, 12, 12], DType::F32)
        .unwrap();
    let p = g.add(Op::MaxPool2d { size: 2, stride: 2 }, &[x]).unwrap();
    let e = g.unary(UnaryOp::Exp, p).unwrap();
    let s = g.sum(e, &[1, 3]).unwrap();
    let t = g.transpose(s, &[1, 0]).unwrap();
    g.output("t", t);
    g.output("x", x);
    let counts = allocations_per_run(&g, 1, 4);
    assert_eq!(counts, [0, 0, 0, 0]);
}

#[test]
fn steps_allocate_nothing_after_the_first_run() {
    a_step_without_contractions_never_allocates();
    train_steps_never_allocate_after_the_first(1);
    // Kernels, convolutions and products shared with the worker team.
    train_steps_never_allocate_after_the_first(2);
}
