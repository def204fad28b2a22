//! Layers: the building blocks of models, written on the primitives.
//!
//! Layouts follow the convention of the primitives: images are
//! `[B, C, H, W]` (channels first), sequences `[B, T, D]`. Weights start as
//! Keras' do (Glorot-uniform kernels, orthogonal recurrent kernels, zero
//! biases), and parameter names are `w`, `b`, ... under the layer's
//! instance name (`dense_1.w`).

/// Fully connected layer: `x @ w + b` over the last axis.
layer dense(x: f32[..., I], units: O) -> f32[..., O] {
    /// The kernel, `[inputs, units]`.
    param w: f32[I, O] = glorot_uniform
    /// The bias, one per unit.
    param b: f32[O] = zeros
    x @ w + b
}

/// 2-D convolution with `filters` square kernels of size `kernel`, then a
/// bias per filter. `padding: "valid"` uses no padding; `"same"` pads
/// `(kernel - 1) / 2` zeros on each side (an odd kernel), so the output is
/// `ceil(H / stride)` high as in Keras (which may pad one row more at the
/// bottom). The output size depends on the padding string, so the result's
/// last two dimensions are bound by the body.
layer conv2d(
    x: f32[B, C, H, W],
    filters: F,
    kernel: K = 3,
    stride: S = 1,
    /// `"valid"` (no padding) or `"same"`.
    padding: str = "valid",
) -> f32[B, F, Ho, Wo] {
    /// The kernels, `[filters, channels, kernel, kernel]`.
    param w: f32[F, C, K, K] = glorot_uniform
    /// The bias, one per filter.
    param b: f32[F] = zeros
    let pad = if padding == "same" { (K - 1) / 2 } else { 0 }
    conv2d_raw(x, w, stride: S, pad: pad) + reshape(b, [F, 1, 1])
}

/// Max pooling over `size` x `size` windows moved by `stride` (default: the
/// window size, as in Keras); no padding.
fn maxpool2d(x: f32[B, C, H, W], size: K = 2, stride: S = K)
    -> f32[B, C, floor((H - K) / S) + 1, floor((W - K) / S) + 1] {
    maxpool2d_raw(x, size: K, stride: S)
}

/// Average pooling over `size` x `size` windows moved by `stride` (default:
/// the window size); no padding.
fn avgpool2d(x: f32[B, C, H, W], size: K = 2, stride: S = K)
    -> f32[B, C, floor((H - K) / S) + 1, floor((W - K) / S) + 1] {
    avgpool2d_raw(x, size: K, stride: S)
}

/// Flattens each sample of an image batch to a vector, channel-major (the
/// order of the `[C, H, W]` layout).
fn flatten(x: f32[B, C, H, W]) -> f32[B, C * H * W] {
    reshape(x, [B, C * H * W])
}

/// Dropout: in training, zeroes each element with probability `rate` and
/// scales the rest by `1 / (1 - rate)`; in evaluation and prediction, the
/// identity.
fn dropout(x: f32[...], rate: float) -> f32[...] {
    if training {
        x * bernoulli(x, p: 1.0 - rate) / (1.0 - rate)
    } else {
        x
    }
}

/// Batch normalization of features `[B, C]`: in training, normalizes with
/// the batch's mean and (biased) variance and moves the running statistics
/// toward them by `1 - momentum`; in evaluation, uses the running
/// statistics. Then scales by `gamma` and shifts by `beta`. Keras' defaults.
layer batchnorm(x: f32[B, C], momentum: float = 0.99, eps: float = 1e-3) -> f32[B, C] {
    /// The learned scale.
    param gamma: f32[C] = ones
    /// The learned shift.
    param beta: f32[C] = zeros
    /// The running mean, used in evaluation.
    state moving_mean: f32[C] = zeros
    /// The running variance, used in evaluation.
    state moving_var: f32[C] = ones
    let mu = if training { mean(x, axis: 0) } else { moving_mean }
    let var = if training { mean((x - mu) ^ 2, axis: 0) } else { moving_var }
    update moving_mean = momentum * moving_mean + (1.0 - momentum) * mu
    update moving_var = momentum * moving_var + (1.0 - momentum) * var
    gamma * (x - mu) / sqrt(var + eps) + beta
}

