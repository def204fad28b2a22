//! Train-step throughput of the JIT on the peers' workloads (see
//! /work/shared/bench/README.md): the seed CNN at batch 32, the MLP
//! 784-128-10 at batch 32 and 256, LSTM(64) over 28 rows at batch 32, all
//! with Adam 1e-3 on Fashion-MNIST shapes (synthetic data: throughput does
//! not depend on the pixel values), plus batch-1 predict latency. One
//! thread unless `DLC_THREADS` says otherwise.
//!
//! Prints one JSON line per workload: `compile_ms` (train step: fusion,
//! memory plan, Cranelift), `samples_per_s` (batch / median step time over
//! `DLC_STEPS` steps after 5 warm-up steps, parameters carried from step to
//! step), `predict_us` (median of 1,000 batch-1 predict calls), kernel
//! count and arena size. Then two kernel microbenchmarks at n = 256 and
//! 1024: GFLOP/s of a JIT-compiled `n x n` matmul (our `sgemm`) and ns per element of a fused
//! elementwise loop, and GFLOP/s of our `sgemm` at each dispatch level
//! against the `gemm` crate on the same square product
//! (`kernels:small`: on the train steps' own product shapes). Run: `cargo bench --bench step`; choose workloads with
//! `DLC_WORKLOADS=cnn:32,mlp:256,kernels:256`; `DLC_EXPLAIN=1` prints each
//! train step's kernel report to stderr.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use dlc::codegen::{compile, Compiled, In, Options, Out};
use dlc::ir::{DType, Graph, InputKind, UnaryOp};
use dlc::lower::{data_fields, init_value, lower_step, train_spec, Items, StepGraph, StepKind};
use dlc::syntax::ast::Item;

const CNN: &str = r#"
use std.nn.{conv2d, maxpool2d, flatten, dense, dropout}
use std.activations.{relu}
use std.losses.{cross_entropy}
use std.optimizers.{adam}
model Net(x: f32[B, 1, 28, 28]) -> f32[B, 10] {
    x |> conv2d(32, kernel: 3) |> relu |> maxpool2d(2) |> flatten
      |> dense(128) |> relu |> dropout(0.5) |> dense(10)
}
data d { x: f32[N, 1, 28, 28] = idx("a") y: i32[N] = idx("b") }
train Net on d { loss = cross_entropy(Net(x), y) optimizer = adam(lr: 1e-3) }
"#;

const MLP: &str = r#"
use std.nn.{dense}
use std.activations.{relu}
use std.losses.{cross_entropy}
use std.optimizers.{adam}
model Net(x: f32[B, 784]) -> f32[B, 10] { x |> dense(128) |> relu |> dense(10) }
data d { x: f32[N, 784] = idx("a") y: i32[N] = idx("b") }
train Net on d { loss = cross_entropy(Net(x), y) optimizer = adam(lr: 1e-3) }
"#;

const LSTM: &str = r#"
use std.nn.{lstm, dense}
use std.losses.{cross_entropy}
use std.optimizers.{adam}
model Net(x: f32[B, 28, 28]) -> f32[B, 10] { x |> lstm(64) |> dense(10) }
data d { x: f32[N, 28, 28] = idx("a") y: i32[N] = idx("b") }
train Net on d { loss = cross_entropy(Net(x), y) optimizer = adam(lr: 1e-3) }
"#;

fn lower(text: &str, batch: usize, kind: StepKind) -> StepGraph {
    let parsed = dlc::driver::parse_source("bench.dlm", text, PathBuf::from("."));
    assert!(parsed.diags.is_empty(), "bench program has diagnostics");
    let items = Items::new(&parsed.files);
    let user = &parsed.files.last().expect("user file").1;
    let t = user
        .items
        .iter()
        .find_map(|i| {
            if let Item::Train(t) = i {
                Some(t)
            } else {
                None
            }
        })
        .expect("train block");
    let d = user
        .items
        .iter()
        .find_map(|i| if let Item::Data(d) = i { Some(d) } else { None })
        .expect("data block");
    let spec = train_spec(t).expect("spec");
    let fields = data_fields(d).expect("fields");
    lower_step(&items, &spec, &fields, batch, kind).expect("lowering")
}

