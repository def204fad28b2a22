//! Whole-data-set metrics, seeded batching and augmentation, on small
//! hand-checked cases.

use dlc::runtime::batches::{augment, epoch_order};
use dlc::runtime::metrics::{score, MetricValue};
use dlc::runtime::protocol::Augment;
use dlc::runtime::protocol::{EarlyStopping, Schedule};
use dlc::runtime::schedule::{LrSchedule, Stopper, Verdict};
use ndarray::{ArrayD, IxDyn};

fn a(shape: &[usize], v: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
}

#[test]
fn binary_auc_counts_ordered_pairs_and_ties_half() {
    // Positives score 0.9 and 0.4, negatives 0.4 and 0.1: of the four
    // (positive, negative) pairs three are ordered and one tied.
    let pred = a(&[4, 1], &[0.9, 0.4, 0.4, 0.1]);
    let target = a(&[4, 1], &[1.0, 1.0, 0.0, 0.0]);
    assert_eq!(
        score("auc", &pred, &target),
        Some(MetricValue::Scalar(0.875))
    );
}

#[test]
fn confusion_matrix_rows_are_true_classes() {
    let pred = a(&[4, 3], &[5., 0., 0., 0., 5., 0., 0., 5., 0., 0., 0., 5.]);
    let labels = a(&[4], &[0., 1., 2., 2.]);
    let Some(MetricValue::Matrix(m)) = score("confusion_matrix", &pred, &labels) else {
        panic!()
    };
    assert_eq!(m, vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 1, 1]]);
    assert_eq!(
        score("accuracy", &pred, &labels),
        Some(MetricValue::Scalar(0.75))
    );
}

#[test]
fn epoch_order_is_a_seeded_permutation() {
    let o = epoch_order(100, 42, 3, true);
    let mut sorted = o.clone();
    sorted.sort();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    assert_eq!(o, epoch_order(100, 42, 3, true));
    assert_ne!(o, epoch_order(100, 42, 4, true));
    assert_eq!(epoch_order(5, 42, 3, false), [0, 1, 2, 3, 4]);
}

#[test]
fn flips_and_shifts_move_pixels_and_noise_is_seeded() {
    let img = a(&[1, 1, 2, 3], &[1., 2., 3., 4., 5., 6.]);
    // Some step flips the single sample; a flip mirrors each row.
    let flipped = (0..16).map(|step| {
        let mut x = img.clone();
        augment(
            &mut x,
            &[Augment::Flip {
                horizontal: true,
                vertical: false,
            }],
            1,
            step,
        );
        x
    });
    let mirrored = a(&[1, 1, 2, 3], &[3., 2., 1., 6., 5., 4.]);
    assert!(flipped.clone().any(|x| x == mirrored) && flipped.clone().any(|x| x == img));
    let mut shifted = img.clone();
    augment(&mut shifted, &[Augment::Shift { pixels: 1 }], 1, 5);
    let kept: f32 = shifted.iter().sum();
    assert!(kept <= 21.0 && shifted.iter().all(|v| v.fract() == 0.0));
    let (mut n1, mut n2) = (img.clone(), img.clone());
    augment(&mut n1, &[Augment::Noise { std: 0.1 }], 9, 2);
    augment(&mut n2, &[Augment::Noise { std: 0.1 }], 9, 2);
    assert_eq!(n1, n2);
    assert_ne!(n1, img);
}

#[test]
fn schedules_and_plateaus() {
    let step = LrSchedule::new(Some(Schedule::Step {
        every: 2,
        factor: 0.5,
    }));
    assert_eq!(
        [
            step.factor(0),
            step.factor(1),
            step.factor(2),
            step.factor(5)
        ],
        [1.0, 1.0, 0.5, 0.25]
    );
    let cos = LrSchedule::new(Some(Schedule::Cosine { epochs: 4 }));
    assert!((cos.factor(2) - 0.5).abs() < 1e-12 && cos.factor(4).abs() < 1e-12);
    let mut plateau = LrSchedule::new(Some(Schedule::ReduceOnPlateau {
        factor: 0.5,
        patience: 1,
    }));
    for loss in [1.0, 0.9, 0.95, 0.96] {
        plateau.observe(loss);
    }
    assert_eq!(plateau.factor(4), 0.5);
    let mut stop = Stopper::new(EarlyStopping {
        monitor: "val_accuracy".into(),
        patience: 2,
        restore_best: true,
    });
    let verdicts: Vec<Verdict> = [0.5, 0.6, 0.55, 0.58]
        .iter()
        .map(|&v| stop.observe(v))
        .collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Improved,
            Verdict::Improved,
            Verdict::Continue,
            Verdict::Stop
        ]
    );
}
