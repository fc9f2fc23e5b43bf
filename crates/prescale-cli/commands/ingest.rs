//! `ingest`: metrics from CloudWatch, CSV or Parquet into the metric store.

use super::*;

/// A source of metrics, the kind it is and the one series it holds (`None`: every series asked of
/// it).
pub(crate) struct Source {
    pub series: Option<MetricId>,
    pub kind: SourceKind,
    pub src: Box<dyn MetricSource>,
}

/// The sources to ingest the groups from, each group from its own source or `[ingest]`'s: one per
/// file for CSV and Parquet, with the series it holds (so that a file that cannot be read costs
/// that series alone), and one for CloudWatch serving all of CloudWatch's (`None`: a failed
/// request fails every series it serves).
pub(crate) fn sources(ctx: &Ctx, groups: &[&GroupConfig]) -> Result<Vec<Source>> {
    let c = &ctx.config;
    let mut out = Vec::new();
    let mut queries = Vec::new();
    for g in groups {
        let kind = c.source_of(g);
        for m in &g.metrics {
            let id = MetricId::new(&g.name, &m.name);
            match (kind, &m.file) {
                (SourceKind::Cloudwatch, _) => queries.push(CloudWatchQuery {
                    id: id.clone(),
                    namespace: m.namespace.clone().unwrap_or_default(),
                    metric_name: m.metric_name.clone().unwrap_or_default(),
                    dimensions: m.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    stat: m.stat.clone().unwrap_or_else(|| "Average".into()),
                    // Read only for a count, whose silences are said once.
                    stored_until: m
                        .stat
                        .as_deref()
                        .filter(|s| prescale_aws::counts_events(s))
                        .and_then(|_| MetricStore::for_reading(&ctx.store_dir).read(&id).ok())
                        .map(|s| s.end()),
                }),
                (SourceKind::Csv | SourceKind::Parquet, Some(file)) => {
                    // The zone of its stamps that carry no offset (checked with the configuration).
                    let zone = m.file_zone();
                    let files = vec![(id.clone(), c.resolve(file))];
                    let src: Box<dyn MetricSource> = if kind == SourceKind::Csv {
                        Box::new(CsvSource::new(files).in_zone(zone))
                    } else {
                        Box::new(ParquetSource::new(files).in_zone(zone))
                    };
                    out.push(Source { series: Some(id), kind, src });
                }
                // Refused with the configuration.
                (SourceKind::Csv | SourceKind::Parquet, None) => {}
            }
        }
    }
    if !queries.is_empty() {
        let src = Box::new(CloudWatchSource::new(queries, &aws_options(c))?);
        out.push(Source { series: None, kind: SourceKind::Cloudwatch, src });
    }
    Ok(out)
}

pub(crate) fn aws_options(c: &Config) -> AwsOptions {
    AwsOptions { region: c.aws.region.clone(), max_attempts: c.aws.max_attempts, timeout_secs: c.aws.timeout_secs }
}

/// What to do about a stored file that cannot be read: move it aside, and the next ingest rebuilds
/// the series from its source. `None` for errors that are not a damaged file (they carry their own
/// hint, or none helps).
pub(crate) fn damaged_hint(c: &Config, g: &GroupConfig, e: &prescale_store::StoreError) -> Option<String> {
    let (prescale_store::StoreError::Parquet { path, .. }
    | prescale_store::StoreError::Arrow { path, .. }
    | prescale_store::StoreError::Damaged { path, .. }) = e
    else {
        return None;
    };
    let from = match c.source_of(g) {
        SourceKind::Cloudwatch => format!("its last [ingest] lookback_days = {} days", c.ingest.lookback_days),
        _ => "its source file".to_string(),
    };
    Some(format!(
        "\nhint: if the stored file is damaged (a crash, a disk fault), move it aside (`mv {0} {0}.damaged`); the next \
         ingest rebuilds the series from {from}, as far back as that still reaches (keep the .damaged copy for the \
         rest)",
        path.display()
    ))
}

/// A CloudWatch metric as its series' provenance records it: `NAMESPACE METRIC STAT
/// [NAME=VALUE,…]` (names and values as configured; a space in one is kept).
fn cloudwatch_metric(m: &crate::config::MetricConfig) -> String {
    let dims: Vec<String> = m.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{} {} {} [{}]",
        m.namespace.as_deref().unwrap_or_default(),
        m.metric_name.as_deref().unwrap_or_default(),
        m.stat.as_deref().unwrap_or("Average"),
        dims.join(",")
    )
}

