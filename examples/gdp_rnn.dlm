//! The seed's SimpleRNN forecaster on US real GDP (the bundled
//! `macrodata.csv`, quarterly 1959-2009): from the last 8 quarters of
//! growth (100 x the log-difference of `realgdp`), predict the next
//! quarter's. Rows 0..160 train; rows 152..203 test, so the test windows
//! predict only quarters after the training data. Evaluated by MAE against
//! two baselines: the training mean and the last quarter of the window.

use std.nn.{simple_rnn, dense}
use std.losses.{mse, mae}
use std.optimizers.{adam}

/// SimpleRNN(32) over the window, then one output.
model Forecast(x: f32[B, 8, 1]) -> f32[B, 1] {
    x |> simple_rnn(32) |> dense(1)
}

/// Training windows: quarters 0..160.
data gdp_train {
    let g = csv("data/macro/macrodata.csv", column: "realgdp", rows: 0..160)
    let growth = 100 * (log(g[1:]) - log(g[:-1]))
    x: f32[N, 8, 1] = windows(growth, size: 8)
    y: f32[N, 1]    = next(growth, size: 8)
}

/// Test windows: quarters 152..203; their targets follow the training data.
data gdp_test {
    let g = csv("data/macro/macrodata.csv", column: "realgdp", rows: 152..203)
    let growth = 100 * (log(g[1:]) - log(g[:-1]))
    x: f32[N, 8, 1] = windows(growth, size: 8)
    y: f32[N, 1]    = next(growth, size: 8)
}

train Forecast on gdp_train {
    loss           = mse(Forecast(x), y)
    optimizer      = adam(lr: 1e-3)
    epochs         = 200
    batch          = 16
    validate       = 0.1
    seed           = 0
    metrics        = [mae]
    early_stopping = early_stopping(monitor: "val_loss", patience: 20, restore_best: true)
}

evaluate Forecast on gdp_test {
    metrics   = [mae]
    baselines = [mean(gdp_train.y), x[:, -1, :]]
}
