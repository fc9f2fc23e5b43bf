//! The simulation table (`simulations/v2`): demand and capacity per policy and minute, for plots.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int32Array, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, Duration, Utc};

use crate::StoreError;
use crate::atomic::write_table;

/// Schema tag of simulation files.
pub const SIMULATIONS_SCHEMA: &str = "simulations/v2";

/// One policy's replay: per minute, (serving, paid) instances.
#[derive(Debug, Clone, Copy)]
pub struct SimulationRun<'a> {
    /// The policy.
    pub policy: &'a str,
    /// Per minute from the start: instances serving, instances paid (serving and booting).
    pub instances: &'a [(u32, u32)],
    /// Per minute from the start: the floor (`MinSize`) in force; empty where not known (the
    /// column then holds nulls).
    pub floors: &'a [u32],
}

/// Writes the replays to one Parquet file (atomically), one row per policy and minute: `policy`,
/// `ts`, `demand`, `held` (the trace was missing or negative there: `demand` is the value before,
/// held), `serving`, `instances` (paid, booting included), `capacity` (serving ×
/// `capacity_per_instance`, the load they serve at 100 %), `floor` (the `MinSize` in force: a
/// scheduled floor, or the group's minimum). `settings` (name, value) go to the
/// file's key-value metadata as `prescale.NAME` (the replay's target, bounds, boot time), for
/// readers that recompute its figures.
///
/// # Errors
/// I/O, Arrow or Parquet errors.
pub fn write_simulations(
    path: &Path,
    start: DateTime<Utc>,
    demand: &[f64],
    held: &[bool],
    capacity_per_instance: f64,
    runs: &[SimulationRun<'_>],
    settings: &[(&str, String)],
) -> Result<(), StoreError> {
    let ts_type = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let fields = vec![
        Field::new("policy", DataType::Utf8, false),
        Field::new("ts", ts_type, false),
        Field::new("demand", DataType::Float64, false),
        Field::new("held", DataType::Boolean, false),
        // Signed, so that a reader's differences (`instances - serving`, a fall) do not wrap; v1
        // held them unsigned.
        Field::new("serving", DataType::Int32, false),
        Field::new("instances", DataType::Int32, false),
        Field::new("capacity", DataType::Float64, false),
        Field::new("floor", DataType::Int32, true),
    ];
    let (mut policy, mut ts, mut load, mut kept, mut serving, mut paid, mut capacity, mut floor) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let signed = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    for r in runs {
        for (m, (d, (s, p))) in demand.iter().zip(r.instances).enumerate() {
            policy.push(r.policy);
            ts.push((start + Duration::minutes(m as i64)).timestamp_millis());
            load.push(*d);
            kept.push(held.get(m).copied().unwrap_or(false));
            serving.push(signed(*s));
            paid.push(signed(*p));
            capacity.push(f64::from(*s) * capacity_per_instance);
            floor.push(r.floors.get(m).map(|f| signed(*f)));
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(policy)),
        Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
        Arc::new(Float64Array::from(load)),
        Arc::new(BooleanArray::from(kept)),
        Arc::new(Int32Array::from(serving)),
        Arc::new(Int32Array::from(paid)),
        Arc::new(Float64Array::from(capacity)),
        Arc::new(Int32Array::from(floor)),
    ];
    write_table(path, Schema::new(fields), columns, SIMULATIONS_SCHEMA, settings)
}