/// Input buffers: parameters initialised, data synthetic, scalars set.
struct Buffers {
    f: Vec<Vec<f32>>,
    i: Vec<Vec<i32>>,
    of: Vec<Vec<f32>>,
    oi: Vec<Vec<i32>>,
    /// (output index, input index) of every `update:<name>`.
    carry: Vec<(usize, usize)>,
}

fn buffers(c: &Compiled, step: &StepGraph) -> Buffers {
    let init: HashMap<&str, Vec<f32>> = step
        .params
        .iter()
        .map(|p| {
            let v = init_value(&p.init, &p.name, &p.shape, 1);
            (p.name.as_str(), v.iter().copied().collect())
        })
        .collect();
    let mut seed = 0x2545_f491u32;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let mut f = Vec::new();
    let mut i = Vec::new();
    for s in c.inputs() {
        let n = s.len();
        let fv: Vec<f32> = match (init.get(s.name.as_str()), s.name.as_str()) {
            (Some(v), _) => v.clone(),
            (None, "lr") => vec![1e-3],
            (None, "t") => vec![1.0],
            (None, "weights") => vec![1.0; n],
            (None, _) => (0..n).map(|_| (rnd() % 256) as f32 / 255.0).collect(),
        };
        f.push(fv);
        i.push((0..n).map(|_| (rnd() % 10) as i32).collect());
    }
    let carry = c
        .outputs()
        .iter()
        .enumerate()
        .filter_map(|(k, o)| {
            let name = o.name.strip_prefix("update:")?;
            let j = c.inputs().iter().position(|s| s.name == name)?;
            Some((k, j))
        })
        .collect();
    Buffers {
        f,
        i,
        of: c.outputs().iter().map(|s| vec![0.0; s.len()]).collect(),
        oi: c.outputs().iter().map(|s| vec![0; s.len()]).collect(),
        carry,
    }
}

