//! The backtest table (`backtests/v1`): every origin's forecast beside the actuals, for plots.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, Utc};
use prescale_core::{Forecast, Level};

use crate::StoreError;
use crate::atomic::write_table;

/// Schema tag of backtest files.
pub const BACKTESTS_SCHEMA: &str = "backtests/v1";

/// One row group's worth: a model's forecast from one origin of one series.
#[derive(Debug, Clone, Copy)]
pub struct BacktestRun<'a> {
    /// The series (e.g. `web-prod/requests` or a file name).
    pub series: &'a str,
    /// The model as configured (`auto`, `mstl`, …).
    pub model: &'a str,
    /// The model id the fit resolved to.
    pub fitted: &'a str,
    /// The origin.
    pub origin: DateTime<Utc>,
    /// The forecast.
    pub forecast: &'a Forecast,
    /// Actuals of the same steps.
    pub actual: &'a [f64],
    /// The MASE's scale at this origin (mean |y(t) − y(t − 1 day)| of its training window, of lag
    /// 1 where that is 0; 0 where the window never changed).
    pub scale: f64,
}

/// Writes the runs to one Parquet file (atomically): columns `series`, `model`, `fitted`,
/// `origin`, `ts`, `actual` (null where missing), `point`, `lo_<L>`, `hi_<L>` per level, and
/// `mase_scale` (the origin's; null where its window never changed, so no MASE), with `settings`
/// (the run's horizon, training window, …) as `prescale.*` metadata.
///
/// # Errors
/// I/O, Arrow or Parquet errors.
pub fn write_backtests(
    path: &Path,
    runs: &[BacktestRun<'_>],
    levels: &[Level],
    settings: &[(&str, String)],
) -> Result<(), StoreError> {
    let ts_type = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let mut fields = vec![
        Field::new("series", DataType::Utf8, false),
        Field::new("model", DataType::Utf8, false),
        Field::new("fitted", DataType::Utf8, false),
        Field::new("origin", ts_type.clone(), false),
        Field::new("ts", ts_type, false),
        Field::new("actual", DataType::Float64, true),
        Field::new("point", DataType::Float64, false),
    ];
    for l in levels {
        fields.push(Field::new(format!("lo_{}", l.label()), DataType::Float64, false));
        fields.push(Field::new(format!("hi_{}", l.label()), DataType::Float64, false));
    }
    let (mut series, mut model, mut fitted, mut origin, mut ts, mut actual, mut point) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut scale = vec![];
    let mut bounds: Vec<(Vec<f64>, Vec<f64>)> = vec![(vec![], vec![]); levels.len()];
    for r in runs {
        let f = r.forecast;
        let quantiles: Vec<(Vec<f64>, Vec<f64>)> = levels
            .iter()
            .map(|l| {
                let (ql, qu) = l.quantiles();
                (f.quantile(ql), f.quantile(qu))
            })
            .collect();
        for i in 0..f.len() {
            series.push(r.series);
            model.push(r.model);
            fitted.push(r.fitted);
            origin.push(r.origin.timestamp_millis());
            ts.push(f.ts(i).timestamp_millis());
            actual.push(r.actual.get(i).copied().filter(|v| v.is_finite()));
            point.push(f.point[i]);
            scale.push(Some(r.scale).filter(|v| v.is_finite() && *v > 0.0));
            for ((ql, qu), (lo, hi)) in quantiles.iter().zip(bounds.iter_mut()) {
                lo.push(ql[i]);
                hi.push(qu[i]);
            }
        }
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(series)),
        Arc::new(StringArray::from(model)),
        Arc::new(StringArray::from(fitted)),
        Arc::new(TimestampMillisecondArray::from(origin).with_timezone("UTC")),
        Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
        Arc::new(Float64Array::from(actual)),
        Arc::new(Float64Array::from(point)),
    ];
    for (lo, hi) in bounds {
        columns.push(Arc::new(Float64Array::from(lo)));
        columns.push(Arc::new(Float64Array::from(hi)));
    }
    fields.push(Field::new("mase_scale", DataType::Float64, true));
    columns.push(Arc::new(Float64Array::from(scale)));
    write_table(path, Schema::new(fields), columns, BACKTESTS_SCHEMA, settings)
}
