//! The `full` build's UI: the Buy button (and restore button) and the Prompter overlay, rendered
//! with yew. Every decision comes from `mozmarket-core` (`widget::reduce`, `prompter::respond`,
//! `prompter::sanitize`); this module renders core's view and runs core's effects in the browser.

pub mod buy;
mod js;
mod options;
pub mod prompter;
mod receipts;
pub mod restore;
mod style;
