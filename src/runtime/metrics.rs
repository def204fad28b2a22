//! Metrics over a whole data set, computed from predictions.
//!
//! Per-sample metrics (`accuracy`, `mae`, ... written in `std/metrics.dlm`)
//! come out of the step graph as `metric:<name>` and are averaged here by
//! [`Running`]. AUC and the confusion matrix cannot be averaged per sample,
//! so they are computed from every prediction and target at the end of an
//! epoch; baselines (predictions that are not the model's) are scored by
//! the same native functions ([`score`]).
//!
//! Shapes: a prediction is `[N, C]` (class scores or logits, `C >= 2`), or
//! `[N]`/`[N, 1]` (one logit or regression value); a class target is `[N]`
//! of integer labels, or `[N, 1]` of 0/1 for a binary problem.

use ndarray::{ArrayD, Axis};

/// A metric's value: a number, or a confusion matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricValue {
    Scalar(f64),
    Matrix(Vec<Vec<u64>>),
}

impl MetricValue {
    pub fn scalar(&self) -> Option<f64> {
        match self {
            MetricValue::Scalar(v) => Some(*v),
            MetricValue::Matrix(_) => None,
        }
    }
}

/// Sums of per-sample values over the batches of an epoch.
#[derive(Default)]
pub struct Running {
    pub samples: usize,
    loss: f64,
    sums: Vec<(String, f64)>,
    preds: Vec<ArrayD<f32>>,
    targets: Vec<ArrayD<f32>>,
}

impl Running {
    /// Adds one batch: its mean loss, its per-sample metrics, and (when a
    /// whole-data-set metric needs them) its predictions and targets.
    pub fn add(
        &mut self,
        n: usize,
        loss: f32,
        per_sample: &[(String, f64)],
        pred_target: Option<(ArrayD<f32>, ArrayD<f32>)>,
    ) {
        self.samples += n;
        self.loss += f64::from(loss) * n as f64;
        for (name, sum) in per_sample {
            match self.sums.iter_mut().find(|(n, _)| n == name) {
                Some((_, s)) => *s += sum,
                None => self.sums.push((name.clone(), *sum)),
            }
        }
        if let Some((p, t)) = pred_target {
            self.preds.push(p);
            self.targets.push(t);
        }
    }

    pub fn mean_loss(&self) -> f64 {
        self.loss / self.samples.max(1) as f64
    }

    /// `loss` and every metric of `names`, in that order.
    pub fn finish(&self, names: &[String]) -> Vec<(String, MetricValue)> {
        let mut out = vec![("loss".to_string(), MetricValue::Scalar(self.mean_loss()))];
        let (pred, target) = (concat(&self.preds), concat(&self.targets));
        for name in names {
            let value = match self.sums.iter().find(|(n, _)| n == name) {
                Some((_, s)) => Some(MetricValue::Scalar(s / self.samples.max(1) as f64)),
                None => pred
                    .as_ref()
                    .zip(target.as_ref())
                    .and_then(|(p, t)| score(name, p, t)),
            };
            if let Some(v) = value {
                out.push((name.clone(), v));
            }
        }
        out
    }
}

fn concat(parts: &[ArrayD<f32>]) -> Option<ArrayD<f32>> {
    let views: Vec<_> = parts.iter().map(|a| a.view()).collect();
    ndarray::concatenate(Axis(0), &views).ok()
}

