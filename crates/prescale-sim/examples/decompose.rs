//! Where prescale's instance-hours over reactive come from, trace by trace.
//!
//! ```sh
//! cargo run --release -p prescale-sim --example decompose -- TRACE.csv … [-- key=value …]
//! ```
//!
//! Replays each trace like `prescale simulate --input TRACE` (the defaults, or the `SimSettings`
//! fields given as `quantile=0.5`, `quantile_utilization=1.0`, `min_hold_mins=30`, …) with the
//! reactive, prescale and oracle policies, and splits prescale's paid instance-minutes above
//! reactive's, minute by minute, by what held them:
//!
//! - `lead`: prescale's floor binds (the group is at the floor) and demand reaches the floor's
//!   need within the next 30 minutes: capacity bought ahead of load that comes;
//! - `after`: the floor binds, no need as high comes in the next 30 minutes but one came in the
//!   hour before: a floor that stays up after the peak;
//! - `never`: the floor binds and no need as high is within an hour before or 30 minutes after:
//!   a floor for load that does not come (over-forecast, or interval width);
//! - `tracking`: the group is above its floor: target tracking holds more than reactive's does
//!   (it scales in later after a floor, or kept up where reactive fell behind).
//!
//! `saved` is the instance-minutes where prescale paid less than reactive. All in instance-hours.

use std::path::Path;

