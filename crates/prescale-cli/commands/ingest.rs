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
    AwsOptions { region: c.aws.region.clone(), max_attempts: c.aws.max_attempts }
}

pub fn ingest(ctx: &Ctx, f: &GroupFilter) -> Result<Vec<IngestSummary>> {
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
    let mut done = Vec::new();
    for (id, raw) in fetched {
        if raw.is_empty() {
            warn!("{id}: the source returned no samples; nothing stored (check the metric's name and dimensions)");
            continue;
        }
        let s = store
            .ingest(&id, &raw, period, &c.ingest.grid, &src.describe())
            .with_context(|| format!("cannot store {id}"))?;
        info!("{id}: {} samples, {} slots stored", s.grid.samples, s.after);
        done.push(s);
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
        done.push(
            store
                .ingest(&total, &raw, period, &c.ingest.grid, &source)
                .with_context(|| format!("cannot store {total}"))?,
        );
    }
    Ok(done)
}
