//! The redrive form: destination, scope, body filter, rate; and what its keys do.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent};

use voucherdeck_core::domain::limits::{check_redrive_rate, redrive_rate_rule};
use voucherdeck_core::domain::{FailureKind, OperatorNote, QueueName};
use voucherdeck_pipeline::{DlqFilter, RedriveRequest, RedriveScope};

use super::super::keymap::Action;
use super::super::text::{edit_text, is_text_key};
use super::outcome::Outcome;

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
            ScopeChoice::Match => "messages matching a filter (whole DLQ)…",
        }
    }
}

/// The redrive form's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RedriveField {
    Destination,
    Scope,
    Filter,
    Kind,
    Reason,
    Rate,
    Note,
}

impl RedriveField {
    pub const fn label(self) -> &'static str {
        match self {
            RedriveField::Destination => "Destination",
            RedriveField::Scope => "Scope",
            RedriveField::Filter => "Body contains",
            RedriveField::Kind => "Failure kind",
            RedriveField::Reason => "Reason contains",
            RedriveField::Rate => "Rate (msg/s)",
            RedriveField::Note => "Note",
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
    /// A failure kind (`invalid`, `schema`…), for a filter scope.
    pub kind: String,
    /// Text of the failure reason, for a filter scope.
    pub reason: String,
    pub rate: String,
    /// The operator's note for the audit log (optional).
    pub note: String,
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
            kind: String::new(),
            reason: String::new(),
            rate: "10".into(),
            note: String::new(),
            focus: RedriveField::Destination,
            errors: BTreeMap::new(),
        }
    }

    /// The fields in order; the filter's show only for a filter scope.
    pub fn fields(&self) -> Vec<RedriveField> {
        let mut v = vec![RedriveField::Destination, RedriveField::Scope];
        if self.scope == ScopeChoice::Match {
            v.extend([
                RedriveField::Filter,
                RedriveField::Kind,
                RedriveField::Reason,
            ]);
        }
        v.extend([RedriveField::Rate, RedriveField::Note]);
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
        for f in [RedriveField::Filter, RedriveField::Kind] {
            self.errors.remove(&f);
        }
    }

    pub fn text_mut(&mut self) -> Option<&mut String> {
        match self.focus {
            RedriveField::Destination => Some(&mut self.destination),
            RedriveField::Filter => Some(&mut self.filter),
            RedriveField::Kind => Some(&mut self.kind),
            RedriveField::Reason => Some(&mut self.reason),
            RedriveField::Rate => Some(&mut self.rate),
            RedriveField::Note => Some(&mut self.note),
            RedriveField::Scope => None,
        }
    }

    /// One key: typed into the focused field (space cycles the scope), or the form's action.
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>) -> Outcome {
        if is_text_key(key) {
            if self.focus == RedriveField::Scope {
                if key.code == KeyCode::Char(' ') {
                    self.cycle_scope(true);
                }
            } else if let Some(text) = self.text_mut() {
                edit_text(text, key);
                let focus = self.focus;
                self.errors.remove(&focus);
            }
            return Outcome::Stay;
        }
        match action {
            Some(Action::Cancel) => return Outcome::Close,
            Some(Action::NextField) => self.move_focus(true),
            Some(Action::PrevField) => self.move_focus(false),
            Some(a @ (Action::OptionNext | Action::OptionPrev)) => {
                if self.focus == RedriveField::Scope {
                    self.cycle_scope(a == Action::OptionNext);
                }
            }
            Some(Action::ClearField) => {
                if let Some(t) = self.text_mut() {
                    t.clear();
                }
            }
            Some(Action::Submit) => {
                if let Some(plan) = self.validate() {
                    return Outcome::ConfirmRedrive(plan);
                }
            }
            _ => return Outcome::Unused,
        }
        Outcome::Stay
    }

    /// The rate, `None` for the backend's default (or when it breaks the rule: then its error is
    /// in `errors`).
    fn checked_rate(rate: &str, errors: &mut BTreeMap<RedriveField, String>) -> Option<u32> {
        match rate.trim() {
            "" => None,
            r => {
                let checked = r.parse::<u32>().ok().map(check_redrive_rate);
                if let Some(Ok(n)) = checked {
                    Some(n)
                } else {
                    errors.insert(
                        RedriveField::Rate,
                        format!("{}, or empty for the default", redrive_rate_rule()),
                    );
                    None
                }
            }
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
        let (text, kind, reason) = (self.filter.trim(), self.kind.trim(), self.reason.trim());
        if self.scope == ScopeChoice::Match {
            if text.is_empty() && kind.is_empty() && reason.is_empty() {
                self.errors.insert(
                    RedriveField::Filter,
                    "give body text, a failure kind or reason text".into(),
                );
            }
            if !kind.is_empty() && FailureKind::parse(kind).is_none() {
                self.errors.insert(
                    RedriveField::Kind,
                    "not_json, schema, invalid, throttled, unavailable, timeout or backend".into(),
                );
            }
        }
        if self.scope == ScopeChoice::Selected && self.selected.is_empty() {
            self.errors.insert(
                RedriveField::Scope,
                "nothing is selected in the DLQ browser".into(),
            );
        }
        let rate = Self::checked_rate(&self.rate, &mut self.errors);
        let note = OperatorNote::parse(&self.note)
            .map_err(|rule| self.errors.insert(RedriveField::Note, rule))
            .ok()
            .flatten();
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
            ScopeChoice::Match if kind.is_empty() && reason.is_empty() => {
                RedriveScope::Match(text.to_string())
            }
            ScopeChoice::Match => {
                let given = |s: &str| (!s.is_empty()).then(|| s.to_string());
                RedriveScope::Filter(DlqFilter {
                    text: given(text),
                    kind: given(kind),
                    reason: given(reason),
                })
            }
        };
        Some(RedriveRequest {
            scope,
            destination: (!dest.is_empty()).then(|| dest.to_string()),
            rate,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                rate: Some(25),
                note: None
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
                RedriveField::Kind,
                RedriveField::Reason,
                RedriveField::Rate,
                RedriveField::Note
            ]
        );
        let mut g = RedriveForm::new("dlq".into(), vec!["m1".into()]);
        assert_eq!(g.scope, ScopeChoice::Selected);
        g.cycle_scope(true);
        assert_eq!(g.scope, ScopeChoice::Match);
    }

    #[test]
    fn the_note_is_optional_trimmed_and_checked() {
        let mut f = RedriveForm::new("dlq".into(), vec![]);
        f.note = "  after the schema fix ".into();
        let plan = f.validate().expect("valid");
        assert_eq!(
            plan.note.as_ref().map(OperatorNote::as_str),
            Some("after the schema fix")
        );
        f.note = "x".repeat(281);
        assert_eq!(f.validate(), None);
        assert_eq!(f.focus, RedriveField::Note);
        assert!(f.errors[&RedriveField::Note].contains("at most 280 characters"));
    }
}
