//! The gift form: five fields, validated as they are typed, and what its keys do.

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use strum::VariantArray;

use voucherdeck_core::domain::text::sanitize;
use voucherdeck_core::domain::{Field, GiftRequest, Limits, validate, validate_field};
use voucherdeck_pipeline::GiftError;

use super::super::keymap::Action;
use super::super::text::{edit_text, is_text_key};
use super::outcome::Outcome;

/// The gift form's fields, declared in form order. The form has no idempotency key: a person gifts
/// once per form, and a key only a program would type has no place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, VariantArray)]
pub enum GiftField {
    Recipient,
    Amount,
    Currency,
    Sender,
    Note,
}

impl GiftField {
    /// Every field, in form order (derived, so a new field cannot be left out).
    pub const ALL: &'static [GiftField] = GiftField::VARIANTS;

    /// The request field it fills (and whose rules apply).
    pub const fn field(self) -> Field {
        match self {
            GiftField::Recipient => Field::Recipient,
            GiftField::Amount => Field::Amount,
            GiftField::Currency => Field::Currency,
            GiftField::Sender => Field::Sender,
            GiftField::Note => Field::Note,
        }
    }

    /// The form field for a request field, if the form has one.
    pub fn of(field: Field) -> Option<GiftField> {
        GiftField::ALL.iter().copied().find(|f| f.field() == field)
    }

    pub const fn label(self) -> &'static str {
        match self {
            GiftField::Recipient => "Recipient",
            GiftField::Amount => "Amount",
            GiftField::Currency => "Currency",
            GiftField::Sender => "Sender",
            GiftField::Note => "Note",
        }
    }
}

