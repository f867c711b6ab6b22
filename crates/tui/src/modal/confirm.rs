//! Confirm dialogs: they name what will happen (and how many), and irreversible actions ask for a
//! name to be typed.

use crossterm::event::KeyEvent;

use voucherdeck_core::domain::text::sanitize;
use voucherdeck_core::domain::{GiftRequest, OperatorNote};
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
    /// The operator's note for the audit log (optional; dialogs whose pending action takes one).
    pub note: String,
    /// Characters go into the note (Tab moves there and back).
    pub note_focused: bool,
    /// The rule the note breaks, once confirming was tried.
    pub note_error: Option<String>,
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
            note: String::new(),
            note_focused: false,
            note_error: None,
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
            Pending::Delete { ids, note: None },
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
                Pending::Purge { note: None },
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
        let mut lines = vec![
            format!("Move {what}"),
            format!("from {dlq}"),
            format!("to {to}"),
            format!("at {rate}."),
            "Moved messages get new message ids and are processed again.".into(),
        ];
        if let Some(note) = &plan.note {
            lines.push(format!("Note: {note}"));
        }
        Confirm {
            back: Some(Box::new(form)),
            ..Confirm::new("Redrive", lines, Pending::Redrive(plan))
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
                note: None,
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

    /// Whether characters are typed into the dialog (its note or the name to type).
    pub fn takes_text(&self) -> bool {
        self.note_focused || self.type_to_confirm.is_some()
    }

    /// One key: typed into the note when it has the focus, or into the name when one is asked
    /// for; Tab moves between them; else confirm or cancel. A note breaking the rule keeps the
    /// dialog open with the rule shown.
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>) -> Outcome {
        if self.note_focused && is_text_key(key) {
            edit_text(&mut self.note, key);
            self.note_error = None;
            return Outcome::Stay;
        }
        if self.type_to_confirm.is_some() && is_text_key(key) {
            edit_text(&mut self.typed, key);
            return Outcome::Stay;
        }
        match action {
            Some(Action::Cancel) => Outcome::Back,
            Some(Action::NextField | Action::PrevField) if self.pending.takes_note() => {
                self.note_focused = !self.note_focused;
                Outcome::Stay
            }
            Some(Action::Confirm) if self.typed_matches() => self.confirmed(),
            _ => Outcome::Unused,
        }
    }

    fn confirmed(&mut self) -> Outcome {
        if !self.pending.takes_note() {
            return Outcome::Run(self.pending.clone());
        }
        match OperatorNote::parse(&self.note) {
            Ok(note) => Outcome::Run(self.pending.clone().noted(note)),
            Err(rule) => {
                self.note_error = Some(format!("note {rule}"));
                self.note_focused = true;
                Outcome::Stay
            }
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
