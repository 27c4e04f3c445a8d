//! The tasks micro app: a form that adds tasks as durable commands, and the list of what was
//! added with each command's delivery state.

mod view;

use leptos::mount::mount_to;
use mfe_sdk::{HostError, MicroApp, Props};

/// The mounted app; dropping the view handle removes its DOM and reactive state.
pub struct Tasks {
    _view: Box<dyn std::any::Any>,
}

impl MicroApp for Tasks {
    fn mount(props: Props) -> Result<Self, HostError> {
        let host = props.host.clone();
        let handle = mount_to(props.element.clone(), move || view::TasksView(host));
        Ok(Self {
            _view: Box::new(handle),
        })
    }
}

mfe_sdk::export_lifecycles!(Tasks);