/// The gift form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftForm {
    pub recipient: String,
    pub amount: String,
    pub currency: String,
    pub sender: String,
    pub note: String,
    /// Index into [`GiftField::ALL`].
    pub focus: usize,
    /// Fields the user typed in or left: their errors show.
    pub touched: [bool; GiftField::ALL.len()],
    /// Current errors per field (all fields, shown only when touched).
    pub errors: HashMap<GiftField, String>,
    /// Waiting for the service's answer.
    pub submitting: bool,
    /// An error for the whole form (rate limit, backend).
    pub form_error: Option<String>,
    /// Editing the gift of this DLQ message, to resend it (not a new gift).
    pub resend: Option<String>,
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
            touched: [false; GiftField::ALL.len()],
            errors: HashMap::new(),
            submitting: false,
            form_error: None,
            resend: None,
        };
        f.revalidate(limits);
        f
    }

    /// The form filled with a DLQ message's gift, to correct and resend it; every field shows its
    /// error at once (that is why the message is in the DLQ).
    pub fn resend(message_id: String, gift: &GiftRequest, limits: &Limits) -> GiftForm {
        let mut f = GiftForm {
            recipient: gift.recipient.clone(),
            amount: gift.amount.clone(),
            currency: gift.currency.clone().unwrap_or_default(),
            sender: gift.sender.clone(),
            note: gift.note.clone().unwrap_or_default(),
            touched: [true; GiftField::ALL.len()],
            resend: Some(message_id),
            ..GiftForm::new(limits)
        };
        f.revalidate(limits);
        f
    }

    pub fn focused(&self) -> GiftField {
        GiftField::ALL[self.focus.min(GiftField::ALL.len() - 1)]
    }

    pub fn value(&self, field: GiftField) -> &str {
        match field {
            GiftField::Recipient => &self.recipient,
            GiftField::Amount => &self.amount,
            GiftField::Currency => &self.currency,
            GiftField::Sender => &self.sender,
            GiftField::Note => &self.note,
        }
    }

    pub fn value_mut(&mut self, field: GiftField) -> &mut String {
        match field {
            GiftField::Recipient => &mut self.recipient,
            GiftField::Amount => &mut self.amount,
            GiftField::Currency => &mut self.currency,
            GiftField::Sender => &mut self.sender,
            GiftField::Note => &mut self.note,
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
        self.errors = GiftField::ALL
            .iter()
            .filter_map(|f| validate_field(f.field(), &req, limits).map(|e| (*f, e.rule)))
            .collect();
    }

    /// The error to show under a field, if the user has reached it.
    pub fn shown_error(&self, index: usize) -> Option<&str> {
        let field = GiftField::ALL.get(index)?;
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

    /// One key: typed into the focused field, or the form's action.
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, limits: &Limits) -> Outcome {
        if self.submitting {
            // Waiting for the service: only cancel (the answer still arrives, as a toast).
            return match action {
                Some(Action::Cancel) => Outcome::Close,
                _ => Outcome::Unused,
            };
        }
        if is_text_key(key) {
            let field = self.focused();
            if edit_text(self.value_mut(field), key) {
                self.touch(self.focus);
                self.form_error = None;
                self.revalidate(limits);
            }
            return Outcome::Stay;
        }
        let n = GiftField::ALL.len();
        match action {
            Some(Action::Cancel) => return Outcome::Close,
            Some(Action::NextField) => {
                self.touch(self.focus);
                self.focus = (self.focus + 1) % n;
            }
            Some(Action::PrevField) => {
                self.touch(self.focus);
                self.focus = (self.focus + n - 1) % n;
            }
            Some(Action::ClearField) => {
                let field = self.focused();
                self.value_mut(field).clear();
                self.touch(self.focus);
                self.revalidate(limits);
            }
            Some(Action::Submit) => return self.submit(*limits),
            _ => return Outcome::Unused,
        }
        Outcome::Stay
    }

    /// Marks every field; asks for the gift when it is valid, else focuses the first invalid field.
    fn submit(&mut self, limits: Limits) -> Outcome {
        self.touched = [true; GiftField::ALL.len()];
        self.revalidate(&limits);
        let request = self.request();
        match validate(&request, &limits) {
            Ok(_) => {
                if let Some(id) = &self.resend {
                    return Outcome::Resend {
                        message_id: id.clone(),
                        gift: request,
                    };
                }
                self.submitting = true;
                self.form_error = None;
                Outcome::Gift(request)
            }
            Err(errors) => {
                if let Some(i) = GiftField::ALL
                    .iter()
                    .position(|f| errors.for_field(f.field()).is_some())
                {
                    self.focus = i;
                }
                Outcome::Stay
            }
        }
    }

    /// The service refused the gift: its field errors go under the fields, anything else above the
    /// hints.
    pub fn refused(&mut self, error: &GiftError, limits: &Limits) {
        self.submitting = false;
        let GiftError::Invalid(errors) = error else {
            self.form_error = Some(sanitize(&error.to_string()));
            return;
        };
        self.revalidate(limits);
        let mut elsewhere = Vec::new();
        for e in &errors.0 {
            match GiftField::of(e.field) {
                Some(field) => {
                    self.errors.insert(field, e.rule.clone());
                }
                None => elsewhere.push(sanitize(&e.to_string())),
            }
        }
        self.touched = [true; GiftField::ALL.len()];
        self.form_error = Some(if elsewhere.is_empty() {
            "the service refused the gift: fix the fields marked".into()
        } else {
            format!("the service refused the gift: {}", elsewhere.join("; "))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gift_form_validates_each_field() {
        let mut f = GiftForm::new(&Limits::default());
        assert!(f.errors.contains_key(&GiftField::Recipient));
        assert!(
            !f.errors.contains_key(&GiftField::Currency),
            "empty currency means USD"
        );
        assert_eq!(f.shown_error(0), None, "untouched fields show no error");
        f.recipient = "ada@".into();
        f.touch(0);
        f.revalidate(&Limits::default());
        assert!(f.shown_error(0).is_some_and(|e| e.contains("email")));
    }

    #[test]
    fn every_form_field_maps_to_its_own_request_field() {
        for &f in GiftField::ALL {
            assert_eq!(GiftField::of(f.field()), Some(f));
        }
        assert_eq!(GiftField::of(Field::IdempotencyKey), None);
    }
}
