//! Dumps, for one training CSV (`ts,value` on a regular grid), what the `auto` engine's selection
//! sees: every candidate's rolling-origin backtest MAE per origin, and every candidate's forecast
//! of the next `horizon` steps. One JSON object per line on stdout, so that selection rules can be
//! compared offline on the scorer's tasks (`../shared/eval/score-nab.sh --work DIR` keeps them).
//!
//! ```sh
//! cargo run --release -p prescale-forecast --example candidates -- TRAIN.csv HORIZON [TRAIN.csv HORIZON …]
//! ```

use chrono::{DateTime, NaiveDateTime, Utc};
use prescale_core::Series;
use prescale_forecast::backtest::{self, Origins};
use prescale_forecast::point::{Calendar, Clock, LevelModel, PointModel, ProfileLevel, RecentMedian};
use prescale_forecast::{Candidate, EngineSettings, auto_candidates, prepare_history, seasons};

fn parse_ts(s: &str) -> DateTime<Utc> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
        .unwrap_or_else(|e| panic!("timestamp {s:?}: {e}"))
}

fn load(path: &str) -> Series {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows: Vec<(DateTime<Utc>, f64)> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (t, v) = l.split_once(',').expect("ts,value");
            (parse_ts(t), v.trim().parse::<f64>().unwrap_or(f64::NAN))
        })
        .collect();
    let step = (rows[1].0 - rows[0].0).num_seconds();
    Series::new(rows[0].0, step, rows.iter().map(|r| r.1).collect()).expect("regular series")
}

fn json_list(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| if x.is_finite() { format!("{x}") } else { "null".into() }).collect();
    format!("[{}]", items.join(","))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = EngineSettings::default();
    let (mut cands, _) = auto_candidates();
    // Candidates under study, not in `auto`.
    let c = |model: Box<dyn PointModel>| Candidate { model, prior: 0.0 };
    cands.push(c(Box::new(RecentMedian { window_days: 0.25 })));
    cands.push(c(Box::new(RecentMedian { window_days: 0.125 })));
    cands.push(c(Box::new(RecentMedian { window_days: 3.0 })));
    cands.push(c(Box::new(ProfileLevel { season_days: 1, days: 3, level: LevelModel::Smoothed })));
    for pair in args.chunks(2) {
        let (path, horizon) = (&pair[0], pair[1].parse::<usize>().expect("horizon"));
        let history = load(path);
        let prepared = prepare_history(&history, 2).expect("history");
        let step = history.step_secs();
        let m = history.steps_per_day().max(1);
        let max_train = ((settings.train_days * 86_400.0) / step as f64).round() as usize;
        let y = &prepared.values[prepared.values.len().saturating_sub(max_train)..];
        let n = y.len();
        let cal = Calendar {
            steps_per_day: m,
            clock: Some(Clock { start_secs: history.end().timestamp() - n as i64 * step, step_secs: step }),
        };
        let o = Origins {
            horizon: ((settings.horizon_hours * 3600.0) / step as f64).round() as usize,
            spacing: ((settings.spacing_hours * 3600.0) / step as f64).round() as usize,
            count: settings.origins,
            max_train,
        };
        let min_days =
            if (n as f64) < (settings.min_origin_days + 1.0) * m as f64 { 1.0 } else { settings.min_origin_days };
        let min_origin = (min_days * m as f64).round() as usize;
        let period = seasons::detect_period(y, cal);
        let extra = period.map(|p| seasons::period_candidates(p, cal)).unwrap_or_default();
        let week = {
            let w: Vec<f64> =
                if n >= 14 * m { (n - 7 * m..n).map(|t| (y[t] - y[t - 7 * m]).abs()).collect() } else { vec![] };
            let d: Vec<f64> =
                if n >= 14 * m { (n - 7 * m..n).map(|t| (y[t] - y[t - m]).abs()).collect() } else { vec![] };
            let (a, b) = (w.iter().sum::<f64>(), d.iter().sum::<f64>());
            if a > 0.0 && b > 0.0 { (a / b).ln() } else { 0.0 }
        };
        let mut out = Vec::new();
        for (k, cand) in cands.iter().chain(extra.iter()).enumerate() {
            let model = cand.model.as_ref();
            let usable = model.min_history(cal) <= n;
            let bt = if usable {
                backtest::run_at(model, y, cal, &o, min_origin)
            } else {
                backtest::Backtest { origins: vec![], forecasts: vec![], errors: vec![] }
            };
            let maes: Vec<f64> =
                bt.errors.iter().map(|e| e.iter().map(|v| v.abs()).sum::<f64>() / e.len().max(1) as f64).collect();
            let daily: Vec<f64> =
                bt.origins.iter().map(|&o| f64::from(u8::from(!model.weekly_at(o.min(max_train), cal)))).collect();
            let fc = if usable { model.forecast(y, cal, horizon).unwrap_or_default() } else { vec![] };
            let origins: Vec<f64> = bt.origins.iter().map(|&x| x as f64).collect();
            out.push(format!(
                "{{\"k\":{k},\"name\":\"{}\",\"prior\":{},\"robust\":{},\"extra\":{},\"weekly_now\":{},\"origins\":{},\"mae\":{},\"daily\":{},\"forecast\":{}}}",
                model.name(),
                cand.prior,
                model.robust_level(),
                k >= cands.len(),
                model.weekly_at(n, cal),
                json_list(&origins),
                json_list(&maes),
                json_list(&daily),
                json_list(&fc),
            ));
        }
        println!(
            "{{\"path\":\"{path}\",\"n\":{n},\"m\":{m},\"week\":{week},\"non_negative\":{},\"cands\":[{}]}}",
            prepared.non_negative,
            out.join(",")
        );
    }
}
