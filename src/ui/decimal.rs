//! Numbers shown to people, formatted with integer arithmetic: `f64`'s `Display` pulls the
//! whole float-printing machinery (≈ 14 KB of wasm) into the shell for a handful of labels.

/// `value` rounded to `places` decimals (0–3), e.g. `fixed(12.345, 1)` → `"12.3"`.
/// Not-a-number and infinities read as `"–"`; values beyond ±9e15 are clamped.
pub fn fixed(value: f64, places: u32) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let places = places.min(3);
    let scale = 10_i64.pow(places);
    let scaled = (value * scale as f64).round().clamp(-9e15, 9e15) as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let magnitude = scaled.unsigned_abs();
    let whole = magnitude / scale as u64;
    if places == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = magnitude % scale as u64;
    format!("{sign}{whole}.{fraction:0width$}", width = places as usize)
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn rounds_like_the_standard_formatter() {
        for (value, places) in [
            (0.0, 1),
            (12.345, 1),
            (12.35, 0),
            (0.04, 1),
            (0.05, 1),
            (999.96, 1),
            (1234.5678, 3),
            (-0.5, 0),
            (-3.25, 1),
            (7.0, 2),
            (1e12 + 0.3, 1),
        ] {
            let ours = fixed(value, places);
            let std = format!("{value:.prec$}", prec = places as usize);
            // The standard formatter rounds half to even on the exact binary value; ours
            // rounds half away from zero. They may differ only on an exact tie.
            let tie = ((value * 10f64.powi(places as i32)).fract().abs() - 0.5).abs() < 1e-9;
            if !tie {
                assert_eq!(ours, std, "{value} to {places} places");
            }
        }
    }

    #[test]
    fn negative_zero_and_small_negatives_have_no_stray_sign() {
        assert_eq!(fixed(-0.0, 1), "0.0");
        assert_eq!(fixed(-0.01, 1), "0.0");
        assert_eq!(fixed(-1.26, 1), "-1.3");
    }

    #[test]
    fn non_finite_values_read_as_a_dash() {
        assert_eq!(fixed(f64::NAN, 1), "–");
        assert_eq!(fixed(f64::INFINITY, 0), "–");
    }
}