/// The samples' own step, for the hint to a period shorter than it: their mean spacing where it
/// is no gap (at most 1.5 × the median), as the nearest period the configuration takes. CloudWatch stamps a
/// series asked for at a period shorter than its own by the period each sample falls in, so
/// 5-minute data asked for at 2 minutes comes 4 and 6 minutes apart, the median 6.
fn mean_step(raw: &[RawSample]) -> i64 {
    let d = super::forecast::spacings(raw);
    let median = d.get(d.len() / 2).copied().unwrap_or(0);
    // A missing sample makes a spacing of twice the step: no part of the step.
    let near: Vec<i64> = d.into_iter().filter(|x| 2 * *x <= 3 * median).collect();
    let mean = near.iter().sum::<i64>() as f64 / near.len().max(1) as f64;
    // The nearest period CloudWatch (and the configuration) takes.
    let periods = (1..=86_400).filter(|p| crate::config::is_cloudwatch_period(*p));
    periods.min_by(|a, b| (*a as f64 - mean).abs().total_cmp(&(*b as f64 - mean).abs())).unwrap_or(60)
}

/// What to do when the store's disk is full (or its quota spent): nothing stored was changed.
pub(crate) fn full_disk_hint(e: &prescale_store::StoreError) -> Option<String> {
    full_disk_then(e, "the next ingest fetches what this one could not store")
}

/// [`full_disk_hint`] with what follows once there is space (`then`: for a forecast, that the plan
/// uses the one stored before).
pub(crate) fn full_disk_then(e: &prescale_store::StoreError, then: &str) -> Option<String> {
    use std::io::ErrorKind;
    let prescale_store::StoreError::Io { source, path, .. } = e else { return None };
    matches!(source.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded).then(|| {
        let dir = path.parent().unwrap_or(path);
        format!(
            "\nhint: free space on the disk that holds {} (`df -h {}`) and run again: the stored files are as they \
             were, and {then}",
            dir.display(),
            dir.display()
        )
    })
}

/// Why a series could not be stored, with what to do about a damaged file.
fn store_failed(c: &Config, g: &GroupConfig, id: &MetricId, e: prescale_store::StoreError) {
    let hint = damaged_hint(c, g, &e).or_else(|| full_disk_hint(&e)).unwrap_or_default();
    warn!("{id}: not stored, its stored data is unchanged: {}{hint}", explain(&anyhow::Error::from(e)));
}

/// Says what a file's new `file_time_zone` did to its stored series.
fn zone_changed(id: &MetricId, change: &prescale_store::ZoneChange, path: &std::path::Path) {
    use prescale_store::ZoneChange;
    match change {
        ZoneChange::Moved { from, to, moved, unverified } => warn!(
            "{id}: its stored slots had been read from stamps in {from}, and the file's are now read in {to}: {} the \
             file's rows match on {to}'s clock moved there{}",
            output::counted(*moved, "stored slot"),
            if *unverified > 0 {
                format!(
                    "; {} the file does not cover stay where they are: if they came from stamps without an offset \
                     too, they are on {from}'s clock\nhint: move {} aside and ingest files that cover its history \
                     again",
                    output::counted(*unverified, "stored slot"),
                    path.display()
                )
            } else {
                String::new()
            }
        ),
        ZoneChange::Kept { from, to } => info!(
            "{id}: the file's stamps are now read in {to} (were {from}); the stored values match the file's where \
             they are (its stamps carry their offset), so the stored slots stay"
        ),
        ZoneChange::Unknown { from, to } => warn!(
            "{id}: its stored slots were read from stamps in {from}, the file's are now read in {to}, and the file \
             shares no slot with them on either clock: they stay where they are. If they came from stamps without an \
             offset they are on {from}'s clock\nhint: move {} aside and ingest files that cover its history again",
            path.display()
        ),
    }
}

