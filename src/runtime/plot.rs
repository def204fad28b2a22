//! Learning curves: the loss and each scalar metric per epoch, training
//! against validation, one panel each, as PNG or SVG (by the extension).
//!
//! plotters draws text with a TrueType font that it must be given; the
//! first of a few usual system font paths that exists is registered. When
//! none exists the plot is still drawn, without titles or axis labels, and
//! [`learning_curves`] says so in its result.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;

use super::train::EpochRecord;

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot draw {path}: {message}")]
    Draw { path: PathBuf, message: String },
    #[error("{path}: the plot must be a .png or .svg file")]
    Format { path: PathBuf },
    #[error("{path}: there are no epochs to plot")]
    Empty { path: PathBuf },
}

/// Whether the plot has text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Labels {
    Drawn,
    /// No font was found, so the plot has curves but no text.
    NoFont,
}

const FONT_PATHS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers a system font as `sans-serif` once; whether one was found.
fn font() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        FONT_PATHS.iter().any(|p| match std::fs::read(p) {
            // plotters keeps fonts for the life of the process.
            Ok(bytes) => plotters::style::register_font(
                "sans-serif",
                FontStyle::Normal,
                Box::leak(bytes.into_boxed_slice()),
            )
            .is_ok(),
            Err(_) => false,
        })
    })
}

/// One curve: a name and a value per epoch.
type Curve = (String, Vec<(f64, f64)>);

/// The panels: `loss`, then each scalar metric, each with its train and
/// validation curves.
fn panels(history: &[EpochRecord]) -> Vec<(String, Vec<Curve>)> {
    let mut names: Vec<String> = Vec::new();
    for r in history {
        for (n, v) in &r.train {
            if v.scalar().is_some() && !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let series = |prefix: &str| {
                let points: Vec<(f64, f64)> = history
                    .iter()
                    .filter_map(|r| {
                        r.get(&format!("{prefix}{name}"))
                            .map(|v| (r.epoch as f64, v))
                    })
                    .filter(|(_, v)| v.is_finite())
                    .collect();
                (format!("{prefix}{name}"), points)
            };
            let curves = vec![series(""), series("val_")]
                .into_iter()
                .filter(|(_, p)| !p.is_empty())
                .collect();
            (name, curves)
        })
        .collect()
}

/// Draws `history` to `path` (`.png` or `.svg`).
pub fn learning_curves(history: &[EpochRecord], path: &Path) -> Result<Labels, PlotError> {
    if history.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
        });
    }
    let labels = if font() {
        Labels::Drawn
    } else {
        Labels::NoFont
    };
    let panels = panels(history);
    let size = (800, 300 * panels.len().max(1) as u32);
    let err = |e: String| PlotError::Draw {
        path: path.to_path_buf(),
        message: e,
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("png") => draw(
            BitMapBackend::new(path, size).into_drawing_area(),
            &panels,
            labels,
        )
        .map_err(err)?,
        Some("svg") => draw(
            SVGBackend::new(path, size).into_drawing_area(),
            &panels,
            labels,
        )
        .map_err(err)?,
        _ => {
            return Err(PlotError::Format {
                path: path.to_path_buf(),
            })
        }
    }
    Ok(labels)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    panels: &[(String, Vec<Curve>)],
    labels: Labels,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for ((name, curves), area) in panels.iter().zip(areas) {
        let points = curves.iter().flat_map(|(_, p)| p);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut last = 1.0f64;
        for &(x, y) in points {
            lo = lo.min(y);
            hi = hi.max(y);
            last = last.max(x);
        }
        if !lo.is_finite() {
            continue;
        }
        let pad = ((hi - lo) * 0.1).max(1e-6);
        let mut builder = ChartBuilder::on(&area);
        builder
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(50);
        if labels == Labels::Drawn {
            builder.caption(name, ("sans-serif", 18));
        }
        let mut chart = builder
            .build_cartesian_2d(1.0..last.max(2.0), (lo - pad)..(hi + pad))
            .map_err(|e| e.to_string())?;
        let mut mesh = chart.configure_mesh();
        mesh.x_desc("epoch");
        if labels == Labels::NoFont {
            mesh.disable_x_mesh()
                .disable_y_mesh()
                .x_labels(0)
                .y_labels(0);
        }
        mesh.draw().map_err(|e| e.to_string())?;
        for (i, (label, pts)) in curves.iter().enumerate() {
            let colour = if i == 0 { BLUE } else { RED };
            let series = chart
                .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            if labels == Labels::Drawn {
                series
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            }
        }
        if labels == Labels::Drawn {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
    }
    root.present().map_err(|e| e.to_string())
}
