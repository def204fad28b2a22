//! A tiny classifier for the runtime's end-to-end tests: three Gaussian
//! blobs in the plane. Everything it needs is defined inline.

layer lin(x: f32[B, I], units: O) -> f32[B, O] {
    param w: f32[I, O] = glorot_uniform
    param b: f32[O] = zeros
    x @ w + b
}

fn xent(logits: f32[B, C], y: i32[B]) -> f32[B] {
    let m = max_over(logits, axis: 1, keep: true)
    let lse = log(sum(exp(logits - m), axis: 1)) + sum(m, axis: 1)
    lse - sum(logits * one_hot(y, C), axis: 1)
}

fn acc(logits: f32[B, C], y: i32[B]) -> f32[B] {
    cast(argmax(logits, axis: 1) == y, f32)
}

optimizer adam_(lr: float = 0.001, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-7) {
    state m = zeros
    state v = zeros
    let m2 = b1 * m + (1 - b1) * g
    let v2 = b2 * v + (1 - b2) * g * g
    update m = m2
    update v = v2
    p - lr * (m2 / (1 - b1 ^ t)) / (sqrt(v2 / (1 - b2 ^ t)) + eps)
}

model Net(x: f32[B, 2]) -> f32[B, 3] {
    x |> lin(16) |> tanh |> lin(3)
}

data blobs {
    x: f32[N, 2] = csv("blobs.csv", columns: ["x1", "x2"], rows: 0..96)
    y: i32[N]    = csv("blobs.csv", column: "label", rows: 0..96)
}

data blobs_test {
    x: f32[N, 2] = csv("blobs.csv", columns: ["x1", "x2"], rows: 96..120)
    y: i32[N]    = csv("blobs.csv", column: "label", rows: 96..120)
}

train Net on blobs {
    loss      = xent(Net(x), y)
    optimizer = adam_(lr: 0.05)
    epochs    = 8
    batch     = 10
    validate  = 0.25
    seed      = 7
    metrics   = [acc]
}

evaluate Net on blobs_test {
    metrics = [acc, confusion_matrix]
}
