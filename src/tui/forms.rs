//! The modal forms (gift, redrive) and the confirm dialog: state and pure validation.

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::limits::{check_redrive_rate, redrive_rate_rule};
use crate::domain::{Field, GiftRequest, Limits, QueueName, validate_field};
use crate::pipeline::{RedriveRequest, RedriveScope};

/// Longest text a form field accepts (the domain's own limits are checked by validation).
const FIELD_MAX_CHARS: usize = 512;

/// Types a plain character or deletes one; returns whether the text changed.
pub fn edit_text(text: &mut String, key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            if text.chars().count() < FIELD_MAX_CHARS {
                text.push(c);
            }
            true
        }
        KeyCode::Backspace => text.pop().is_some(),
        _ => false,
    }
}

/// Whether a key would be typed into a text field (so it is not looked up in the keymap).
pub fn is_text_key(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_) | KeyCode::Backspace)
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// The gift form's fields, in order.
pub const GIFT_FIELDS: [Field; 5] = [
    Field::Recipient,
    Field::Amount,
    Field::Currency,
    Field::Sender,
    Field::Note,
];

/// The gift form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftForm {
    pub recipient: String,
    pub amount: String,
    pub currency: String,
    pub sender: String,
    pub note: String,
    /// Index into [`GIFT_FIELDS`].
    pub focus: usize,
    /// Fields the user typed in or left: their errors show.
    pub touched: [bool; 5],
    /// Current errors per field (all fields, shown only when touched).
    pub errors: HashMap<Field, String>,
    /// Waiting for the service's answer.
    pub submitting: bool,
    /// An error for the whole form (rate limit, backend).
    pub form_error: Option<String>,
}

impl GiftForm {
    pub fn new(limits: &Limits) -> GiftForm {
        let mut f = GiftForm {
            recipient: String::new(),
            amount: String::new(),
            // Empty means USD (said under the field): a prefilled value would be typed onto.
            currency: String::new(),
            sender: String::new(),
            note: String::new(),
            focus: 0,
            touched: [false; 5],
            errors: HashMap::new(),
            submitting: false,
            form_error: None,
        };
        f.revalidate(limits);
        f
    }

    pub fn focused(&self) -> Field {
        GIFT_FIELDS[self.focus.min(GIFT_FIELDS.len() - 1)]
    }

    pub fn value(&self, field: Field) -> &str {
        match field {
            Field::Recipient => &self.recipient,
            Field::Amount => &self.amount,
            Field::Currency => &self.currency,
            Field::Sender => &self.sender,
            Field::Note | Field::IdempotencyKey => &self.note,
        }
    }

    pub fn value_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::Recipient => &mut self.recipient,
            Field::Amount => &mut self.amount,
            Field::Currency => &mut self.currency,
            Field::Sender => &mut self.sender,
            Field::Note | Field::IdempotencyKey => &mut self.note,
        }
    }

    /// The request as typed.
    pub fn request(&self) -> GiftRequest {
        let opt = |s: &str| {
            if s.trim().is_empty() {
                None
            } else {
                Some(s.to_string())
            }
        };
        GiftRequest {
            recipient: self.recipient.clone(),
            amount: self.amount.clone(),
            currency: opt(&self.currency),
            sender: self.sender.clone(),
            note: opt(&self.note),
            idempotency_key: None,
        }
    }

    /// Re-runs `validate_field` on every field.
    pub fn revalidate(&mut self, limits: &Limits) {
        let req = self.request();
        self.errors = GIFT_FIELDS
            .iter()
            .filter_map(|f| validate_field(*f, &req, limits).map(|e| (*f, e.rule)))
            .collect();
    }

    /// The error to show under a field, if the user has reached it.
    pub fn shown_error(&self, index: usize) -> Option<&str> {
        let field = GIFT_FIELDS.get(index)?;
        if self.touched.get(index).copied().unwrap_or(false) {
            self.errors.get(field).map(String::as_str)
        } else {
            None
        }
    }

    pub fn touch(&mut self, index: usize) {
        if let Some(t) = self.touched.get_mut(index) {
            *t = true;
        }
    }
}

/// Which DLQ messages the redrive form targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeChoice {
    All,
    Selected,
    Match,
}

impl ScopeChoice {
    pub const fn label(self) -> &'static str {
        match self {
            ScopeChoice::All => "all messages",
            ScopeChoice::Selected => "selected in the DLQ browser",
            ScopeChoice::Match => "messages whose body contains…",
        }
    }
}

/// The redrive form's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RedriveField {
    Destination,
    Scope,
    Filter,
    Rate,
}

impl RedriveField {
    pub const fn label(self) -> &'static str {
        match self {
            RedriveField::Destination => "Destination",
            RedriveField::Scope => "Scope",
            RedriveField::Filter => "Body contains",
            RedriveField::Rate => "Rate (msg/s)",
        }
    }
}

/// The redrive form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveForm {
    /// The DLQ (fixed).
    pub source: String,
    /// Empty: back to the original source queue.
    pub destination: String,
    pub scope: ScopeChoice,
    /// The ids selected in the DLQ browser when the form opened.
    pub selected: Vec<String>,
    pub filter: String,
    pub rate: String,
    pub focus: RedriveField,
    pub errors: BTreeMap<RedriveField, String>,
}

impl RedriveForm {
    pub fn new(source: String, selected: Vec<String>) -> RedriveForm {
        let scope = if selected.is_empty() {
            ScopeChoice::All
        } else {
            ScopeChoice::Selected
        };
        RedriveForm {
            source,
            destination: String::new(),
            scope,
            selected,
            filter: String::new(),
            rate: "10".into(),
            focus: RedriveField::Destination,
            errors: BTreeMap::new(),
        }
    }

