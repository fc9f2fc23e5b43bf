use prescale_core::Series;

use crate::ForecastError;

/// A history made ready for a model: every slot finite.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The values, gap-free.
    pub values: Vec<f64>,
    /// True when every observed value was >= 0 (counts, CPU): forecasts are clipped at 0.
    pub non_negative: bool,
    /// What was repaired, for the user.
    pub warnings: Vec<String>,
}

/// Fills the missing slots that the store left (long gaps) so models see a gap-free history:
/// interior gaps are interpolated linearly, missing slots at the start are dropped, and missing
/// slots at the end are carried forward from the last value. Each repair is reported.
///
/// # Errors
/// [`ForecastError::TooShort`] when the history has fewer than `min_len` observed points.
pub fn prepare_history(history: &Series, min_len: usize) -> Result<Prepared, ForecastError> {
    let v = history.values();
    let observed = v.iter().filter(|x| x.is_finite()).count();
    if observed < min_len.max(1) {
        return Err(ForecastError::TooShort { needed: min_len.max(1), got: observed });
    }
    let mut warnings = Vec::new();
    let first = v.iter().position(|x| x.is_finite()).unwrap_or(0);
    let mut values: Vec<f64> = v[first..].to_vec();
    if first > 0 {
        warnings.push(format!("dropped {first} missing slots at the start of the history"));
    }
    let missing = values.iter().filter(|x| !x.is_finite()).count();
    if missing > 0 {
        warnings.push(format!("filled {missing} missing slots of the history by interpolation"));
        let mut last = 0usize;
        let mut i = 0;
        while i < values.len() {
            if values[i].is_finite() {
                last = i;
                i += 1;
                continue;
            }
            let a = i;
            while i < values.len() && !values[i].is_finite() {
                i += 1;
            }
            let lo = values[last];
            let hi = if i < values.len() { values[i] } else { lo };
            let len = i - a;
            for k in 0..len {
                values[a + k] = lo + (hi - lo) * (k + 1) as f64 / (len + 1) as f64;
            }
        }
    }
    let non_negative = values.iter().all(|x| *x >= 0.0);
    if values.iter().all(|x| *x == values[0]) {
        warnings.push(format!(
            "every value of the history is {}: the forecast repeats it with zero-width intervals (an idle group, or a \
             metric that stopped changing? check it is the load you mean)",
            values[0]
        ));
    }
    Ok(Prepared { values, non_negative, warnings })
}
