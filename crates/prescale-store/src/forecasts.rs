use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema};
use chrono::{DateTime, TimeZone, Utc};
use parquet::arrow::ArrowWriter;
use prescale_core::{Forecast, Interval, Level, MetricId};

use crate::atomic::write_atomic;
use crate::metrics::{RowHash, open_checked, ts_field, writer_props};
use crate::{StoreError, path_component};

/// Schema tag of forecast files.
pub const FORECASTS_SCHEMA: &str = "forecasts/v1";

/// The latest forecast per series, under `ROOT/forecasts/v1/`.
#[derive(Debug, Clone)]
pub struct ForecastTable {
    root: PathBuf,
}

impl ForecastTable {
    /// A table rooted at the store root `root`.
    pub fn new(root: impl AsRef<Path>) -> Self {
        Self { root: root.as_ref().to_path_buf() }
    }

    /// The file of a series' forecast.
    pub fn path(&self, id: &MetricId) -> PathBuf {
        self.root
            .join("forecasts")
            .join("v1")
            .join(path_component(&id.group))
            .join(format!("{}.parquet", path_component(&id.metric)))
    }

    /// Writes `forecast` as the series' latest forecast (atomically replacing the previous one).
    ///
    /// # Errors
    /// I/O, Arrow or Parquet errors.
    pub fn write(&self, id: &MetricId, forecast: &Forecast, issued_at: DateTime<Utc>) -> Result<PathBuf, StoreError> {
        let path = self.path(id);
        let mut fields = vec![ts_field(), Field::new("point", DataType::Float64, false)];
        let ts: Vec<i64> = (0..forecast.len()).map(|i| forecast.ts(i).timestamp_millis()).collect();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
            Arc::new(Float64Array::from(forecast.point.clone())),
        ];
        for iv in &forecast.intervals {
            let l = iv.level.label();
            fields.push(Field::new(format!("lo_{l}"), DataType::Float64, false));
            fields.push(Field::new(format!("hi_{l}"), DataType::Float64, false));
            columns.push(Arc::new(Float64Array::from(iv.lower.clone())));
            columns.push(Arc::new(Float64Array::from(iv.upper.clone())));
        }
        let meta = HashMap::from([
            ("prescale.schema".to_string(), FORECASTS_SCHEMA.to_string()),
            ("prescale.group".to_string(), id.group.clone()),
            ("prescale.metric".to_string(), id.metric.clone()),
            ("prescale.model".to_string(), forecast.model.clone()),
            ("prescale.step_secs".to_string(), forecast.step_secs.to_string()),
            ("prescale.issued_at".to_string(), issued_at.to_rfc3339()),
        ]);
        let mut meta = meta;
        if !forecast.scores.is_empty() {
            let scores = serde_json::to_string(&forecast.scores).map_err(|_| StoreError::Schema {
                path: path.clone(),
                found: "unencodable backtest scores".into(),
                expected: FORECASTS_SCHEMA,
            })?;
            meta.insert("prescale.scores".into(), scores);
        }
        if let Some(r) = forecast.weekend_ratio {
            meta.insert("prescale.weekend_ratio".into(), r.to_string());
        }
        if let Some(m) = forecast.blend_mase {
            meta.insert("prescale.blend_mase".into(), m.to_string());
        }
        if let Some(n) = forecast.blend_origins {
            meta.insert("prescale.blend_origins".into(), n.to_string());
        }
        meta.insert(RowHash::KEY.into(), forecast_rows_hash(forecast).hex());
        // A forecast of another prescale version (one rolled back from) is replaced, as every
        // night replaces the last: fitted again from the load, which the metric store keeps. Said.
        if let Err(StoreError::Schema { found, .. }) = open_checked(&path, FORECASTS_SCHEMA) {
            let what = if found.starts_with("forecasts/") {
                format!("a forecast of schema {found:?} (another prescale version's)")
            } else {
                format!("a file of schema {found:?}, no forecast,")
            };
            tracing::warn!("{}: replacing {what} with this version's forecast ({FORECASTS_SCHEMA})", path.display());
        }
        // On the Arrow schema too, for pandas and pyarrow readers (see `atomic::write_table`).
        let schema = Arc::new(Schema::new(fields).with_metadata(meta.clone()));
        let batch = RecordBatch::try_new(schema.clone(), columns)
            .map_err(|source| StoreError::Arrow { path: path.clone(), source })?;
        write_atomic(&path, |f| {
            let mut w = ArrowWriter::try_new(f, schema, Some(writer_props(meta)))
                .map_err(|source| StoreError::Parquet { path: path.clone(), source })?;
            w.write(&batch).map_err(|source| StoreError::Parquet { path: path.clone(), source })?;
            w.close().map_err(|source| StoreError::Parquet { path: path.clone(), source })?;
            Ok(())
        })?;
        Ok(path)
    }

    /// Reads a series' latest forecast and when it was issued.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is none; other variants for unreadable files.
    pub fn read(&self, id: &MetricId) -> Result<(Forecast, DateTime<Utc>), StoreError> {
        let path = self.path(id);
        if !path.exists() {
            return Err(StoreError::NotFound { id: id.to_string(), path });
        }
        let (builder, meta) = open_checked(&path, FORECASTS_SCHEMA)?;
        let bad = |what: &str| StoreError::Damaged { path: path.clone(), what: what.to_string() };
        let step: i64 = meta.get("prescale.step_secs").and_then(|s| s.parse().ok()).ok_or_else(|| bad("no step"))?;
        let model = meta.get("prescale.model").cloned().unwrap_or_default();
        let issued = meta
            .get("prescale.issued_at")
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| bad("no issued_at"))?;
        let levels: Vec<(String, Level)> = builder
            .schema()
            .fields()
            .iter()
            .filter_map(|f| f.name().strip_prefix("lo_").map(str::to_string))
            .filter_map(|l| l.parse::<f64>().ok().and_then(|v| Level::new(v / 100.0).ok()).map(|lv| (l, lv)))
            .collect();
        let reader = builder.build().map_err(|source| StoreError::Parquet { path: path.clone(), source })?;
        let mut ts = Vec::new();
        let mut point = Vec::new();
        let mut bounds: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); levels.len()];
        for batch in reader {
            let batch = batch.map_err(|source| StoreError::Arrow { path: path.clone(), source })?;
            let col =
                |name: &str| batch.column_by_name(name).and_then(|c| c.as_primitive_opt::<Float64Type>().cloned());
            let t = batch
                .column_by_name("ts")
                .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>().cloned())
                .ok_or_else(|| bad("no ts"))?;
            ts.extend(t.values().iter().copied());
            point.extend(col("point").ok_or_else(|| bad("no point"))?.values().iter().copied());
            for ((label, _), (lo, hi)) in levels.iter().zip(bounds.iter_mut()) {
                lo.extend(col(&format!("lo_{label}")).ok_or_else(|| bad("missing lo"))?.values().iter().copied());
                hi.extend(col(&format!("hi_{label}")).ok_or_else(|| bad("missing hi"))?.values().iter().copied());
            }
        }
        let start = ts.first().and_then(|ms| Utc.timestamp_millis_opt(*ms).single()).ok_or_else(|| bad("no rows"))?;
        let intervals = levels
            .into_iter()
            .zip(bounds)
            .map(|((_, level), (lower, upper))| Interval { level, lower, upper })
            .collect();
        if ts.windows(2).any(|w| w[1] - w[0] != step * 1000) {
            return Err(bad("its timestamps are off the grid"));
        }
        let mut forecast = Forecast::new(model, start, step, point, intervals)?;
        forecast_rows_hash(&forecast).check(&path, &meta)?;
        if let Some(text) = meta.get("prescale.scores") {
            forecast.scores = serde_json::from_str(text).map_err(|_| bad("unreadable scores"))?;
        }
        if let Some(text) = meta.get("prescale.weekend_ratio") {
            forecast.weekend_ratio = Some(
                text.parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0)
                    .ok_or_else(|| bad("unreadable weekend ratio"))?,
            );
        }
        if let Some(text) = meta.get("prescale.blend_mase") {
            forecast.blend_mase = Some(
                text.parse::<f64>()
                    .ok()
                    .filter(|m| m.is_finite() && *m >= 0.0)
                    .ok_or_else(|| bad("unreadable score of the blend"))?,
            );
        }
        if let Some(text) = meta.get("prescale.blend_origins") {
            forecast.blend_origins =
                Some(text.parse::<usize>().ok().ok_or_else(|| bad("unreadable origins of the blend's score"))?);
        }
        Ok((forecast, issued))
    }
}

