//! Confirm dialogs: they name what will happen (and how many), and irreversible actions ask for a
//! name to be typed.

use crossterm::event::KeyEvent;

use voucherdeck_core::domain::GiftRequest;
use voucherdeck_core::domain::text::sanitize;
use voucherdeck_pipeline::{DlqFilter, RedriveRequest, RedriveScope};

use super::super::keymap::Action;
use super::super::text::{edit_text, is_text_key, plural};
use super::outcome::{Outcome, Pending};
use super::redrive::RedriveForm;

/// A confirm dialog. Irreversible actions carry `type_to_confirm`: the text to type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub pending: Pending,
    pub type_to_confirm: Option<String>,
    pub typed: String,
    /// The form to return to when cancelled.
    pub back: Option<Box<RedriveForm>>,
    /// Waiting for a dry-run count: it cannot be confirmed until the count is in.
    pub counting: bool,
}

impl Confirm {
    fn new(title: &str, lines: Vec<String>, pending: Pending) -> Confirm {
        Confirm {
            title: title.into(),
            lines,
            pending,
            type_to_confirm: None,
            typed: String::new(),
            back: None,
            counting: false,
        }
    }

    /// Deleting messages from the DLQ, by id.
    pub fn delete(dlq: &str, ids: Vec<String>) -> Confirm {
        let n = ids.len();
        Confirm::new(
            "Delete from the DLQ",
            vec![
                format!("Delete {n} message{} from {dlq}?", plural(n)),
                "Deleted messages are gone for good: export them first if unsure.".into(),
            ],
            Pending::Delete { ids },
        )
    }

    /// Purging the DLQ: the name must be typed.
    pub fn purge(dlq: &str, approx_count: Option<u64>) -> Confirm {
        let count = approx_count.map_or_else(
            || "every message".to_string(),
            |n| format!("every message (~{n})"),
        );
        Confirm {
            type_to_confirm: Some(dlq.to_string()),
            ..Confirm::new(
                "Purge the DLQ",
                vec![
                    format!("Delete {count} in {dlq}."),
                    "This cannot be undone, and SQS allows one purge a minute.".into(),
                    "Export first if you may need them.".into(),
                ],
                Pending::Purge,
            )
        }
    }

    /// A redrive plan, in words: what moves (`what`), from the DLQ, to where (`to`); cancelling returns
    /// to the form.
    pub fn redrive(
        plan: RedriveRequest,
        what: &str,
        dlq: &str,
        to: &str,
        form: RedriveForm,
    ) -> Confirm {
        let rate = plan.rate.map_or_else(
            || "the backend's default rate".to_string(),
            |r| format!("{r} msg/s"),
        );
        Confirm {
            back: Some(Box::new(form)),
            ..Confirm::new(
                "Redrive",
                vec![
                    format!("Move {what}"),
                    format!("from {dlq}"),
                    format!("to {to}"),
                    format!("at {rate}."),
                    "Moved messages get new message ids and are processed again.".into(),
                ],
                Pending::Redrive(plan),
            )
        }
    }

    /// Resending an edited DLQ message: where it goes, and that the original goes.
    pub fn resend(dlq: &str, source: &str, message_id: &str, gift: GiftRequest) -> Confirm {
        Confirm::new(
            "Resend",
            vec![
                format!(
                    "Send {} {} from {} to {} as a new message,",
                    sanitize(&gift.amount),
                    sanitize(gift.currency.as_deref().unwrap_or("USD")),
                    sanitize(&gift.sender),
                    sanitize(&gift.recipient)
                ),
                format!(
                    "to {source}, then delete message {} from {dlq}?",
                    sanitize(message_id)
                ),
                "The original is deleted only after the send succeeded.".into(),
            ],
            Pending::Resend {
                message_id: message_id.to_string(),
                gift,
            },
        )
    }

    pub fn typed_matches(&self) -> bool {
        !self.counting
            && self
                .type_to_confirm
                .as_deref()
                .is_none_or(|expected| self.typed == expected)
    }

    /// The filter a redrive plan must count first, if it is one.
    pub fn filter_of(plan: &RedriveRequest) -> Option<DlqFilter> {
        match &plan.scope {
            RedriveScope::Match(text) => Some(DlqFilter {
                text: Some(text.clone()),
                ..DlqFilter::default()
            }),
            RedriveScope::Filter(f) => Some(f.clone()),
            RedriveScope::All | RedriveScope::Ids(_) => None,
        }
    }

    /// The dry-run count arrived: the first line says it, and the dialog can be confirmed.
    pub fn counted(&mut self, words: String) {
        if let Some(first) = self.lines.first_mut() {
            *first = words;
        }
        self.counting = false;
    }

    /// One key: typed into the name when one is asked for, else confirm or cancel.
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>) -> Outcome {
        if self.type_to_confirm.is_some() && is_text_key(key) {
            edit_text(&mut self.typed, key);
            return Outcome::Stay;
        }
        match action {
            Some(Action::Cancel) => Outcome::Back,
            Some(Action::Confirm) if self.typed_matches() => Outcome::Run(self.pending.clone()),
            _ => Outcome::Unused,
        }
    }
}

/// The words for a redrive's scope: how many messages, as far as the dashboard knows.
pub fn redrive_scope_words(plan: &RedriveRequest, dlq_count: Option<u64>) -> String {
    match &plan.scope {
        RedriveScope::All => match dlq_count {
            Some(n) => format!("all ~{n} messages (approximate count)"),
            None => "all messages (count not known yet)".to_string(),
        },
        RedriveScope::Ids(ids) => format!("{} selected message{}", ids.len(), plural(ids.len())),
        RedriveScope::Filter(_) | RedriveScope::Match(_) => {
            let filter = Confirm::filter_of(plan).unwrap_or_default();
            format!(
                "every message where {} (counting over the whole DLQ…)",
                sanitize(&filter.describe())
            )
        }
    }
}
