//! The browser's clocks, read in one place so the cores can take time as an argument.

/// Wall-clock time, ms since the Unix epoch.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Monotonic time for measuring durations, ms with sub-ms precision.
pub fn monotonic_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// Epoch-based time that never steps back (page start + monotonic time), for logic that must
/// not freeze when the wall clock is corrected backwards (probe schedules, cool-downs).
pub fn steady_ms() -> i64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| (p.time_origin() + p.now()) as i64)
        .unwrap_or_else(now_ms)
}
