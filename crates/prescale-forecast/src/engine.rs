//! The forecasting engine: point models, combined by their rolling-origin backtests on the
//! series' own history, with intervals calibrated on the combination's own backtest errors.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use prescale_core::{Forecast, Interval, Level, Series};

use crate::backtest::{self, Origins, mase_scale};
use crate::conformal::{self, OriginErrors};
use crate::point::{Calendar, PointModel};
use crate::{FittedModel, ForecastError, Forecaster, prepare_history};

/// How the engine backtests and combines.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    /// Horizon the backtests score, in hours (the intervals are calibrated for it).
    pub horizon_hours: f64,
    /// Hours between backtest origins.
    pub spacing_hours: f64,
    /// At most this many origins.
    pub origins: usize,
    /// A fit sees at most this many days of history.
    pub train_days: f64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self { horizon_hours: 48.0, spacing_hours: 12.0, origins: 12, train_days: 28.0 }
    }
}

/// A score per candidate, as shown to users and stored with forecasts.
pub type CandidateScore = prescale_core::ModelScore;

/// Turns candidate backtest scores into combination weights (sum 1).
pub trait Combiner: Send + Sync + std::fmt::Debug {
    /// Weights for candidates with these scores (NaN = not backtested).
    fn weights(&self, scores: &[f64], names: &[String]) -> Vec<f64>;
}

/// Keeps the candidates within `ratio` of the best backtest score and weighs them by inverse
/// score; candidates never backtested get no weight unless none was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InverseScore {
    /// Candidates scoring more than `ratio` × the best are left out.
    pub ratio: f64,
}

impl Combiner for InverseScore {
    fn weights(&self, scores: &[f64], _names: &[String]) -> Vec<f64> {
        let best = scores.iter().copied().filter(|s| s.is_finite()).fold(f64::INFINITY, f64::min);
        if !best.is_finite() {
            return vec![1.0 / scores.len().max(1) as f64; scores.len()];
        }
        let raw: Vec<f64> = scores
            .iter()
            .map(|&s| if s.is_finite() && s <= best * self.ratio + 1e-12 { 1.0 / s.max(1e-9) } else { 0.0 })
            .collect();
        let total: f64 = raw.iter().sum();
        raw.iter().map(|w| w / total).collect()
    }
}

/// The engine as a [`Forecaster`].
#[derive(Debug)]
pub struct Engine {
    /// Name shown for the engine, e.g. `auto`.
    pub name: String,
    /// The candidate point models.
    pub candidates: Arc<Vec<Box<dyn PointModel>>>,
    /// How candidates are combined.
    pub combiner: Box<dyn Combiner>,
    /// Backtest settings.
    pub settings: EngineSettings,
}

#[derive(Debug)]
struct FittedEngine {
    id: String,
    values: Vec<f64>,
    cal: Calendar,
    start: DateTime<Utc>,
    step_secs: i64,
    non_negative: bool,
    warnings: Vec<String>,
    members: Vec<(usize, f64)>,
    candidates: Arc<Vec<Box<dyn PointModel>>>,
    errors: Vec<OriginErrors>,
    floor: f64,
    scores: Vec<CandidateScore>,
}

fn mae(e: &[f64]) -> f64 {
    if e.is_empty() { f64::NAN } else { e.iter().map(|v| v.abs()).sum::<f64>() / e.len() as f64 }
}

fn steps(hours: f64, step_secs: i64) -> usize {
    ((hours * 3600.0 / step_secs.max(1) as f64).round() as usize).max(1)
}