/// A metric computed natively from predictions, or `None` when `name` has
/// no native definition.
pub fn score(name: &str, pred: &ArrayD<f32>, target: &ArrayD<f32>) -> Option<MetricValue> {
    let n = target.shape().first().copied().unwrap_or(0).max(1) as f64;
    let pred = pred
        .broadcast(target.raw_dim())
        .map(|b| b.to_owned())
        .unwrap_or_else(|| pred.clone());
    let scalar = |v: f64| Some(MetricValue::Scalar(v));
    match name {
        "mae" | "mse" if pred.shape() == target.shape() => {
            let per: f64 = pred
                .iter()
                .zip(target)
                .map(|(p, t)| {
                    let d = f64::from(p - t);
                    if name == "mae" {
                        d.abs()
                    } else {
                        d * d
                    }
                })
                .sum();
            scalar(per / pred.len().max(1) as f64)
        }
        "accuracy" | "binary_accuracy" => {
            let (classes, labels) = (classes(&pred), labels(target));
            let hits = classes.iter().zip(&labels).filter(|(c, l)| c == l).count();
            scalar(hits as f64 / n)
        }
        "auc" => auc(&pred, target).map(MetricValue::Scalar),
        "confusion_matrix" => Some(MetricValue::Matrix(confusion(&pred, target))),
        _ => None,
    }
}

/// The predicted class of each sample: the argmax of `[N, C]`, or a
/// logit's sign for `[N]`/`[N, 1]`.
fn classes(pred: &ArrayD<f32>) -> Vec<usize> {
    let rows = pred.shape().first().copied().unwrap_or(0);
    let c = pred.len() / rows.max(1);
    let flat: Vec<f32> = pred.iter().copied().collect();
    flat.chunks(c.max(1))
        .map(|row| {
            if c == 1 {
                usize::from(row[0] > 0.0)
            } else {
                let mut best = 0;
                for (i, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = i;
                    }
                }
                best
            }
        })
        .collect()
}

fn labels(target: &ArrayD<f32>) -> Vec<usize> {
    target.iter().map(|&v| v.max(0.0) as usize).collect()
}

/// Counts: row = true class, column = predicted class.
fn confusion(pred: &ArrayD<f32>, target: &ArrayD<f32>) -> Vec<Vec<u64>> {
    let (p, t) = (classes(pred), labels(target));
    let k = p
        .iter()
        .chain(&t)
        .max()
        .map_or(1, |m| m + 1)
        .max(pred.len() / pred.shape().first().copied().unwrap_or(1).max(1));
    let mut m = vec![vec![0u64; k]; k];
    for (c, l) in p.iter().zip(&t) {
        m[*l][*c] += 1;
    }
    m
}

/// Area under the ROC curve: of one score against 0/1 labels (binary), or
/// the mean one-vs-rest AUC of the softmax of `[N, C]` scores.
fn auc(pred: &ArrayD<f32>, target: &ArrayD<f32>) -> Option<f64> {
    let rows = pred.shape().first().copied().unwrap_or(0);
    let c = pred.len() / rows.max(1);
    let labels = labels(target);
    if c <= 1 {
        let scores: Vec<f32> = pred.iter().copied().collect();
        return binary_auc(&scores, &labels.iter().map(|&l| l == 1).collect::<Vec<_>>());
    }
    let flat: Vec<f32> = pred.iter().copied().collect();
    let probs: Vec<Vec<f32>> = flat
        .chunks(c)
        .map(|row| {
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f32> = row.iter().map(|v| (v - m).exp()).collect();
            let s: f32 = e.iter().sum();
            e.into_iter().map(|v| v / s).collect()
        })
        .collect();
    let per_class: Vec<f64> = (0..c)
        .filter_map(|k| {
            let scores: Vec<f32> = probs.iter().map(|p| p[k]).collect();
            binary_auc(&scores, &labels.iter().map(|&l| l == k).collect::<Vec<_>>())
        })
        .collect();
    (!per_class.is_empty()).then(|| per_class.iter().sum::<f64>() / per_class.len() as f64)
}

/// The Mann-Whitney statistic with ties counted half; `None` when one
/// class is absent.
fn binary_auc(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| positive[idx[k]]).count() as f64 * mid;
        i = j + 1;
    }
    let pos = positive.iter().filter(|&&p| p).count() as f64;
    let neg = positive.len() as f64 - pos;
    (pos > 0.0 && neg > 0.0).then(|| (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}