/// Ingests the selected groups' series; a series that cannot be stored is reported and the others
/// go on. Returns what was stored, the series that failed and how many were asked for. A source
/// that cannot be read at all (CloudWatch) is reported and every series it serves counts as
/// failed, so the run goes on from what the store holds for them, with `carry_on` (the nightly
/// job) or where other groups' sources are read; a manual ingest from it alone stops with the
/// error.
pub fn ingest(ctx: &Ctx, f: &GroupFilter, carry_on: bool) -> Result<(Vec<IngestSummary>, Vec<MetricId>, usize)> {
    let groups = selected(ctx, f)?;
    let c = &ctx.config;
    let period = c.ingest.period_secs;
    let srcs = sources(ctx, &groups)?;
    // Said where it matters (an ingest), not by every command that reads the configuration.
    if let Some(why) = c.beyond_retention() {
        warn!("{why}");
    }
    // What each kind of source is, for the log and the stored series' provenance.
    let files = |kind: SourceKind| srcs.iter().filter(|s| s.kind == kind).count();
    let what = |kind: SourceKind| match kind {
        SourceKind::Csv => format!("csv ({} files)", files(kind)),
        SourceKind::Parquet => format!("parquet ({} files)", files(kind)),
        SourceKind::Cloudwatch => srcs.iter().find(|s| s.kind == kind).map(|s| s.src.describe()).unwrap_or_default(),
    };
    let kinds: Vec<SourceKind> = [SourceKind::Cloudwatch, SourceKind::Csv, SourceKind::Parquet]
        .into_iter()
        .filter(|k| srcs.iter().any(|s| s.kind == *k))
        .collect();
    let whats: std::collections::HashMap<SourceKind, String> = kinds.iter().map(|k| (*k, what(*k))).collect();
    // CloudWatch is asked for the lookback; a file is read whole.
    let end = ctx.now.duration_trunc(Duration::seconds(period)).unwrap_or(ctx.now);
    let lookback = TimeRange { start: end - Duration::days(c.ingest.lookback_days), end, step_secs: period };
    info!(
        "ingesting {} groups from {}",
        groups.len(),
        kinds.iter().map(|k| whats[k].as_str()).collect::<Vec<_>>().join(" and ")
    );
    let asked: Vec<MetricId> = groups.iter().flat_map(|g| Config::series_ids(g)).collect();
    // Each asked series' group and the kind of source it comes from.
    let group_of = |id: &MetricId| groups.iter().copied().find(|g| g.name == id.group);
    let kind_of = |id: &MetricId| group_of(id).map_or(c.ingest.source, |g| c.source_of(g));
    let mut fetched = Vec::new();
    let mut failed = Vec::new();
    // Each fetched series' source (`csv /abs/path.csv`, `cloudwatch REGION`), stored with it.
    let mut origins: std::collections::HashMap<MetricId, String> = std::collections::HashMap::new();
    // A source that cannot be read at all stops a manual ingest only where it serves every
    // group; beside others, their series are stored and the run exits 1 naming it.
    let alone = kinds.len() == 1;
    // CloudWatch is read before the store is locked (its requests take minutes for a fleet, and
    // what it returns is bounded by the lookback); each file is read in turn below, its rows
    // stored before the next file is read, so that an ingest holds one file's rows at a time, not
    // a fleet's exports (a file is read whole, whatever its age).
    let (remote, files): (Vec<Source>, Vec<Source>) = srcs.into_iter().partition(|s| s.kind == SourceKind::Cloudwatch);
    let mut progress = super::Progress::new("reading", remote.len());
    for Source { kind, mut src, .. } in remote {
        progress.step(&src.describe());
        match src.fetch(Some(lookback)) {
            Ok(f) => {
                let origin = src.describe();
                origins.extend(f.iter().map(|(id, _)| (id.clone(), origin.clone())));
                fetched.extend(f);
            }
            Err(e) => {
                let stop = !carry_on && alone;
                let unchanged = if stop { "; the store is unchanged" } else { "" };
                let e = anyhow::Error::from(e).context(format!("ingest from {} failed{unchanged}", whats[&kind]));
                if stop {
                    return Err(e);
                }
                // Every series that source serves, and the totals derived from them, counts as
                // failed and keeps what the store holds; the others go on.
                let served: Vec<MetricId> = asked.iter().filter(|id| kind_of(id) == kind).cloned().collect();
                let derived = groups.iter().filter(|g| g.instances_metric.is_some() && c.source_of(g) == kind).count();
                let others = if alone { "" } else { "; the other groups' sources are read" };
                warn!(
                    "{}\n(going on with what the store holds, if anything, for its {} series{}: {}{others})",
                    explain(&e),
                    served.len() - derived,
                    if derived > 0 { format!(" and {derived} derived from them") } else { String::new() },
                    series_named(&served)
                );
                failed.extend(served);
            }
        }
    }
    // A new store is said: a mistyped --store or PRESCALE_STORE would otherwise start an empty
    // one quietly, and the nightly job plan from its few days instead of the real history.
    let new_store = !ctx.store_dir.join("metrics").exists();
    let store = MetricStore::open(&ctx.store_dir)?.retaining(c.store.retention_days.map(Duration::days));
    // Beside plans this --out applied, a new store is most likely the earlier runs' store not
    // found (a cron line without its --store or PRESCALE_STORE, a folder moved or wiped): its
    // history beyond what the sources still keep, and its events, are not in the new one. Plans
    // of this configuration's groups only: another configuration may share the --out.
    let ours = |p: &prescale_core::CapacityPlan| p.groups.iter().any(|g| c.groups.iter().any(|o| o.name == g.group));
    let applied = new_store.then(|| super::apply::applied_newest_first(ctx, None).find(ours)).flatten();
    if let Some(p) = applied.filter(|_| !ctx.demo) {
        warn!(
            "no metric store was at {}: a new one is started there, but the runs writing to {} applied plans (the \
             last {}, made {}) from a store not found here (moved, named by another path, or wiped); its history \
             beyond what the sources still hold, and its events, are not in this one\nhint: if that store is \
             elsewhere, name it (--store, PRESCALE_STORE or [store] dir) and remove the new one",
            ctx.store_dir.display(),
            ctx.out.display(),
            p.plan_id,
            p.created_at.format("%Y-%m-%d %H:%M UTC")
        );
    } else if new_store && !ctx.demo {
        say!(
            "note: no metric store was at {}: a new one is started there (if the history is elsewhere, --store or \
             [store] dir names it)",
            ctx.store_dir.display()
        );
    }
    // One writer at a time: a manual ingest beside the nightly job would otherwise lose rows. The
    // nightly job that cannot write goes on from what the store holds (a writer replaces a
    // series whole, so what it holds is whole).
    let wait = std::time::Duration::from_secs(120);
    let mut lock = match store.lock_for_writing(wait) {
        Ok(lock) => Some(lock),
        Err(e) => {
            let hint = match &e {
                prescale_store::StoreError::Busy { .. } => "",
                _ => "\nhint: check that the store's folder and its .write.lock can be written by this user",
            };
            let e = anyhow::Error::from(e).context(format!("no load was stored; the metric store is unchanged{hint}"));
            if !carry_on {
                return Err(e);
            }
            warn!("{}\n(going on with what the store holds)", explain(&e));
            let n = asked.len();
            return Ok((Vec::new(), asked, n));
        }
    };
    // Files whose stamps without an offset are read as UTC (no file_time_zone): their lag by whole
    // hours may be a zone's (below).
    let zoneless: std::collections::HashSet<MetricId> = groups
        .iter()
        .flat_map(|g| {
            g.metrics
                .iter()
                .filter(|m| m.file.is_some() && m.file_time_zone.is_none())
                .map(|m| MetricId::new(&g.name, &m.name))
        })
        .collect();
    let mut done = Vec::new();
    // Series whose stored slots moved to a new file_time_zone's clock in this run.
    let mut moved = std::collections::HashSet::new();
    drop(progress);
    // A fleet's exports take minutes to read: a log shows the run is alive.
    let mut progress = super::Progress::new("storing", fetched.len() + files.len());
    let mut fetched = std::collections::VecDeque::from(fetched);
    let mut files = files.into_iter();
    // Whether a wait for the lock was said (once a run, where it is taken again for each file).
    let mut waited = false;
    loop {
        let Some((id, mut raw)) = fetched.pop_front() else {
            let Some(Source { series, mut src, .. }) = files.next() else { break };
            // Read without the lock, taken again to store what was read: a writer beside this
            // one (a manual ingest beside the nightly job) is not kept waiting for a fleet's
            // reading, nor for a file on a slow mount.
            drop(lock.take());
            let read = src.fetch(None);
            // A wait of more than a second is said once a run (a fleet's files beside another
            // writer would say it for each file): after that, a wait is quiet.
            let started = std::time::Instant::now();
            let retaken = if waited { store.lock_for_writing_quietly(wait) } else { store.lock_for_writing(wait) };
            waited |= started.elapsed() >= std::time::Duration::from_secs(1);
            match retaken {
                Ok(l) => {
                    lock.replace(l);
                }
                Err(e) => {
                    // This file's series, the files' after it and the totals derived in the
                    // groups stay as stored; those stored before are kept.
                    let mut rest: Vec<MetricId> = series.into_iter().chain(files.filter_map(|s| s.series)).collect();
                    rest.extend(groups.iter().filter(|g| g.instances_metric.is_some()).map(|g| Config::load_id(g)));
                    rest.retain(|id| !failed.contains(id));
                    warn!(
                        "{}: not stored, their stored data is unchanged (the {} series stored before them are \
                         kept): {}",
                        series_named(&rest),
                        done.len(),
                        explain(&anyhow::Error::from(e))
                    );
                    failed.extend(rest);
                    return Ok((done, failed, asked.len()));
                }
            }
            match read {
                Ok(f) => {
                    let origin = src.describe();
                    origins.extend(f.iter().map(|(id, _)| (id.clone(), origin.clone())));
                    fetched.extend(f);
                }
                // A file that cannot be read: that series is named and left as stored, the others
                // go on.
                Err(e) => {
                    let who = series.as_ref().map_or_else(|| src.describe(), ToString::to_string);
                    progress.step(&who);
                    let hint = match &e {
                        prescale_core::SourceError::Io { source, .. }
                            if source.kind() == std::io::ErrorKind::NotFound =>
                        {
                            format!(
                                "\nhint: a metric's `file` is read relative to the configuration's folder ({}); \
                                 check the name there",
                                std::fs::canonicalize(&c.base_dir).unwrap_or_else(|_| c.base_dir.clone()).display()
                            )
                        }
                        _ => String::new(),
                    };
                    warn!(
                        "{who}: not stored, its stored data is unchanged: {}{hint}",
                        explain(&anyhow::Error::from(e))
                    );
                    failed.extend(series);
                }
            }
            continue;
        };
        progress.step(&id);
        // A recorded file replayed at a --now inside it (the demo's files, a backfill) is the file
        // as it stood then: its later rows are not stored, as `forecast show --now` reads a file.
        let kind = kind_of(&id);
        let metric = group_of(&id).into_iter().flat_map(|g| &g.metrics).find(|m| m.name == id.metric);
        if !ctx.clock && kind != SourceKind::Cloudwatch {
            let before = raw.len();
            let first = raw.iter().map(|r| r.ts).min();
            raw.retain(|r| r.ts <= ctx.now);
            // Every row after --now: a --now (or PRESCALE_NOW) before the file, not an empty file.
            if let Some(first) = first.filter(|_| raw.is_empty()) {
                warn!(
                    "{id}: nothing stored: all {before} rows of the file are after now ({}), the first at {}\nhint: is \
                     --now (or PRESCALE_NOW) right? A file is read as it stood at --now",
                    ctx.now.format("%Y-%m-%d %H:%M UTC"),
                    first.format("%Y-%m-%d %H:%M UTC")
                );
                failed.push(id);
                continue;
            }
            if raw.len() < before {
                info!(
                    "{id}: {} rows after --now ({}) not read: the file as it stood then",
                    before - raw.len(),
                    ctx.now.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        if raw.is_empty() {
            let check = match kind {
                SourceKind::Cloudwatch => format!(
                    "check the metric's name, dimensions and statistic, and the region ({}){}",
                    c.aws.region.as_deref().map_or_else(
                        || "AWS_REGION or the profile's: [aws] region is not set".to_string(),
                        |r| format!("[aws] region = {r}")
                    ),
                    // A --now away from the clock asks CloudWatch for the days before it.
                    if ctx.clock || ctx.demo {
                        String::new()
                    } else {
                        format!(
                            "; it was asked for the {} days before --now {}",
                            c.ingest.lookback_days,
                            ctx.now.format("%Y-%m-%d %H:%M UTC")
                        )
                    }
                ),
                SourceKind::Csv | SourceKind::Parquet => "the file holds no row with a value".to_string(),
            };
            // A group's own metrics (GroupInServiceInstances, …) come only once Auto Scaling
            // collects them, which is off until enabled.
            let group_metric = kind == SourceKind::Cloudwatch
                && metric.is_some_and(|m| m.namespace.as_deref() == Some("AWS/AutoScaling"));
            let collect = if group_metric {
                format!(
                    "; AWS/AutoScaling publishes a group's metrics only once metrics collection is enabled on it: \
                     `aws autoscaling enable-metrics-collection --auto-scaling-group-name {} --granularity 1Minute`",
                    prescale_plan::shell_word(&id.group)
                )
            } else {
                String::new()
            };
            warn!("{id}: the source returned no samples; nothing stored ({check}{collect})");
            failed.push(id);
            continue;
        }
        let origin = origins.get(&id).unwrap_or(&whats[&kind]);
        // CloudWatch's series with the metric asked for, so that a statistic or region changed
        // under the same series is said (files are named by their path already).
        let origin = match metric.filter(|_| kind == SourceKind::Cloudwatch) {
            Some(m) => format!("{origin} {}", cloudwatch_metric(m)),
            None => origin.clone(),
        };
        // Stamps after now are mostly a clock mistake (local time written without an offset, read
        // as UTC); a newest stamp long before now is a feed that stopped. Both are said here, where
        // the source is read, not only when a plan leaves the group out.
        let newest = raw.iter().filter(|r| r.value.is_finite()).map(|r| r.ts).max();
        if let Some(newest) = newest {
            let ahead =
                raw.iter().filter(|r| r.value.is_finite() && r.ts > ctx.now + Duration::seconds(period)).count();
            if ahead > 0 {
                // Not stored: a measurement cannot come from the future, and stamps shifted by a
                // zone would replace the stored slots they land on with their neighbours' values.
                warn!(
                    "{id}: not stored, its stored data is unchanged: {ahead} sample{} after now ({}), the newest \
                     at {} ({:.1} h ahead)\nhint: is the source's time zone right? Stamps without an offset are read \
                     as UTC; give them in UTC or with their offset, or the file's zone as file_time_zone (a file \
                     replayed with --now has its later rows left out)",
                    if ahead == 1 { "" } else { "s" },
                    ctx.now.format("%Y-%m-%d %H:%M UTC"),
                    newest.format("%Y-%m-%d %H:%M UTC"),
                    (newest - ctx.now).num_minutes() as f64 / 60.0
                );
                failed.push(id);
                continue;
            } else if (ctx.now - newest).num_minutes() > c.trust.max_data_age_mins {
                // A file whose local stamps were read as UTC lags by whole hours (New York's by 5):
                // said beside a feed that stopped, since both look alike from here.
                let lag = (ctx.now - newest).num_seconds();
                let hours = (lag as f64 / 3600.0).round() as i64;
                let zoneless = kind != SourceKind::Cloudwatch && zoneless.contains(&id);
                // Within ten minutes of a whole hour: a zone's offset, not a feed's own delay.
                let zone_hint = if zoneless && (1..=12).contains(&hours) && (lag - hours * 3600).abs() <= 600 {
                    format!(
                        " Or are its stamps local time, {hours} h behind UTC, written without an offset? Then set the \
                         metric's file_time_zone (the next ingest moves the slots stored from them, {hours} h early, \
                         to that zone's clock)"
                    )
                } else {
                    String::new()
                };
                warn!(
                    "{id}: the source's newest sample is from {} ({:.1} h before now, over [trust] max_data_age_mins = \
                     {}): has it stopped updating ({origin})?{zone_hint}",
                    newest.format("%Y-%m-%d %H:%M UTC"),
                    (ctx.now - newest).num_minutes() as f64 / 60.0,
                    c.trust.max_data_age_mins
                );
            }
        }
        if let Some(apart) = super::forecast::infer_step(&raw).filter(|s| *s * 2 > period * 3).map(|_| mean_step(&raw))
        {
            warn!(
                "{id}: the samples are {apart} s apart and [ingest] period_secs is {period}: each is stored in its \
                 {period} s slot and the slots between them are interpolated up to [ingest] grid.max_interpolate_secs \
                 ({} s) or left missing, not measured\nhint: set [ingest] period_secs = {apart} to store the series \
                 at its own step (a series stored at another step must be moved aside first)",
                c.ingest.grid.max_interpolate_secs
            );
        }
        // A count read with a statistic that does not add up (an ALB's RequestCount: its Average,
        // Minimum and Maximum are 1 per request) is 1 every period: said, with the statistic that
        // reads it, or the group is sized on a constant. Not another constant: a gauge may hold
        // still (a group's GroupInServiceInstances at 3, its instances_metric), and a warning
        // every night would have it read as a sum.
        let instances = group_of(&id).and_then(|g| g.instances_metric.as_deref()) == Some(id.metric.as_str());
        if kind == SourceKind::Cloudwatch
            && let Some(m) = metric
            && !m.stat.as_deref().is_some_and(prescale_aws::counts_events)
            && !instances
            && m.namespace.as_deref() != Some("AWS/AutoScaling")
        {
            let mut values = raw.iter().map(|r| r.value).filter(|v| v.is_finite());
            if let Some(first) = values.next()
                && first == 1.0
                && raw.len() > 1
                && values.all(|v| v == first)
            {
                warn!(
                    "{id}: every datapoint CloudWatch returned for {} with stat {} is {first}: if it counts something \
                     (an ALB's RequestCount, whose Average, Minimum and Maximum are 1 per request), read it with \
                     stat = \"Sum\" in its [[groups.metrics]]",
                    m.metric_name.as_deref().unwrap_or_default(),
                    m.stat.as_deref().unwrap_or("Average")
                );
            }
        }
        // Samples denser than the period are gathered as the metric's statistic says (a count
        // per minute adds up to a count per period).
        let aggregate =
            prescale_core::Aggregate::of_statistic(metric.and_then(|m| m.stat.as_deref()).unwrap_or("Average"));
        // A file's stamps without an offset are read in its file_time_zone, else UTC: recorded with
        // the series, so that setting the zone later moves what was stored on the wrong clock.
        let file_time_zone = (kind != SourceKind::Cloudwatch)
            .then(|| metric.and_then(crate::config::MetricConfig::file_zone).unwrap_or(chrono_tz::UTC));
        let provenance = prescale_store::Provenance { source: &origin, file_time_zone, whole: false };
        match store.ingest(&id, &raw, period, &c.ingest.grid, aggregate, provenance) {
            Ok(s) => {
                info!("{id}: {} samples, {} slots stored", s.grid.samples, s.after);
                // Dropped as they come (the slots read as gaps), but a source that sends many is
                // broken, which the table alone (not printed with --quiet) would not say.
                if s.grid.non_finite * 10 > s.grid.samples {
                    match crate::output::said_before("non-finite samples", &id.to_string()) {
                        None => warn!(
                            "{id}: {} of the {} samples read are NaN or infinite, dropped (their slots read as gaps): \
                             is the source's exporter broken?",
                            s.grid.non_finite, s.grid.samples
                        ),
                        Some(first) => warn!(
                            "{id}: {} of the {} samples read are NaN or infinite, dropped, as for {first} above",
                            s.grid.non_finite, s.grid.samples
                        ),
                    }
                }
                if let Some((was, now)) = &s.source_change {
                    warn!(
                        "{id}: its stored history came from {was}, this run's samples from {now}: stored as one \
                         series, the new slots replacing the old where both have one. If the two measure the metric \
                         differently (units, statistic, another fleet), move {} aside to start it again",
                        s.path.display()
                    );
                }
                if let Some(change) = &s.zone_change {
                    zone_changed(&id, change, &s.path);
                    if matches!(change, prescale_store::ZoneChange::Moved { .. }) {
                        moved.insert(id.clone());
                    }
                }
                done.push(s);
            }
            Err(e) => {
                if let Some(g) = group_of(&id) {
                    store_failed(c, g, &id, e);
                }
                failed.push(id);
            }
        }
    }
    // Series the store holds for a group that its configuration no longer names (a metric renamed
    // or dropped): kept and not read, said (while they are recent: the first nights after the
    // change) so that the renamed one's history starting again is no surprise.
    for g in &groups {
        let ids = Config::series_ids(g);
        let Some(folder) = ids.first().and_then(|id| store.path(id).parent().map(Path::to_path_buf)) else { continue };
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        let known: Vec<PathBuf> = ids.iter().map(|id| store.path(id)).collect();
        let mut unknown: Vec<String> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "parquet") && !known.contains(p))
            .filter(|p| {
                let age = std::fs::metadata(p).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                age.is_some_and(|a| a < std::time::Duration::from_secs(2 * 86_400))
            })
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        unknown.sort();
        if !unknown.is_empty() {
            warn!(
                "{}: the store also holds {} of metrics its configuration no longer names (renamed or dropped?): \
                 kept, not read; a renamed metric's history starts again under its new name",
                g.name,
                unknown.join(", ")
            );
        }
    }
    // Per-instance load × instances = the group's total load, stored as its own series.
    for g in &groups {
        let Some(inst) = &g.instances_metric else { continue };
        let total = Config::load_id(g);
        if failed.contains(&total) {
            // Its source could not be read: the stored total is as it was.
            continue;
        }
        let (load, count) = match (
            store.read_observed(&MetricId::new(&g.name, &g.load_metric)),
            store.read_observed(&MetricId::new(&g.name, inst)),
        ) {
            (Ok(load), Ok(count)) => (load, count),
            (Err(e), _) | (_, Err(e)) => {
                warn!("{total}: not derived from {} and {inst}: {}", g.load_metric, explain(&anyhow::Error::from(e)));
                failed.push(total);
                continue;
            }
        };
        // Measured slots of both only: a product of filled-in values stored as a measurement would
        // never be replaced by the derived series' own grid policy.
        let measured = |(s, observed): &(Series, Vec<bool>)| -> std::collections::HashMap<DateTime<Utc>, f64> {
            s.iter().zip(observed).filter(|(_, o)| **o).map(|(slot, _)| slot).collect()
        };
        let (load, counts) = (measured(&load), measured(&count));
        let mut raw: Vec<RawSample> = load
            .iter()
            .filter_map(|(ts, v)| counts.get(ts).map(|n| RawSample::new(*ts, v * n)))
            .filter(|s| s.value.is_finite())
            .collect();
        raw.sort_by_key(|s| s.ts);
        if raw.is_empty() {
            warn!("{total}: {} and {inst} share no measured slot; not derived", g.load_metric);
            failed.push(total);
            continue;
        }
        let source = format!("derived: {} x {inst}", g.load_metric);
        // Inputs moved to another clock: the total is derived whole again, not merged into its
        // slots on the old clock (the inputs hold every slot it was derived from).
        let whole = [&g.load_metric, inst].iter().any(|m| moved.contains(&MetricId::new(&g.name, m.as_str())));
        let provenance = prescale_store::Provenance { source: &source, file_time_zone: None, whole };
        match store.ingest(&total, &raw, period, &c.ingest.grid, prescale_core::Aggregate::Mean, provenance) {
            Ok(s) => done.push(s),
            Err(e) => {
                store_failed(c, g, &total, e);
                failed.push(total);
            }
        }
    }
    Ok((done, failed, asked.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_to_a_short_period_names_the_samples_own_step() {
        let at = |m: i64| RawSample::new(DateTime::from_timestamp(1_790_000_000 + m * 60, 0).unwrap(), 1.0);
        // 5-minute samples asked for at 2 minutes: stamped at the start of the period each falls
        // in, 4 and 6 minutes apart (the median says 4 or 6); then with a gap of an hour.
        let bucketed: Vec<RawSample> = (0..200).map(|i| at(i * 5 / 2 * 2)).collect();
        let median = super::super::forecast::infer_step(&bucketed);
        assert!(matches!(median, Some(240 | 360)), "{median:?}");
        assert_eq!(mean_step(&bucketed), 300);
        let mut gapped: Vec<RawSample> = (0..100).map(|i| at(i * 5)).collect();
        gapped.extend((112..200).map(|i| at(i * 5)));
        assert_eq!(mean_step(&gapped), 300);
        // One sample in ten missing: still 300, not a mean of 330 no configuration takes.
        let sparse: Vec<RawSample> = (0..200).filter(|i| i % 10 != 5).map(|i| at(i * 5)).collect();
        assert_eq!(mean_step(&sparse), 300);
        // 90 s is no period: the nearest one is.
        let odd: Vec<RawSample> =
            (0..100).map(|i| RawSample::new(DateTime::from_timestamp(i * 90, 0).unwrap(), 1.0)).collect();
        assert_eq!(mean_step(&odd), 60);
    }
}
