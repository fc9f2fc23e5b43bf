//! `ingest`: metrics from CloudWatch, CSV or Parquet into the metric store.

use super::*;

pub(crate) fn source(ctx: &Ctx, groups: &[&GroupConfig]) -> Result<Box<dyn MetricSource>> {
    let c = &ctx.config;
    let files = || -> Vec<(MetricId, PathBuf)> {
        groups
            .iter()
            .flat_map(|g| {
                g.metrics
                    .iter()
                    .filter_map(move |m| m.file.as_ref().map(|f| (MetricId::new(&g.name, &m.name), c.resolve(f))))
            })
            .collect()
    };
    Ok(match c.ingest.source {
        SourceKind::Csv => Box::new(CsvSource::new(files())),
        SourceKind::Parquet => Box::new(ParquetSource::new(files())),
        SourceKind::Cloudwatch => {
            let queries = groups
                .iter()
                .flat_map(|g| {
                    g.metrics.iter().map(move |m| CloudWatchQuery {
                        id: MetricId::new(&g.name, &m.name),
                        namespace: m.namespace.clone().unwrap_or_default(),
                        metric_name: m.metric_name.clone().unwrap_or_default(),
                        dimensions: m.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                        stat: m.stat.clone().unwrap_or_else(|| "Average".into()),
                    })
                })
                .collect();
            Box::new(CloudWatchSource::new(queries, &aws_options(c))?)
        }
    })
}

pub(crate) fn aws_options(c: &Config) -> AwsOptions {
    AwsOptions { region: c.aws.region.clone(), max_attempts: c.aws.max_attempts, timeout_secs: c.aws.timeout_secs }
}

/// Why a series could not be stored, with what to do about a damaged file.
fn store_failed(c: &Config, id: &MetricId, e: prescale_store::StoreError) {
    let damaged = match &e {
        prescale_store::StoreError::Parquet { path, .. } | prescale_store::StoreError::Arrow { path, .. } => {
            Some(path.clone())
        }
        _ => None,
    };
    let hint = match damaged {
        Some(path) => {
            let from = match c.ingest.source {
                SourceKind::Cloudwatch => format!("its last [ingest] lookback_days = {} days", c.ingest.lookback_days),
                _ => "its source file".to_string(),
            };
            format!(
                "\nhint: if the stored file is damaged (a crash, a disk fault), move it aside (`mv {0} {0}.damaged`); \
                 the next ingest rebuilds the series from {from}",
                path.display()
            )
        }
        None => String::new(),
    };
    warn!("{id}: not stored, its stored data is unchanged: {:#}{hint}", anyhow::Error::from(e));
}

/// Ingests the selected groups' series; a series that cannot be stored is reported and the others
/// go on. Returns what was stored and how many series failed.
pub fn ingest(ctx: &Ctx, f: &GroupFilter) -> Result<(Vec<IngestSummary>, usize)> {
    let groups = selected(ctx, f)?;
    let c = &ctx.config;
    let period = c.ingest.period_secs;
    let mut src = source(ctx, &groups)?;
    let range = match c.ingest.source {
        SourceKind::Cloudwatch => {
            let end = ctx.now.duration_trunc(Duration::seconds(period)).unwrap_or(ctx.now);
            Some(TimeRange { start: end - Duration::days(c.ingest.lookback_days), end, step_secs: period })
        }
        _ => None,
    };
    info!("ingesting {} groups from {}", groups.len(), src.describe());
    let fetched =
        src.fetch(range).with_context(|| format!("ingest from {} failed; the store is unchanged", src.describe()))?;
    let store = MetricStore::open(&ctx.store_dir)?;
    // One writer at a time: a manual ingest beside the nightly job would otherwise lose rows.
    let _lock = store.lock_for_writing(std::time::Duration::from_secs(120))?;
    let mut done = Vec::new();
    let mut failed = 0;
    for (id, raw) in fetched {
        if raw.is_empty() {
            warn!(
                "{id}: the source returned no samples; nothing stored (check the metric's name, dimensions and \
                 statistic, and the region)"
            );
            failed += 1;
            continue;
        }
        match store.ingest(&id, &raw, period, &c.ingest.grid, &src.describe()) {
            Ok(s) => {
                info!("{id}: {} samples, {} slots stored", s.grid.samples, s.after);
                done.push(s);
            }
            Err(e) => {
                store_failed(c, &id, e);
                failed += 1;
            }
        }
    }
    // Per-instance load × instances = the group's total load, stored as its own series.
    for g in &groups {
        let Some(inst) = &g.instances_metric else { continue };
        let total = Config::load_id(g);
        let (Ok(load), Ok(count)) =
            (store.read(&MetricId::new(&g.name, &g.load_metric)), store.read(&MetricId::new(&g.name, inst)))
        else {
            warn!("{total}: needs both {} and {inst} in the store; not derived", g.load_metric);
            continue;
        };
        let counts: std::collections::HashMap<DateTime<Utc>, f64> = count.iter().collect();
        let raw: Vec<RawSample> = load
            .iter()
            .filter_map(|(ts, v)| counts.get(&ts).map(|n| RawSample::new(ts, v * n)))
            .filter(|s| s.value.is_finite())
            .collect();
        if raw.is_empty() {
            warn!("{total}: {} and {inst} share no measured slot; not derived", g.load_metric);
            continue;
        }
        let source = format!("derived: {} x {inst}", g.load_metric);
        match store.ingest(&total, &raw, period, &c.ingest.grid, &source) {
            Ok(s) => done.push(s),
            Err(e) => {
                store_failed(c, &total, e);
                failed += 1;
            }
        }
    }
    Ok((done, failed))
}