impl Forecaster for Engine {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fit(&self, history: &Series) -> Result<Box<dyn FittedModel>, ForecastError> {
        let prepared = prepare_history(history, 2)?;
        let mut warnings = prepared.warnings;
        let cal = Calendar { steps_per_day: history.steps_per_day().max(1) };
        let max_train = steps(self.settings.train_days * 24.0, history.step_secs());
        let y = &prepared.values[prepared.values.len().saturating_sub(max_train)..];
        let o = Origins {
            horizon: steps(self.settings.horizon_hours, history.step_secs()),
            spacing: steps(self.settings.spacing_hours, history.step_secs()),
            count: self.settings.origins,
            max_train,
        };
        let usable: Vec<usize> =
            (0..self.candidates.len()).filter(|&i| self.candidates[i].min_history(cal) <= y.len()).collect();
        if usable.is_empty() {
            return Err(ForecastError::TooShort { needed: 2, got: y.len() });
        }
        let runs: Vec<backtest::Backtest> =
            usable.iter().map(|&i| backtest::run(self.candidates[i].as_ref(), y, cal, &o)).collect();
        let mase: Vec<f64> = runs
            .iter()
            .map(|bt| {
                let per: Vec<f64> = bt
                    .origins
                    .iter()
                    .zip(&bt.errors)
                    .filter(|(_, e)| !e.is_empty())
                    .map(|(&origin, e)| {
                        let scale = mase_scale(&y[origin.saturating_sub(max_train)..origin], cal).max(1e-12);
                        mae(e) / scale
                    })
                    .collect();
                if per.is_empty() { f64::NAN } else { per.iter().sum::<f64>() / per.len() as f64 }
            })
            .collect();
        // Candidates are compared origin by origin against the first one (the baseline, scored at
        // the most origins): a model backtested only at the older origins is not judged on
        // different weather. Score = geometric mean of MAE / baseline MAE at the same origins.
        let scores: Vec<f64> = runs
            .iter()
            .map(|bt| {
                let logs: Vec<f64> = bt
                    .origins
                    .iter()
                    .zip(&bt.errors)
                    .filter_map(|(o, e)| {
                        let p = runs[0].origins.iter().position(|x| x == o)?;
                        let base = mae(&runs[0].errors[p]);
                        let m = mae(e);
                        (base > 0.0 && m.is_finite() && !e.is_empty()).then(|| (m.max(base * 1e-3) / base).ln())
                    })
                    .collect();
                if logs.is_empty() { f64::NAN } else { (logs.iter().sum::<f64>() / logs.len() as f64).exp() }
            })
            .collect();
        let names: Vec<String> = usable.iter().map(|&i| self.candidates[i].name()).collect();
        let weights = self.combiner.weights(&scores, &names);
        let members: Vec<(usize, f64)> =
            usable.iter().zip(&weights).filter(|(_, w)| **w > 0.0).map(|(&i, &w)| (i, w)).collect();
        // Errors of the combination at the origins every member was scored at.
        let mut errors = Vec::new();
        if let Some(first) = runs.first() {
            for &origin in &first.origins {
                let h = o.horizon.min(y.len() - origin);
                let mut comb = vec![0.0; h];
                let mut ok = true;
                for (j, &w) in weights.iter().enumerate() {
                    if w <= 0.0 {
                        continue;
                    }
                    match runs[j].origins.iter().position(|&x| x == origin) {
                        Some(p) => {
                            for (c, v) in comb.iter_mut().zip(&runs[j].forecasts[p]) {
                                *c += w * v;
                            }
                        }
                        None => ok = false,
                    }
                }
                if ok {
                    errors.push(y[origin..origin + h].iter().zip(&comb).map(|(a, p)| a - p).collect());
                }
            }
        }
        if errors.len() < 2 {
            warnings.push(format!(
                "only {} backtest origins fit in {} points of history: intervals are a rough guess",
                errors.len(),
                y.len()
            ));
        }
        let id = if members.len() == 1 {
            self.candidates[members[0].0].name()
        } else {
            let parts: Vec<String> =
                members.iter().map(|(i, w)| format!("{} {:.0}%", self.candidates[*i].name(), w * 100.0)).collect();
            format!("{}[{}]", self.name, parts.join(" + "))
        };
        let floor = mase_scale(y, cal) * 0.1;
        let score_rows = usable
            .iter()
            .zip(&mase)
            .zip(&weights)
            .zip(&runs)
            .map(|(((&i, &s), &w), bt)| CandidateScore {
                model: self.candidates[i].name(),
                mase: s,
                origins: bt.origins.len(),
                weight: w,
            })
            .collect();
        Ok(Box::new(FittedEngine {
            id,
            values: y.to_vec(),
            cal,
            start: history.end(),
            step_secs: history.step_secs(),
            non_negative: prepared.non_negative,
            warnings,
            members,
            candidates: Arc::clone(&self.candidates),
            errors,
            floor,
            scores: score_rows,
        }))
    }
}

impl FittedModel for FittedEngine {
    fn model_id(&self) -> String {
        self.id.clone()
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn predict(&self, horizon: usize, levels: &[Level]) -> Result<Forecast, ForecastError> {
        if horizon == 0 {
            return Err(ForecastError::ZeroHorizon);
        }
        let mut point = vec![0.0; horizon];
        let mut total = 0.0;
        let mut last_err = None;
        for &(i, w) in &self.members {
            match self.candidates[i].forecast(&self.values, self.cal, horizon) {
                Ok(f) => {
                    for (p, v) in point.iter_mut().zip(&f) {
                        *p += w * v;
                    }
                    total += w;
                }
                Err(e) => last_err = Some(e),
            }
        }
        if total <= 0.0 {
            return Err(last_err.unwrap_or(ForecastError::Model("no model could forecast".into())));
        }
        for p in &mut point {
            *p /= total;
            if self.non_negative {
                *p = p.max(0.0);
            }
        }
        let offsets = conformal::calibrate(&self.errors, horizon, levels, self.floor);
        let intervals = offsets
            .into_iter()
            .map(|(level, lo, hi)| {
                let clip = |v: f64| if self.non_negative { v.max(0.0) } else { v };
                Interval {
                    level,
                    lower: point.iter().zip(&lo).map(|(p, d)| clip(p + d)).collect(),
                    upper: point.iter().zip(&hi).map(|(p, d)| clip(p + d)).collect(),
                }
            })
            .collect();
        let mut f = Forecast::new(self.id.clone(), self.start, self.step_secs, point, intervals)?;
        f.scores = self.scores.clone();
        Ok(f)
    }

    fn scores(&self) -> Vec<CandidateScore> {
        self.scores.clone()
    }
}
