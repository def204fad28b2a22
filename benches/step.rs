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
//! count and arena size. Run: `cargo bench --bench step`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use dlc::codegen::{compile, Compiled, In, Options, Out};
use dlc::ir::DType;
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
}