/// The checksum of a forecast's rows ([`RowHash`]): each step's time, point and bounds.
fn forecast_rows_hash(f: &Forecast) -> RowHash {
    let mut h = RowHash::new();
    for i in 0..f.len() {
        h.word(f.ts(i).timestamp_millis().cast_unsigned());
        h.value(f.point[i]);
        for iv in &f.intervals {
            h.value(iv.lower[i]);
            h.value(iv.upper[i]);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forecast_round_trips_through_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let table = ForecastTable::new(dir.path());
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let iv = |l: f64, d: f64| Interval {
            level: Level::new(l).unwrap(),
            lower: vec![1.0 - d, 2.0 - d],
            upper: vec![1.0 + d, 2.0 + d],
        };
        let mut f =
            Forecast::new("seasonal-naive(day)", t0, 300, vec![1.0, 2.0], vec![iv(0.8, 0.5), iv(0.975, 1.0)]).unwrap();
        f.scores = vec![prescale_core::ModelScore {
            model: "mstl(day)".into(),
            mase: 0.7,
            origins: 5,
            weight: 1.0,
            reference: false,
        }];
        f.weekend_ratio = Some(0.61);
        f.blend_mase = Some(0.55);
        f.blend_origins = Some(6);
        let id = MetricId::new("web prod", "requests");
        table.write(&id, &f, t0).unwrap();
        let (back, issued) = table.read(&id).unwrap();
        assert_eq!(back, f);
        assert_eq!(issued, t0);
    }
}
