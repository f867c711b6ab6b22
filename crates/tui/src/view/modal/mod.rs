//! The modals' views, drawn over the screen: forms, confirm dialogs, the help, a failure's detail,
//! the alarms in full, the audit log.

mod alarms;
mod audit;
mod confirm;
mod detail;
mod form;
mod help;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::App;
use crate::modal::Modal;

/// Draws the open modal, if any, over `area`.
pub fn render_modal(app: &App, frame: &mut Frame, area: Rect) {
    match &app.modal {
        None => {}
        Some(Modal::Gift(form)) => form::render_gift_form(app, form, frame, area),
        Some(Modal::Redrive(form)) => form::render_redrive_form(app, form, frame, area),
        Some(Modal::Confirm(c)) => confirm::render_confirm(app, c, frame, area),
        Some(Modal::Help { scroll }) => help::render_help(app, *scroll, frame, area),
        Some(Modal::FailureDetail(r)) => detail::render_failure_detail(app, r, frame, area),
        Some(Modal::Alarms { scroll }) => alarms::render_alarms_detail(app, *scroll, frame, area),
        Some(Modal::Audit { scroll }) => audit::render_audit(app, *scroll, frame, area),
    }
}
