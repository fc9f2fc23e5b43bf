//! The forecasting engine on synthetic weeks-long traffic (weekly cycles, holidays, trends,
//! incidents, level shifts): it must do at least as well as MSTL alone, whose home ground this is.

use std::sync::Arc;

use chrono::Duration;
use prescale_forecast::evaluate::{EvalSettings, evaluate};
use prescale_forecast::point::Mstl;
use prescale_forecast::synthetic::Shape;
use prescale_forecast::{Candidate, Engine, EngineSettings, ModelSpec};

fn geo_mean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

#[test]
fn engine_beats_mstl_alone_on_synthetic_weekly_traffic() {
    let settings = EvalSettings { train: Duration::days(28), ..EvalSettings::default() };
    let mstl = Engine {
        name: "mstl".into(),
        candidates: Arc::new(vec![Candidate { model: Box::new(Mstl { weekly: true, cleaned: false }), prior: 1.0 }]),
        reference: 0,
        settings: EngineSettings::default(),
    };
    let (mut ratios, mut cov95) = (Vec::new(), Vec::new());
    for seed in 0..6 {
        let series = Shape::web(seed, 42, 3600).series();
        let auto = evaluate("auto", &ModelSpec::Auto, &series, &settings).unwrap();
        let alone = prescale_forecast::evaluate::evaluate_forecaster("mstl", &mstl, &series, &settings).unwrap();
        let naive =
            evaluate("sn", &ModelSpec::SeasonalNaive { season: prescale_forecast::Season::Day }, &series, &settings)
                .unwrap();
        println!(
            "seed {seed}: auto {:.3} mstl {:.3} naive {:.3} cov95 {:.2} ({})",
            auto.mase, alone.mase, naive.mase, auto.coverage[1].1, auto.fitted[0]
        );
        ratios.push(auto.mase / alone.mase);
        cov95.push(auto.coverage[1].1);
    }
    let r = geo_mean(&ratios);
    println!("auto / mstl = {r:.3}");
    assert!(r <= 1.0, "the engine lost to MSTL alone: geometric mean MASE ratio {r:.3} ({ratios:?})");
    let c = cov95.iter().sum::<f64>() / cov95.len() as f64;
    assert!((0.85..=1.0).contains(&c), "95 % coverage {c:.2}");
}

#[test]
fn ridge_beats_seasonal_naive_on_synthetic_weekly_traffic() {
    let settings = EvalSettings { train: Duration::days(28), ..EvalSettings::default() };
    let mut ratios = Vec::new();
    for seed in 0..6 {
        let series = Shape::web(seed, 42, 3600).series();
        let ridge = evaluate("ridge", &ModelSpec::Ridge, &series, &settings).unwrap();
        let naive =
            evaluate("sn", &ModelSpec::SeasonalNaive { season: prescale_forecast::Season::Day }, &series, &settings)
                .unwrap();
        println!("seed {seed}: ridge {:.3} naive {:.3} cov95 {:.2}", ridge.mase, naive.mase, ridge.coverage[1].1);
        ratios.push(ridge.mase / naive.mase);
    }
    let r = geo_mean(&ratios);
    println!("ridge / seasonal naive = {r:.3}");
    assert!(r < 1.0, "ridge lost to seasonal naive: geometric mean MASE ratio {r:.3} ({ratios:?})");
}
