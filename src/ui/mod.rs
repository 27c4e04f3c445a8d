//! The shell's own screens and bars (micro apps render the rest).

pub mod outbox_panel;
pub mod status_bar;
