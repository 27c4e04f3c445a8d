//! The catalog micro app: on its route, what the nearest region holds for the `tasks` stream
//! and how old that answer is; in the shell's sidebar, a summary of the tasks added while the
//! page is open, learned from the tasks app's `tasks.added` event.

mod sidebar;
mod stock;

use leptos::mount::mount_to;
use mfe_sdk::{HostError, MicroApp, Props};

/// The mounted app; dropping the view handle removes its DOM and reactive state.
pub struct Catalog {
    _view: Box<dyn std::any::Any>,
}

impl MicroApp for Catalog {
    fn mount(props: Props) -> Result<Self, HostError> {
        let host = props.host.clone();
        let view: Box<dyn std::any::Any> = if props.slot == "sidebar" {
            Box::new(mount_to(props.element.clone(), move || {
                sidebar::Summary(host)
            }))
        } else {
            Box::new(mount_to(props.element.clone(), move || stock::Stock(host)))
        };
        Ok(Self { _view: view })
    }
}

mfe_sdk::export_lifecycles!(Catalog);
