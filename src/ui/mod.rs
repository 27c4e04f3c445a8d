//! The shell's own screens and bars (micro apps render the rest).

pub mod decimal;
pub mod inspector;
pub mod outbox_panel;
pub mod status_bar;
pub mod update_banner;
