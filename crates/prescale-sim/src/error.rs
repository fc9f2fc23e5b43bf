use thiserror::Error;

/// Why a simulation cannot run.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SimError {
    /// The trace holds no finite value at zero or above.
    #[error(
        "the trace holds no usable value: every one is missing (empty, NaN) or below zero, and load is never \
         negative\nhint: check that the value column is the load (requests, CPU %), not a difference or a rate of \
         change"
    )]
    Empty,
    /// The trace covers less than a minute, the replay's step.
    #[error(
        "the trace covers {secs} s, less than a minute: the replay walks it minute by minute\nhint: pass a trace of \
         at least a minute (and days of it for the forecasting policies)"
    )]
    UnderAMinute {
        /// Seconds the trace covers.
        secs: i64,
    },
    /// The trace's step is not a positive number of seconds.
    #[error("the trace's step must be a positive number of seconds, got {0}")]
    BadStep(i64),
    /// `capacity_per_instance` is zero, negative or not a number.
    #[error("capacity per instance must be a positive number, got {0}")]
    BadCapacity(f64),
    /// The trace's 95th percentile is zero, so no default capacity can be derived from it.
    #[error(
        "cannot size a default capacity per instance: the trace's 95th percentile is {0}\nhint: give one with --capacity"
    )]
    NoDefaultCapacity(f64),
    /// `target_utilization` outside (0, 1].
    #[error("target utilization must be in (0, 1], got {0}{hint}", hint = percent_hint(*.0, "%"))]
    BadTarget(f64),
    /// A target at or above what a saturating metric can read: target tracking never scales out.
    #[error(
        "target utilization {target} with a metric that reads at most {:.0} % of the capacity (a CPU utilization, \
         --saturating-metric): it never reads above the target, so target tracking would never scale out\nhint: a \
         target below that (for a group, its reactive target_value below 100 % CPU), or a metric that reads the \
         whole demand (--saturating-metric false)",
        ceiling * 100.0
    )]
    TargetAtCeiling {
        /// The target utilization.
        target: f64,
        /// What the metric reads at most.
        ceiling: f64,
    },
    /// `quantile` outside [0.5, 1).
    #[error("the planning quantile must be in [0.5, 1), got {0}{hint}", hint = percent_hint(*.0, "P"))]
    BadQuantile(f64),
    /// `quantile_utilization` outside [target, 1].
    #[error("the quantile's utilization must be in [target, 1] = [{target}, 1], got {got}")]
    BadQuantileUtilization {
        /// The given value.
        got: f64,
        /// The target utilization.
        target: f64,
    },
    /// A negative or non-finite headroom.
    #[error("headroom must be a fraction >= 0, got {0}")]
    BadHeadroom(f64),
    /// `min > max`, or a minimum of zero.
    #[error("group bounds are contradictory: min {min}, max {max} (need 1 <= min <= max)")]
    BadBounds {
        /// Lower bound.
        min: u32,
        /// Upper bound.
        max: u32,
    },
    /// A minimum of zero with no maximum given.
    #[error("the group's minimum must be at least 1 instance, got 0")]
    ZeroMinimum,
    /// The trace's peak needs more instances than the replay models (no maximum was given).
    #[error(
        "at a capacity of {capacity} per instance the trace's peak needs {need} instances at the target; the \
         replay models groups of at most {limit} instances\nhint: --capacity is the load one instance serves at \
         full utilization, in the trace's units per step: check its scale (or bound the group with --max)"
    )]
    TooLarge {
        /// Instances the trace's peak needs at the target utilization (`more than 1e15` when so).
        need: String,
        /// The capacity per instance.
        capacity: String,
        /// [`crate::MAX_INSTANCES`].
        limit: u32,
    },
    /// A metric period outside 1 minute to an hour.
    #[error(
        "--metric-period-mins {0} must be between 1 and {max} minutes: 1 with detailed monitoring, 5 with basic \
         monitoring",
        max = crate::MAX_METRIC_PERIOD_MINS
    )]
    BadMetricPeriod(u32),
    /// A minimum above what the replay models.
    #[error("--min {min}: the replay models groups of at most {limit} instances")]
    MinTooLarge {
        /// The minimum given.
        min: u32,
        /// [`crate::MAX_INSTANCES`].
        limit: u32,
    },
    /// A maximum above what the replay models.
    #[error("--max {max}: the replay models groups of at most {limit} instances")]
    MaxTooLarge {
        /// The maximum given.
        max: u32,
        /// [`crate::MAX_INSTANCES`].
        limit: u32,
    },
    /// A policy that forecasts was asked for, but the trace is too short for its first nightly run.
    #[error(
        "the trace covers {got_hours:.1} h; policies {policies} need {history_days} day{} of history before their \
         first nightly forecast, plus a day to replay it\nhint: pass a longer trace, {}or run only --policies \
         reactive,step,static,scheduled,oracle",
        if *.history_days == 1 { "" } else { "s" },
        if *.history_days > 1 { "lower --min-history-days (at least 1), " } else { "" }
    )]
    TooShortForForecast {
        /// Hours the trace covers.
        got_hours: f64,
        /// Days of history before the first nightly run.
        history_days: u32,
        /// The forecasting policies asked for.
        policies: String,
    },
    /// A price that is negative, not a number, or past [`crate::MAX_PRICE`].
    #[error("the {what} price must be a number of dollars per instance-hour from 0 to 1000000, got {price}")]
    BadPrice {
        /// `on-demand` or `spot`.
        what: &'static str,
        /// The price given.
        price: f64,
    },
    /// A spot share outside [0, 1].
    #[error(
        "the spot share must be a fraction in [0, 1], got {0}\nhint: --spot-share 0.6 runs 60 % of the instance-hours on spot"
    )]
    BadSpotShare(f64),
    /// A spot share without the two prices it needs.
    #[error("a spot share needs the on-demand price and the spot price; {missing} missing\nhint: add {hint}")]
    SpotWithoutPrices {
        /// What is missing, in words.
        missing: &'static str,
        /// The flags that give it.
        hint: &'static str,
    },
    /// A spot price without a spot share.
    #[error(
        "a spot price was given without a spot share\nhint: add --spot-share FRACTION (the share of instance-hours on spot)"
    )]
    SpotPriceWithoutShare,
    /// A spot price above the on-demand price.
    #[error(
        "the spot price {spot} is above the on-demand price {on_demand}\nhint: spot is the cheaper market; check the two prices"
    )]
    SpotAboveOnDemand {
        /// Spot price.
        spot: f64,
        /// On-demand price.
        on_demand: f64,
    },
    /// No policy to simulate.
    #[error("no policy to simulate")]
    NoPolicy,
}
/// A fraction written as a percentage (70 for 70 %, 90 for P90): the fraction it means.
fn percent_hint(v: f64, unit: &str) -> String {
    let said = if unit == "%" { format!("{v} %") } else { format!("{unit}{v}") };
    // Only where the fraction is valid and likely: a quantile from P50 to below P100, a
    // utilization from 5 % (1.5 is more likely a fraction mistyped than 1.5 %) to 100 %.
    let valid = if unit == "%" { (5.0..=100.0).contains(&v) } else { (50.0..100.0).contains(&v) };
    if valid {
        format!("\nhint: give it as a fraction: {} for {said}", v / 100.0)
    } else if unit == "%" {
        "\nhint: a fraction of an instance's capacity, above 0 and at most 1: 0.7 for 70 %".to_string()
    } else {
        String::new()
    }
}

impl SimError {
    /// [`SimError::TooLarge`] for a peak load `peak` at `capacity` per instance and the target
    /// utilization `target`: the instances it needs (`more than 1e15` past that) and the capacity,
    /// in a short form at scales far from 1.
    pub(crate) fn too_large(peak: f64, capacity: f64, target: f64) -> Self {
        let need = (peak / (capacity * target)).ceil();
        let short = |v: f64| if (1e-3..1e9).contains(&v.abs()) { format!("{v}") } else { format!("{v:.3e}") };
        SimError::TooLarge {
            need: if need <= 1e15 { format!("{need}") } else { "more than 1e15".into() },
            capacity: short(capacity),
            limit: crate::MAX_INSTANCES,
        }
    }
}
