//! What a key did inside a modal, for the key router to carry out on the rest of the app.

use voucherdeck_core::domain::{GiftRequest, OperatorNote};
use voucherdeck_pipeline::RedriveRequest;

/// What a confirm dialog does when confirmed; `note` is the operator's note for the audit log
/// (a redrive's is in its plan, from the form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Delete {
        ids: Vec<String>,
        note: Option<OperatorNote>,
    },
    Redrive(RedriveRequest),
    Purge {
        note: Option<OperatorNote>,
    },
    /// Send this gift as a new message, then delete the DLQ message.
    Resend {
        message_id: String,
        gift: GiftRequest,
        note: Option<OperatorNote>,
    },
}

impl Pending {
    /// The same action with the note typed in its dialog (a redrive keeps its form's note).
    #[must_use]
    pub fn noted(self, typed: Option<OperatorNote>) -> Pending {
        match self {
            Pending::Delete { ids, .. } => Pending::Delete { ids, note: typed },
            Pending::Purge { .. } => Pending::Purge { note: typed },
            Pending::Resend {
                message_id, gift, ..
            } => Pending::Resend {
                message_id,
                gift,
                note: typed,
            },
            redrive @ Pending::Redrive(_) => redrive,
        }
    }

    /// Whether its dialog asks for a note (a redrive's note is asked in its form).
    pub const fn takes_note(&self) -> bool {
        !matches!(self, Pending::Redrive(_))
    }
}

/// The result of one key in a modal. The modal has already changed itself; this says what else happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The key was used; the modal stays.
    Stay,
    /// The modal has no use for the key (the router still honours a hard quit).
    Unused,
    /// Close the modal.
    Close,
    /// The gift form is valid: send this gift (the form stays open until the answer).
    Gift(GiftRequest),
    /// The gift form, editing a DLQ message, is valid: confirm resending it.
    Resend {
        message_id: String,
        gift: GiftRequest,
    },
    /// The redrive form is valid: ask to confirm this plan.
    ConfirmRedrive(RedriveRequest),
    /// The confirm dialog was cancelled: back to the form it came from, if any.
    Back,
    /// The confirm dialog was confirmed: close it and do this.
    Run(Pending),
}