    /// The fields in order; the filter shows only for a body-filter scope.
    pub fn fields(&self) -> Vec<RedriveField> {
        let mut v = vec![RedriveField::Destination, RedriveField::Scope];
        if self.scope == ScopeChoice::Match {
            v.push(RedriveField::Filter);
        }
        v.push(RedriveField::Rate);
        v
    }

    /// Moves focus by `delta` fields, wrapping.
    pub fn move_focus(&mut self, forward: bool) {
        let fields = self.fields();
        let at = fields.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = fields.len();
        let next = if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        };
        self.focus = fields[next];
    }

    /// Cycles the scope; "selected" is offered only when something is selected.
    pub fn cycle_scope(&mut self, forward: bool) {
        let mut choices = vec![ScopeChoice::All];
        if !self.selected.is_empty() {
            choices.push(ScopeChoice::Selected);
        }
        choices.push(ScopeChoice::Match);
        let at = choices.iter().position(|c| *c == self.scope).unwrap_or(0);
        let n = choices.len();
        self.scope = choices[if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        }];
        self.errors.remove(&RedriveField::Filter);
    }

    pub fn text_mut(&mut self) -> Option<&mut String> {
        match self.focus {
            RedriveField::Destination => Some(&mut self.destination),
            RedriveField::Filter => Some(&mut self.filter),
            RedriveField::Rate => Some(&mut self.rate),
            RedriveField::Scope => None,
        }
    }

    /// Checks every field; on success, the plan to confirm.
    pub fn validate(&mut self) -> Option<RedriveRequest> {
        self.errors.clear();
        let dest = self.destination.trim();
        if !dest.is_empty() {
            if QueueName::parse(dest).is_err() {
                self.errors
                    .insert(RedriveField::Destination, QueueName::RULE.to_string());
            } else if dest == self.source {
                self.errors
                    .insert(RedriveField::Destination, "is the DLQ itself".into());
            }
        }
        if self.scope == ScopeChoice::Match && self.filter.trim().is_empty() {
            self.errors
                .insert(RedriveField::Filter, "is required for a body filter".into());
        }
        if self.scope == ScopeChoice::Selected && self.selected.is_empty() {
            self.errors.insert(
                RedriveField::Scope,
                "nothing is selected in the DLQ browser".into(),
            );
        }
        let rate = match self.rate.trim() {
            "" => None,
            r => {
                let checked = r.parse::<u32>().ok().map(check_redrive_rate);
                if let Some(Ok(n)) = checked {
                    Some(n)
                } else {
                    self.errors.insert(
                        RedriveField::Rate,
                        format!("{}, or empty for the default", redrive_rate_rule()),
                    );
                    None
                }
            }
        };
        if !self.errors.is_empty() {
            if let Some(first) = self
                .fields()
                .into_iter()
                .find(|f| self.errors.contains_key(f))
            {
                self.focus = first;
            }
            return None;
        }
        let scope = match self.scope {
            ScopeChoice::All => RedriveScope::All,
            ScopeChoice::Selected => RedriveScope::Ids(self.selected.clone()),
            ScopeChoice::Match => RedriveScope::Match(self.filter.trim().to_string()),
        };
        Some(RedriveRequest {
            scope,
            destination: (!dest.is_empty()).then(|| dest.to_string()),
            rate,
        })
    }
}

/// What a confirm dialog does when confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Delete { ids: Vec<String> },
    Redrive(RedriveRequest),
    Purge,
}

/// A confirm dialog. Irreversible actions carry `type_to_confirm`: the text to type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub pending: Pending,
    pub type_to_confirm: Option<String>,
    pub typed: String,
    /// The form to return to when cancelled.
    pub back: Option<Box<super::app::Modal>>,
}

impl Confirm {
    pub fn typed_matches(&self) -> bool {
        self.type_to_confirm
            .as_deref()
            .is_none_or(|expected| self.typed == expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gift_form_validates_each_field() {
        let mut f = GiftForm::new(&Limits::default());
        assert!(f.errors.contains_key(&Field::Recipient));
        assert!(
            !f.errors.contains_key(&Field::Currency),
            "empty currency means USD"
        );
        assert_eq!(f.shown_error(0), None, "untouched fields show no error");
        f.recipient = "ada@".into();
        f.touch(0);
        f.revalidate(&Limits::default());
        assert!(f.shown_error(0).is_some_and(|e| e.contains("email")));
    }

    #[test]
    fn redrive_form_checks_rate_and_destination() {
        let mut f = RedriveForm::new("dlq".into(), vec![]);
        f.rate = "0".into();
        f.destination = "dlq".into();
        assert_eq!(f.validate(), None);
        assert!(f.errors.contains_key(&RedriveField::Rate));
        assert!(f.errors.contains_key(&RedriveField::Destination));
        assert_eq!(f.focus, RedriveField::Destination);
        f.rate = "25".into();
        f.destination = String::new();
        assert_eq!(
            f.validate(),
            Some(RedriveRequest {
                scope: RedriveScope::All,
                destination: None,
                rate: Some(25)
            })
        );
    }

    #[test]
    fn scope_cycles_skip_selected_when_nothing_is_selected() {
        let mut f = RedriveForm::new("dlq".into(), vec![]);
        f.cycle_scope(true);
        assert_eq!(f.scope, ScopeChoice::Match);
        assert_eq!(
            f.fields(),
            vec![
                RedriveField::Destination,
                RedriveField::Scope,
                RedriveField::Filter,
                RedriveField::Rate
            ]
        );
        let mut g = RedriveForm::new("dlq".into(), vec!["m1".into()]);
        assert_eq!(g.scope, ScopeChoice::Selected);
        g.cycle_scope(true);
        assert_eq!(g.scope, ScopeChoice::Match);
    }
}
