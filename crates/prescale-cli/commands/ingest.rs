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

/// What to do about a stored file that cannot be read: move it aside, and the next ingest rebuilds
/// the series from its source. `None` for errors that are not a damaged file (they carry their own
/// hint, or none helps).
pub(crate) fn damaged_hint(c: &Config, e: &prescale_store::StoreError) -> Option<String> {
    let (prescale_store::StoreError::Parquet { path, .. } | prescale_store::StoreError::Arrow { path, .. }) = e else {
        return None;
    };
    let from = match c.ingest.source {
        SourceKind::Cloudwatch => format!("its last [ingest] lookback_days = {} days", c.ingest.lookback_days),
        _ => "its source file".to_string(),
    };
    Some(format!(
        "\nhint: if the stored file is damaged (a crash, a disk fault), move it aside (`mv {0} {0}.damaged`); the next \
         ingest rebuilds the series from {from}",
        path.display()
    ))
}

/// Why a series could not be stored, with what to do about a damaged file.
fn store_failed(c: &Config, id: &MetricId, e: prescale_store::StoreError) {
    let hint = damaged_hint(c, &e).unwrap_or_default();
    warn!("{id}: not stored, its stored data is unchanged: {}{hint}", explain(&anyhow::Error::from(e)));
}

/// Ingests the selected groups' series; a series that cannot be stored is reported and the others
/// go on. Returns what was stored, how many series failed and how many were asked for. With
/// `carry_on` (the nightly job), a source that cannot be read at all is reported and every series
/// counts as failed, so the run goes on from what the store holds; without, it is the error.
pub fn ingest(ctx: &Ctx, f: &GroupFilter, carry_on: bool) -> Result<(Vec<IngestSummary>, usize, usize)> {
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
    let asked: usize = groups.iter().map(|g| Config::series_ids(g).len()).sum();
    let fetched = match src
        .fetch(range)
        .with_context(|| format!("ingest from {} failed; the store is unchanged", src.describe()))
    {
        Ok(f) => f,
        Err(e) if carry_on => {
            warn!("{}\n(going on with what the store holds)", explain(&e));
            return Ok((Vec::new(), asked, asked));
        }
        Err(e) => return Err(e),
    };
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
        let (load, count) =
            match (store.read(&MetricId::new(&g.name, &g.load_metric)), store.read(&MetricId::new(&g.name, inst))) {
                (Ok(load), Ok(count)) => (load, count),
                (Err(e), _) | (_, Err(e)) => {
                    warn!(
                        "{total}: not derived from {} and {inst}: {}",
                        g.load_metric,
                        explain(&anyhow::Error::from(e))
                    );
                    failed += 1;
                    continue;
                }
            };
        let counts: std::collections::HashMap<DateTime<Utc>, f64> = count.iter().collect();
        let raw: Vec<RawSample> = load
            .iter()
            .filter_map(|(ts, v)| counts.get(&ts).map(|n| RawSample::new(ts, v * n)))
            .filter(|s| s.value.is_finite())
            .collect();
        if raw.is_empty() {
            warn!("{total}: {} and {inst} share no measured slot; not derived", g.load_metric);
            failed += 1;
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
    Ok((done, failed, asked))
}