/// Batch normalization of images `[B, C, H, W]`, per channel: statistics
/// over the batch and both spatial axes; otherwise as `batchnorm`.
layer batchnorm2d(x: f32[B, C, H, W], momentum: float = 0.99, eps: float = 1e-3)
    -> f32[B, C, H, W] {
    /// The learned scale, per channel.
    param gamma: f32[C] = ones
    /// The learned shift, per channel.
    param beta: f32[C] = zeros
    /// The running mean, used in evaluation.
    state moving_mean: f32[C] = zeros
    /// The running variance, used in evaluation.
    state moving_var: f32[C] = ones
    let mu = if training { mean(x, axis: [0, 2, 3]) } else { moving_mean }
    let centered = x - reshape(mu, [C, 1, 1])
    let var = if training { mean(centered ^ 2, axis: [0, 2, 3]) } else { moving_var }
    update moving_mean = momentum * moving_mean + (1.0 - momentum) * mu
    update moving_var = momentum * moving_var + (1.0 - momentum) * var
    let scale = reshape(gamma / sqrt(var + eps), [C, 1, 1])
    centered * scale + reshape(beta, [C, 1, 1])
}

/// Layer normalization over the last axis, with a learned scale and shift
/// per feature (Keras' epsilon).
layer layernorm(x: f32[..., D], eps: float = 1e-3) -> f32[..., D] {
    /// The learned scale.
    param gamma: f32[D] = ones
    /// The learned shift.
    param beta: f32[D] = zeros
    let mu = mean(x, axis: -1, keep: true)
    let var = mean((x - mu) ^ 2, axis: -1, keep: true)
    gamma * (x - mu) / sqrt(var + eps) + beta
}

/// Embedding: row `id` of a learned `[vocab, dim]` table for every id.
layer embedding(ids: i32[...], vocab: V, dim: D) -> f32[..., D] {
    /// The table, one row per id.
    param table: f32[V, D] = uniform(0.05)
    gather(table, ids)
}

/// One step of a simple RNN, `tanh(x @ w + b + h @ u)`, given this step's
/// input projection `zx = x @ w + b`. The recurrent layers project the
/// whole sequence at once before their scan: one large product instead of
/// one per step, and its gradient is one product too.
fn simple_rnn_cell(zx: f32[B, H], h: f32[B, H], u: f32[H, H]) -> f32[B, H] {
    tanh(zx + h @ u)
}

/// A simple (Elman) RNN over the time axis of `[B, T, I]`, starting from
/// zeros; the last step's state.
layer simple_rnn(x: f32[B, T, I], units: H) -> f32[B, H] {
    /// The input kernel.
    param w: f32[I, H] = glorot_uniform
    /// The recurrent kernel.
    param u: f32[H, H] = orthogonal
    /// The bias.
    param b: f32[H] = zeros
    let zx = x @ w + b
    scan (h = zeros(B, H)) over zt in zx along 1 {
        simple_rnn_cell(zt, h, u)
    }
}

/// `simple_rnn`, returning the state after every step, `[B, T, H]`.
layer simple_rnn_seq(x: f32[B, T, I], units: H) -> f32[B, T, H] {
    /// The input kernel.
    param w: f32[I, H] = glorot_uniform
    /// The recurrent kernel.
    param u: f32[H, H] = orthogonal
    /// The bias.
    param b: f32[H] = zeros
    let zx = x @ w + b
    collect (h = zeros(B, H)) over zt in zx along 1 {
        simple_rnn_cell(zt, h, u)
    }
}

/// One LSTM step given this step's input projection `zx = x @ w + b`; the
/// gates are packed `[input, forget, cell, output]` as in Keras. The forget
/// gate gets `+ 1`, which is Keras' `unit_forget_bias` written as a fixed
/// offset: the bias then starts at zero and trains the same way.
fn lstm_cell(
    zx: f32[B, 4 * H],
    h: f32[B, H],
    c: f32[B, H],
    u: f32[H, 4 * H],
) -> (f32[B, H], f32[B, H]) {
    let z = zx + h @ u
    let i = sigmoid(z[:, 0:H])
    let f = sigmoid(z[:, H:2 * H] + 1.0)
    let g = tanh(z[:, 2 * H:3 * H])
    let o = sigmoid(z[:, 3 * H:4 * H])
    let c2 = f * c + i * g
    (o * tanh(c2), c2)
}

/// An LSTM over the time axis of `[B, T, I]`, from zero state; the last
/// step's hidden state.
layer lstm(x: f32[B, T, I], units: H) -> f32[B, H] {
    /// The input kernel of the four gates.
    param w: f32[I, 4 * H] = glorot_uniform
    /// The recurrent kernel of the four gates.
    param u: f32[H, 4 * H] = orthogonal
    /// The bias of the four gates.
    param b: f32[4 * H] = zeros
    let zx = x @ w + b
    let (h, _) = scan (h = zeros(B, H), c = zeros(B, H)) over zt in zx along 1 {
        lstm_cell(zt, h, c, u)
    }
    h
}

/// `lstm`, returning the hidden state after every step, `[B, T, H]`.
layer lstm_seq(x: f32[B, T, I], units: H) -> f32[B, T, H] {
    /// The input kernel of the four gates.
    param w: f32[I, 4 * H] = glorot_uniform
    /// The recurrent kernel of the four gates.
    param u: f32[H, 4 * H] = orthogonal
    /// The bias of the four gates.
    param b: f32[4 * H] = zeros
    let zx = x @ w + b
    let (hs, _) = collect (h = zeros(B, H), c = zeros(B, H)) over zt in zx along 1 {
        lstm_cell(zt, h, c, u)
    }
    hs
}