fn run(c: &mut Compiled, b: &mut Buffers) {
    let sigs: Vec<DType> = c.inputs().iter().map(|s| s.dtype).collect();
    let osigs: Vec<DType> = c.outputs().iter().map(|s| s.dtype).collect();
    {
        let ins: Vec<In> = sigs
            .iter()
            .enumerate()
            .map(|(k, d)| match d {
                DType::F32 => In::F32(&b.f[k]),
                DType::I32 => In::I32(&b.i[k]),
            })
            .collect();
        let mut outs: Vec<Out> = osigs
            .iter()
            .zip(b.of.iter_mut().zip(b.oi.iter_mut()))
            .map(|(d, (f, i))| match d {
                DType::F32 => Out::F32(f),
                DType::I32 => Out::I32(i),
            })
            .collect();
        c.run(&ins, &mut outs).expect("run");
    }
    for &(k, j) in &b.carry {
        std::mem::swap(&mut b.f[j], &mut b.of[k]);
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(name: &str, text: &str, batch: usize, opts: &Options, steps: usize) {
    let step = lower(text, batch, StepKind::Train);
    let t0 = Instant::now();
    let mut c = compile(&step.graph, opts).expect("compile");
    let compile_ms = t0.elapsed().as_secs_f64() * 1e3;
    if std::env::var_os("DLC_EXPLAIN").is_some() {
        let report = dlc::codegen::explain(&step.graph, &c.fusion);
        eprintln!("{name} b{batch}:\n{}", dlc::codegen::explain_text(&report));
    }
    let mut b = buffers(&c, &step);
    for _ in 0..5 {
        run(&mut c, &mut b);
    }
    let times: Vec<f64> = (0..steps)
        .map(|_| {
            let t = Instant::now();
            run(&mut c, &mut b);
            t.elapsed().as_secs_f64()
        })
        .collect();
    let step_s = median(times);
    let pred = lower(text, 1, StepKind::Predict);
    let mut pc = compile(&pred.graph, opts).expect("compile predict");
    let mut pb = buffers(&pc, &pred);
    let lat: Vec<f64> = (0..1000)
        .map(|_| {
            let t = Instant::now();
            run(&mut pc, &mut pb);
            t.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "{{\"workload\":\"{name}\",\"batch\":{batch},\"threads\":{},\"nodes\":{},\"kernels\":{},\"arena_kb\":{},\"compile_ms\":{compile_ms:.1},\"step_ms\":{:.3},\"samples_per_s\":{:.0},\"predict_us\":{:.1},\"loss\":{}}}",
        opts.threads,
        step.graph.nodes.len(),
        c.fusion.kernels.len(),
        c.arena_bytes / 1024,
        step_s * 1e3,
        batch as f64 / step_s,
        median(lat) * 1e6,
        loss_of(&c, &b),
    );
}

/// GFLOP/s of one JIT-compiled matmul `[n, n] @ [n, n]` (our `sgemm`),
/// and ns per element of a fused `tanh(x * y + x)` loop over `n * n`
/// elements (Cranelift f32x4 + FMA).
fn kernels(n: usize, opts: &Options) {
    let mut g = Graph::new();
    let a = g
        .input("a", InputKind::Data, &[n, n], DType::F32)
        .expect("input");
    let b = g
        .input("b", InputKind::Data, &[n, n], DType::F32)
        .expect("input");
    let c = g.matmul(a, b).expect("matmul");
    g.output("c", c);
    let gemm_s = time_graph(&g, opts, 20);
    let mut g = Graph::new();
    let x = g
        .input("x", InputKind::Data, &[n, n], DType::F32)
        .expect("input");
    let y = g
        .input("y", InputKind::Data, &[n, n], DType::F32)
        .expect("input");
    let p = g.mul(x, y).expect("mul");
    let q = g.add2(p, x).expect("add");
    let t = g.unary(UnaryOp::Tanh, q).expect("tanh");
    g.output("t", t);
    let ew_s = time_graph(&g, opts, 20);
    println!(
        "{{\"workload\":\"kernels\",\"n\":{n},\"threads\":{},\"gemm_gflops\":{:.1},\"fused_tanh_ns_per_elem\":{:.2}}}",
        opts.threads,
        2.0 * (n * n * n) as f64 / gemm_s / 1e9,
        ew_s / (n * n) as f64 * 1e9,
    );
}

/// A product: `(name, (m, n, k), (lhs transposed, rhs transposed))`.
type Product = (&'static str, (usize, usize, usize), (bool, bool));

/// Products of the train steps.
const SMALL: [Product; 9] = [
    ("lstm_gates", (32, 256, 64), (false, false)),
    ("mlp_dense1", (32, 128, 784), (false, false)),
    ("mlp_dense1_dw", (784, 128, 32), (true, false)),
    ("mlp256_dense1", (256, 128, 784), (false, false)),
    ("predict_dense1", (1, 128, 784), (false, false)),
    ("cnn_conv_fwd", (32, 676, 9), (false, false)),
    ("cnn_conv_dw", (32, 9, 676), (false, true)),
    ("cnn_dense1_dw", (5408, 128, 32), (true, false)),
    ("cnn_dense1_dx", (32, 5408, 128), (false, true)),
];

/// GFLOP/s of one `(m, n, k)` product, ours at every dispatch level and
/// the `gemm` crate (0.19, x86-v4), in the same process: median of runs
/// lasting about 0.2 s in total.
fn versus(name: &str, (m, n, k): (usize, usize, usize), (ta, tb): (bool, bool), threads: usize) {
    use dlc::codegen::sgemm::{sgemm, Level, Mat};
    let a = vec![0.5f32; m * k];
    let b = vec![0.25f32; k * n];
    let mut c = vec![0f32; m * n];
    let lhs = Mat::row_major(a.as_ptr(), if ta { m } else { k }, ta);
    let rhs = Mat::row_major(b.as_ptr(), if tb { k } else { n }, tb);
    let flops = 2.0 * (m * n * k) as f64;
    let runs = ((2e8 / flops) as usize).clamp(5, 2000);
    let mut time = |f: &mut dyn FnMut(*mut f32)| {
        let v = (0..runs + 2)
            .map(|_| {
                let t = Instant::now();
                f(c.as_mut_ptr());
                t.elapsed().as_secs_f64()
            })
            .collect();
        flops / median(v) / 1e9
    };
    let mut fields = Vec::new();
    for level in Level::available() {
        // SAFETY: the buffers have the sizes the strides describe.
        let g = time(&mut |d| unsafe { sgemm(level, (m, n, k), d, n, lhs, rhs, false, threads) });
        fields.push(format!("\"ours_{level:?}\":{g:.1}").to_lowercase());
    }
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: as above; `gemm` takes (column stride, row stride) pairs.
    let g = time(&mut |d| unsafe {
        gemm::gemm(
            m, n, k, d, 1, n as isize, false, lhs.ptr, lhs.cs, lhs.rs, rhs.ptr, rhs.cs, rhs.rs,
            0.0, 1.0, false, false, false, par,
        )
    });
    fields.push(format!("\"gemm_crate\":{g:.1}"));
    println!(
        "{{\"workload\":\"gemm\",\"shape\":\"{name}\",\"mnk\":[{m},{n},{k}],\"threads\":{threads},{}}}",
        fields.join(",")
    );
}

/// Median seconds per run of `g` on constant inputs.
fn time_graph(g: &Graph, opts: &Options, runs: usize) -> f64 {
    let mut c = compile(g, opts).expect("compile");
    let ins: Vec<Vec<f32>> = c.inputs().iter().map(|s| vec![0.5; s.len()]).collect();
    let mut outs: Vec<Vec<f32>> = c.outputs().iter().map(|s| vec![0.0; s.len()]).collect();
    let bound: Vec<In> = ins.iter().map(|v| In::F32(v)).collect();
    let times = (0..runs + 2)
        .map(|_| {
            let mut o: Vec<Out> = outs.iter_mut().map(|v| Out::F32(v)).collect();
            let t = Instant::now();
            c.run(&bound, &mut o).expect("run");
            t.elapsed().as_secs_f64()
        })
        .collect();
    median(times)
}

fn loss_of(c: &Compiled, b: &Buffers) -> f32 {
    c.outputs()
        .iter()
        .position(|s| s.name == "loss")
        .map_or(f32::NAN, |k| b.of[k][0])
}

fn main() {
    let threads = std::env::var("DLC_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let steps = std::env::var("DLC_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let only = std::env::var("DLC_WORKLOADS").unwrap_or_default();
    let opts = Options {
        threads,
        ..Options::default()
    };
    let all = [
        ("cnn", CNN, 32),
        ("mlp", MLP, 32),
        ("mlp", MLP, 256),
        ("lstm", LSTM, 32),
    ];
    for (name, text, batch) in all {
        let tag = format!("{name}:{batch}");
        if only.is_empty() || only.split(',').any(|w| w == tag) {
            bench(name, text, batch, &opts, steps);
        }
    }
    for n in [256, 1024] {
        if only.is_empty() || only.split(',').any(|w| w == format!("kernels:{n}")) {
            kernels(n, &opts);
            versus(&format!("square{n}"), (n, n, n), (false, false), threads);
        }
    }
    if only.is_empty() || only.split(',').any(|w| w == "kernels:small") {
        for (name, dims, t) in SMALL {
            versus(name, dims, t, threads);
        }
    }
}
