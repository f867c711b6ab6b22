//! The terminal dashboard, in the Elm architecture: `App` holds all UI state, `update(&mut App, Msg)`
//! returns `Effect`s and does no I/O, views render `&App`. `effects` is the only module that calls the
//! services; `run` owns the terminal and the event loop.

mod actions;
pub mod app;
pub mod browser;
mod browser_actions;
mod browser_update;
mod cursor;
pub mod editor;
pub mod effects;
pub mod feeds;
pub mod figures;
pub mod focus;
pub mod keymap;
mod keys;
pub mod logging;
pub mod modal;
pub mod msg;
pub mod overview;
pub mod run;
pub mod terminal;
mod text;
pub mod theme;
pub mod update;
pub mod view;

pub use app::{App, AppInfo, IntakeInfo, Screen};
pub use keymap::{Action, KeyMap, Layer};
pub use modal::Modal;
pub use msg::{Effect, Msg};
pub use run::{TuiOptions, WorkerMode, run, run_many};
pub use update::update;
pub use view::render;
