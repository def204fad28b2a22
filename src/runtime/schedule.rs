//! Learning-rate schedules and early stopping, epoch by epoch.
//!
//! A schedule gives a factor on the optimizer's written `lr` for each
//! epoch (0-based): `step` multiplies by `factor` every `every` epochs,
//! `exponential` by `rate` each epoch, `cosine` follows half a cosine from
//! 1 to 0 over `epochs`, and `reduce_on_plateau` multiplies by `factor`
//! when the validation loss (the training loss without validation) has not
//! improved for `patience` epochs.

use super::protocol::{EarlyStopping, Schedule};

/// A schedule and what it remembers between epochs.
#[derive(Clone, Debug)]
pub struct LrSchedule {
    schedule: Option<Schedule>,
    /// The plateau schedule's current factor, best loss and wait.
    plateau_scale: f64,
    best: f64,
    wait: usize,
}

impl LrSchedule {
    pub fn new(schedule: Option<Schedule>) -> LrSchedule {
        LrSchedule {
            schedule,
            plateau_scale: 1.0,
            best: f64::INFINITY,
            wait: 0,
        }
    }

    /// The factor on `lr` during `epoch`.
    pub fn factor(&self, epoch: usize) -> f64 {
        match &self.schedule {
            None => 1.0,
            Some(Schedule::Step { every, factor }) => factor.powi((epoch / every) as i32),
            Some(Schedule::Exponential { rate }) => rate.powi(epoch as i32),
            Some(Schedule::Cosine { epochs }) => {
                let progress = (epoch.min(*epochs) as f64) / *epochs as f64;
                0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
            Some(Schedule::ReduceOnPlateau { .. }) => self.plateau_scale,
        }
    }

    /// Tells the schedule an epoch's monitored loss.
    pub fn observe(&mut self, loss: f64) {
        let Some(Schedule::ReduceOnPlateau { factor, patience }) = &self.schedule else {
            return;
        };
        if loss < self.best {
            self.best = loss;
            self.wait = 0;
        } else {
            self.wait += 1;
            if self.wait > *patience {
                self.plateau_scale *= factor;
                self.wait = 0;
            }
        }
    }

    /// The plateau factor, for checkpoints.
    pub fn plateau_scale(&self) -> f64 {
        self.plateau_scale
    }

    pub fn set_plateau_scale(&mut self, scale: f64) {
        self.plateau_scale = scale;
    }
}

/// What early stopping decided after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The monitored value improved: this epoch is the best so far.
    Improved,
    Continue,
    Stop,
}

/// Early stopping: stop after `patience` epochs without improvement.
/// Lower is better, except for metrics where higher is (accuracy, AUC).
#[derive(Clone, Debug)]
pub struct Stopper {
    pub rule: EarlyStopping,
    best: Option<f64>,
    wait: usize,
}

impl Stopper {
    pub fn new(rule: EarlyStopping) -> Stopper {
        Stopper {
            rule,
            best: None,
            wait: 0,
        }
    }

    fn higher_is_better(&self) -> bool {
        let m = self.rule.monitor.trim_start_matches("val_");
        m.contains("accuracy") || m == "auc"
    }

    pub fn observe(&mut self, value: f64) -> Verdict {
        let better = match self.best {
            None => true,
            Some(b) if self.higher_is_better() => value > b,
            Some(b) => value < b,
        };
        if better {
            self.best = Some(value);
            self.wait = 0;
            Verdict::Improved
        } else {
            self.wait += 1;
            if self.wait >= self.rule.patience.max(1) {
                Verdict::Stop
            } else {
                Verdict::Continue
            }
        }
    }
}
