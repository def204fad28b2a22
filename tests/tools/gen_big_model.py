#!/usr/bin/env python3
"""Prints a generated dlm program of about LINES lines (default 1000) for
timing `dlc check`: residual blocks written as layers, a model that chains
them, a data block on the bundled MNIST subset and a train block.

    python3 tests/tools/gen_big_model.py 1000 > examples/data/../big.dlm
    hyperfine 'target/release/dlc check big.dlm'
"""
import sys

lines_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
out = []
blocks = 0
while len(out) < lines_wanted - 40:
    i = blocks
    out += [
        f"/// Residual block {i}: two projections, a norm and a skip.",
        f"layer block{i}(x: f32[B, D], hidden: H) -> f32[B, D] {{",
        f"    param w1: f32[D, H] = glorot_uniform",
        f"    param b1: f32[H] = zeros",
        f"    param w2: f32[H, D] = glorot_uniform",
        f"    param b2: f32[D] = zeros",
        f"    let h: f32[B, H] = relu(x @ w1 + b1)",
        f"    let y = h @ w2 + b2",
        f"    layernorm(x + dropout(y, 0.1))",
        f"}}",
        "",
    ]
    blocks += 1
chain = " |> ".join(f"block{i}({32 + (i % 4) * 16})" for i in range(blocks))
out += [
    "model Big(x: f32[B, 784]) -> f32[B, 10] {",
    "    let h = x |> dense(128) |> relu",
]
# Split the chain over several lines, a few blocks per line.
calls = [f"block{i}({32 + (i % 4) * 16})" for i in range(blocks)]
for k in range(0, len(calls), 4):
    out.append("    let h = h |> " + " |> ".join(calls[k:k + 4]))
out += [
    "    h |> dense(10)",
    "}",
    "",
    "data mnist {",
    '    x: f32[N, 784] = idx("data/mnist-10k/train-images-idx3-ubyte.gz") / 255',
    '    y: i32[N]      = idx("data/mnist-10k/train-labels-idx1-ubyte.gz")',
    "}",
    "",
    "train Big on mnist {",
    "    loss      = cross_entropy(Big(x), y)",
    "    optimizer = adam(lr: 1e-3)",
    "    epochs    = 10",
    "    batch     = 32",
    "    validate  = 0.1",
    "    metrics   = [accuracy]",
    "}",
]
print("\n".join(out))
