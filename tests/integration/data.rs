//! Real Parquet and real data through the store.

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, TimestampSecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use prescale_core::{GridPolicy, MetricId, MetricSource};
use prescale_store::{CsvSource, MetricStore, ParquetSource};

use crate::common::shared_data;

#[test]
fn parquet_files_are_a_metric_source() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cpu.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("timestamp", DataType::Timestamp(TimeUnit::Second, None), false),
        Field::new("value", DataType::Float64, true),
        Field::new("host", DataType::Int64, false),
    ]));
    let t0 = 1_767_225_600; // 2026-01-01
    let ts: Vec<i64> = (0..100).map(|i| t0 + i * 60).collect();
    let values: Vec<Option<f64>> = (0..100).map(|i| if i == 7 { None } else { Some(i as f64) }).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(TimestampSecondArray::from(ts)),
            Arc::new(Float64Array::from(values)),
            Arc::new(Int64Array::from(vec![1; 100])),
        ],
    )
    .unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let id = MetricId::new("g", "cpu");
    let mut src = ParquetSource::new(vec![(id.clone(), path)]);
    let fetched = src.fetch(None).unwrap();
    assert_eq!(fetched[0].1.len(), 100);
    let store = MetricStore::open(tmp.path().join("store")).unwrap();
    let s = store
        .ingest(&id, &fetched[0].1, 60, &GridPolicy::default(), prescale_core::Aggregate::Mean, "parquet")
        .unwrap();
    assert_eq!((s.grid.non_finite, s.grid.interpolated, s.after), (1, 1, 100));
    assert_eq!(store.read(&id).unwrap().values()[7], 7.0);

    // The same stamps as epoch milliseconds in an Int64 column: read as a CSV's epoch numbers.
    let epoch = tmp.path().join("epoch.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
    ]));
    let ms: Vec<i64> = (0..100).map(|i| (t0 + i * 60) * 1000).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(ms)), Arc::new(Float64Array::from((0..100).map(f64::from).collect::<Vec<_>>()))],
    )
    .unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&epoch).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let raw = prescale_store::read_parquet_samples(&epoch).unwrap();
    assert_eq!(raw.len(), 100);
    assert_eq!((raw[0].ts.timestamp(), raw[99].ts.timestamp()), (t0, t0 + 99 * 60));
}

#[test]
fn every_shared_series_ingests_and_reingests_without_duplicates() {
    let Some(shared) = shared_data() else { return };
    let mut files = Vec::new();
    for dir in [
        "nab/realAWSCloudwatch",
        "nab/realKnownCause",
        "nab/realTweets",
        "cloudmon/mongodb-application-rps",
        "cloudmon/application-crash-rate-2",
    ] {
        for e in std::fs::read_dir(shared.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            files.push((MetricId::new(dir.replace('/', "-"), name), p));
        }
    }
    assert!(files.len() >= 25);
    let tmp = tempfile::tempdir().unwrap();
    let store = MetricStore::open(tmp.path()).unwrap();
    let mut src = CsvSource::new(files);
    let mut snapped = 0;
    for (id, raw) in src.fetch(None).unwrap() {
        let step = if id.group.contains("crash-rate") {
            3600
        } else if id.group.starts_with("cloudmon") {
            60
        } else {
            300
        };
        let first =
            store.ingest(&id, &raw, step, &GridPolicy::default(), prescale_core::Aggregate::Mean, "shared").unwrap();
        snapped += first.grid.snapped;
        let span =
            (raw.iter().map(|s| s.ts).max().unwrap() - raw.iter().map(|s| s.ts).min().unwrap()).num_seconds() / step;
        assert!((first.after as i64 - span).abs() <= 1, "{id}: {} slots for a span of {span}", first.after);
        // Ingesting the same export again changes nothing.
        let again =
            store.ingest(&id, &raw, step, &GridPolicy::default(), prescale_core::Aggregate::Mean, "shared").unwrap();
        assert_eq!(again.after, first.after, "{id}");
        let s = store.read(&id).unwrap();
        assert!(s.values().iter().filter(|v| v.is_finite()).count() + s.missing() == s.len());
    }
    // NAB timestamps are irregular (e.g. :42:53): the store put them on the grid.
    assert!(snapped > 0);
}