/// One GRU step given this step's input projection `zx = x @ w + b`, with
/// gates packed `[update, reset, candidate]` and the reset gate applied
/// after the recurrent product (Keras' `reset_after`).
fn gru_cell(zx: f32[B, 3 * H], h: f32[B, H], u: f32[H, 3 * H], rb: f32[3 * H]) -> f32[B, H] {
    let zh = h @ u + rb
    let z = sigmoid(zx[:, 0:H] + zh[:, 0:H])
    let r = sigmoid(zx[:, H:2 * H] + zh[:, H:2 * H])
    let n = tanh(zx[:, 2 * H:3 * H] + r * zh[:, 2 * H:3 * H])
    z * h + (1.0 - z) * n
}

/// A GRU over the time axis of `[B, T, I]`, from zero state; the last
/// step's state.
layer gru(x: f32[B, T, I], units: H) -> f32[B, H] {
    /// The input kernel of the three gates.
    param w: f32[I, 3 * H] = glorot_uniform
    /// The recurrent kernel of the three gates.
    param u: f32[H, 3 * H] = orthogonal
    /// The input bias.
    param b: f32[3 * H] = zeros
    /// The recurrent bias.
    param rb: f32[3 * H] = zeros
    let zx = x @ w + b
    scan (h = zeros(B, H)) over zt in zx along 1 {
        gru_cell(zt, h, u, rb)
    }
}

/// `gru`, returning the state after every step, `[B, T, H]`.
layer gru_seq(x: f32[B, T, I], units: H) -> f32[B, T, H] {
    /// The input kernel of the three gates.
    param w: f32[I, 3 * H] = glorot_uniform
    /// The recurrent kernel of the three gates.
    param u: f32[H, 3 * H] = orthogonal
    /// The input bias.
    param b: f32[3 * H] = zeros
    /// The recurrent bias.
    param rb: f32[3 * H] = zeros
    let zx = x @ w + b
    collect (h = zeros(B, H)) over zt in zx along 1 {
        gru_cell(zt, h, u, rb)
    }
}

/// Multi-head self-attention over `[B, T, D]`: `heads` heads of size
/// `D / heads`, scaled dot products, softmax over the keys, and an output
/// projection back to `D`.
layer multi_head_attention(x: f32[B, T, D], heads: N) -> f32[B, T, D] {
    /// The query projection.
    param wq: f32[D, D] = glorot_uniform
    /// The query bias.
    param bq: f32[D] = zeros
    /// The key projection.
    param wk: f32[D, D] = glorot_uniform
    /// The key bias.
    param bk: f32[D] = zeros
    /// The value projection.
    param wv: f32[D, D] = glorot_uniform
    /// The value bias.
    param bv: f32[D] = zeros
    /// The output projection.
    param wo: f32[D, D] = glorot_uniform
    /// The output bias.
    param bo: f32[D] = zeros
    let q = transpose(reshape(x @ wq + bq, [B, T, N, D / N]), [0, 2, 1, 3])
    let k = transpose(reshape(x @ wk + bk, [B, T, N, D / N]), [0, 2, 3, 1])
    let v = transpose(reshape(x @ wv + bv, [B, T, N, D / N]), [0, 2, 1, 3])
    let attention = softmax(q @ k / sqrt(D / N))
    let heads_out = transpose(attention @ v, [0, 2, 1, 3])
    reshape(heads_out, [B, T, D]) @ wo + bo
}

/// Adds the sinusoidal position encoding of "Attention is all you need" to
/// `[B, T, D]`: `sin(t / 10000^(2i / D))` on even features, `cos` on odd.
fn positional_encoding(x: f32[B, T, D]) -> f32[B, T, D] {
    let t = reshape(arange(T), [T, 1])
    let i = arange(D)
    let angle = t * exp(floor(i / 2.0) * (-2.0 * log(10000.0) / D))
    x + where(i % 2.0 == 0.0, sin(angle), cos(angle))
}

/// One post-norm transformer encoder block over `[B, T, D]`: self-attention
/// and a two-layer feed-forward network of width `ff`, each with dropout,
/// a residual connection and layer normalization.
layer transformer_encoder(x: f32[B, T, D], heads: N, ff: F, rate: float = 0.1)
    -> f32[B, T, D] {
    let a = x |> multi_head_attention(N) |> dropout(rate)
    let h = layernorm(x + a)
    let f = h |> dense(F) |> relu |> dense(D) |> dropout(rate)
    layernorm(h + f)
}
