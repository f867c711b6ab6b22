//! What floats above the screen and takes the keys first: the gift and redrive forms, confirm
//! dialogs, the help, a failure's detail and the audit log. Each modal changes itself on a key and returns an
//! [`Outcome`]; the key router carries out the rest. Nothing here reads `App`.

mod confirm;
mod gift;
mod outcome;
mod popup;
mod redrive;

use crossterm::event::KeyEvent;

use voucherdeck_core::domain::{FailureRecord, Limits};

use super::keymap::{Action, Layer};

pub use confirm::{Confirm, redrive_scope_words};
pub use gift::{GiftField, GiftForm};
pub use outcome::{Outcome, Pending};
pub use redrive::{RedriveField, RedriveForm, ScopeChoice};

/// What floats above the screen and takes the keys first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modal {
    Gift(GiftForm),
    Redrive(RedriveForm),
    Confirm(Confirm),
    Help {
        scroll: u16,
    },
    FailureDetail(Box<FailureRecord>),
    /// Every alarm with its state, reason and since when (read from the feeds when drawn).
    Alarms {
        scroll: u16,
    },
    /// The last audited operator actions.
    Audit {
        scroll: u16,
    },
}

impl Modal {
    /// The keymap layer its keys are looked up in.
    pub const fn layer(&self) -> Layer {
        match self {
            Modal::Gift(_) | Modal::Redrive(_) => Layer::Form,
            Modal::Confirm(_) => Layer::Confirm,
            Modal::Help { .. }
            | Modal::FailureDetail(_)
            | Modal::Alarms { .. }
            | Modal::Audit { .. } => Layer::Popup,
        }
    }

    /// One key, with the action it maps to in [`Modal::layer`].
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, limits: &Limits) -> Outcome {
        match self {
            Modal::Gift(form) => form.on_key(key, action, limits),
            Modal::Redrive(form) => form.on_key(key, action),
            Modal::Confirm(confirm) => confirm.on_key(key, action),
            Modal::Help { scroll } | Modal::Alarms { scroll } | Modal::Audit { scroll } => {
                popup::popup_key(Some(scroll), action)
            }
            Modal::FailureDetail(_) => popup::popup_key(None, action),
        }
    }
}