use anyhow::{Context, Result, bail};
use prescale_core::{GridPolicy, regularize};
use prescale_sim::{Policy, SimSettings, simulate};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let (traces, overrides) = (&args[..split], args.get(split + 1..).unwrap_or(&[]));
    let mut s = SimSettings::default();
    for kv in overrides {
        let (k, v) = kv.split_once('=').with_context(|| format!("{kv}: give key=value"))?;
        let f = || v.parse::<f64>().with_context(|| format!("{kv}: not a number"));
        let u = || v.parse::<u32>().with_context(|| format!("{kv}: not a whole number"));
        match k {
            "quantile" => s.quantile = f()?,
            "quantile_utilization" => s.quantile_utilization = Some(f()?),
            "headroom" => s.headroom = f()?,
            "point_at_target" => s.point_at_target = v == "true",
            "unskilled" => {
                s.unskilled = match v {
                    "median" => prescale_plan::Unskilled::Median,
                    "none" => prescale_plan::Unskilled::None,
                    _ => prescale_plan::Unskilled::Trust,
                }
            }
            "lead_time_mins" => s.lead_time_mins = u()?,
            "min_hold_mins" => s.min_hold_mins = u()?,
            "floor_mean_mins" => s.floor_mean_mins = Some(u()?),
            "target_utilization" => s.target_utilization = f()?,
            _ => bail!("{k}: unknown setting"),
        }
    }
    println!(
        "{:42} {:>8} {:>8} {:>8} | {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} | {:>7} {:>7} | {:>5} {:>6}",
        "series",
        "react h",
        "presc h",
        "ratio",
        "lead",
        "after",
        "never",
        "track",
        "saved",
        "net",
        "u react",
        "u presc",
        "skill",
        "no-sk"
    );
    let mut tot = [0.0_f64; 7];
    // Per policy (reactive, prescale, static, oracle, aws-style): instance-hours, under-provisioned minutes, reversals.
    let mut sums = [[0.0_f64; 3]; 5];
    for t in traces {
        let series = read(Path::new(t))?;
        let r = simulate(&series, &s).with_context(|| format!("simulating {t}"))?;
        let at = |p: Policy| Policy::ALL.iter().position(|x| *x == p).unwrap_or(0);
        let (react, presc, oracle) =
            (&r.timeline[at(Policy::Reactive)], &r.timeline[at(Policy::Prescale)], &r.timeline[at(Policy::Oracle)]);
        let floor = &r.floors[at(Policy::Prescale)];
        // The oracle's paid instances are the need a boot time ahead: the capacity the load asks for.
        let need: Vec<u32> = oracle.iter().map(|x| x.1).collect();
        let n = need.len();
        let max_in = |a: usize, b: usize| need[a.min(n)..b.min(n)].iter().copied().max().unwrap_or(0);
        let mut parts = [0.0_f64; 5];
        for i in 0..n {
            let (p, q) = (presc[i].1, react[i].1);
            if p < q {
                parts[4] += f64::from(q - p);
                continue;
            }
            let extra = f64::from(p - q);
            if extra == 0.0 {
                continue;
            }
            let k = if p > floor[i] {
                3
            } else if max_in(i, i + 31) >= floor[i] {
                0
            } else if max_in(i.saturating_sub(60), i) >= floor[i] {
                1
            } else {
                2
            };
            parts[k] += extra;
        }
        let h = |v: f64| v / 60.0;
        let res = |p: Policy| &r.policies[at(p)];
        let (rh, ph) = (res(Policy::Reactive).instance_hours, res(Policy::Prescale).instance_hours);
        let name = Path::new(t).file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        let skills: Vec<f64> = r.nights.iter().filter_map(|n| n.skill).collect();
        let mean_skill = skills.iter().sum::<f64>() / skills.len().max(1) as f64;
        let unskilled = skills.iter().filter(|k| **k >= 1.0).count();
        println!(
            "{name:42} {rh:>8.0} {ph:>8.0} {:>8.3} | {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>8.0} | {:>7} {:>7} | {:>5.2} {:>3}/{:<2}",
            ph / rh,
            h(parts[0]),
            h(parts[1]),
            h(parts[2]),
            h(parts[3]),
            -h(parts[4]),
            ph - rh,
            res(Policy::Reactive).under_provisioned_minutes,
            res(Policy::Prescale).under_provisioned_minutes,
            mean_skill,
            unskilled,
            skills.len()
        );
        for (a, b) in tot.iter_mut().zip([rh, ph, h(parts[0]), h(parts[1]), h(parts[2]), h(parts[3]), -h(parts[4])]) {
            *a += b;
        }
        for (k, p) in [Policy::Reactive, Policy::Prescale, Policy::Static, Policy::Oracle, Policy::AwsStyle]
            .into_iter()
            .enumerate()
        {
            sums[k][0] += res(p).instance_hours;
            sums[k][1] += res(p).under_provisioned_minutes as f64;
            sums[k][2] += res(p).reversals_within_hour as f64;
        }
    }
    println!(
        "{:42} {:>8.0} {:>8.0} {:>8.3} | {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>8.0}",
        "all",
        tot[0],
        tot[1],
        tot[1] / tot[0],
        tot[2],
        tot[3],
        tot[4],
        tot[5],
        tot[6],
        tot[1] - tot[0]
    );
    let [r, p, st, o, a] = sums;
    println!(
        "under-prov {:+.1} % vs reactive ({:.0} of {:.0}; aws-style {:.0}), inst-h vs reactive {:.3}, static {:.3}, oracle {:.3}, aws-style {:.3}, reversals {:.3}",
        (p[1] / r[1] - 1.0) * 100.0,
        p[1],
        r[1],
        a[1],
        p[0] / r[0],
        p[0] / st[0],
        p[0] / o[0],
        p[0] / a[0],
        p[2] / r[2]
    );
    Ok(())
}

/// The trace on its own grid (the median spacing), as `prescale simulate --input` reads it.
fn read(path: &Path) -> Result<prescale_core::Series> {
    let raw = prescale_store::read_csv_samples(path)?;
    let mut ts: Vec<i64> = raw.iter().map(|s| s.ts.timestamp()).collect();
    ts.sort_unstable();
    ts.dedup();
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let step = gaps.get(gaps.len() / 2).copied().filter(|s| *s > 0).context("fewer than two timestamps")?;
    let (series, _) = regularize(&raw, step, &GridPolicy { max_interpolate_secs: i64::MAX / 4 })?;
    Ok(series)
}
