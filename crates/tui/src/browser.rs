//! The DLQ browser's state: every message loaded so far (across pages), the page on screen, the
//! filter and the selection, both over every loaded message, and how far loading has got.

use std::collections::BTreeSet;

use voucherdeck_core::domain::Timestamp;
use voucherdeck_pipeline::DlqMessage;

/// Messages on one page of the browser.
pub const DLQ_PAGE: usize = 100;

/// The DLQ browser.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(clippy::struct_excessive_bools)] // independent states of the browser
pub struct DlqBrowserState {
    /// Every message loaded in this session, in the order received.
    pub entries: Vec<DlqMessage>,
    /// The row under the cursor, on the page shown.
    pub cursor: usize,
    pub selected: BTreeSet<String>,
    pub loading: bool,
    pub loaded_at: Option<Timestamp>,
    pub error: Option<String>,
    pub detail_scroll: u16,
    /// The detail fills the screen.
    pub zoom: bool,
    /// The page shown (0-based) of the filtered rows.
    pub page: usize,
    /// Rows whose body, kind, reason or id contain this (ignoring case).
    pub filter: String,
    /// The filter line has the keys.
    pub editing: bool,
    /// Every message of the DLQ is loaded.
    pub exhausted: bool,
    /// Loaded so far while a long load (every message) runs.
    pub progress: Option<usize>,
}

impl DlqBrowserState {
    /// The loaded messages that pass the filter, in order.
    pub fn rows(&self) -> Vec<&DlqMessage> {
        let needle = self.filter.trim().to_lowercase();
        self.entries
            .iter()
            .filter(|e| {
                needle.is_empty() || {
                    let (kind, reason) = e
                        .failure
                        .as_ref()
                        .map_or((String::new(), String::new()), |f| {
                            (f.kind().to_string(), f.reason())
                        });
                    [e.body.as_str(), &kind, &reason, e.message_id.as_str()]
                        .iter()
                        .any(|h| h.to_lowercase().contains(&needle))
                }
            })
            .collect()
    }

    /// Loaded messages whose body was not kept (the session read past its body budget).
    pub fn bodies_dropped(&self) -> usize {
        self.entries.iter().filter(|e| e.body_dropped).count()
    }

    /// How many pages the filtered rows fill (at least one).
    pub fn pages(&self) -> usize {
        self.rows().len().div_ceil(DLQ_PAGE).max(1)
    }

    /// The rows of the page shown.
    pub fn page_rows(&self) -> Vec<&DlqMessage> {
        self.rows()
            .into_iter()
            .skip(self.page * DLQ_PAGE)
            .take(DLQ_PAGE)
            .collect()
    }

    /// The message under the cursor.
    pub fn current(&self) -> Option<&DlqMessage> {
        self.page_rows().get(self.cursor).copied()
    }

    /// Selected ids in list order (every page).
    pub fn selected_ids(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| self.selected.contains(&e.message_id))
            .map(|e| e.message_id.clone())
            .collect()
    }

    /// Keeps the page and the cursor within what there is.
    pub fn clamp(&mut self) {
        self.page = self.page.min(self.pages() - 1);
        self.cursor = self.cursor.min(self.page_rows().len().saturating_sub(1));
    }

    /// Adds messages loaded later (a message already listed is replaced).
    pub fn append(&mut self, more: Vec<DlqMessage>) {
        for m in more {
            match self
                .entries
                .iter_mut()
                .find(|e| e.message_id == m.message_id)
            {
                Some(e) => *e = m,
                None => self.entries.push(m),
            }
        }
    }

    /// Forgets messages that left the DLQ.
    pub fn remove(&mut self, ids: &[String]) {
        self.entries.retain(|e| !ids.contains(&e.message_id));
        for id in ids {
            self.selected.remove(id);
        }
        self.clamp();
    }

    /// `1–100 of ~1,234`: the rows on screen, of how many.
    pub fn range_words(&self, approx_total: Option<u64>) -> String {
        let rows = self.rows().len();
        let first = (self.page * DLQ_PAGE + 1).min(rows);
        let last = (self.page * DLQ_PAGE + DLQ_PAGE).min(rows);
        let of = if !self.filter.trim().is_empty() {
            format!("{rows} matching")
        } else if self.exhausted {
            rows.to_string()
        } else {
            approx_total.map_or_else(|| "?".into(), |n| format!("~{}", n.max(rows as u64)))
        };
        format!("{first}–{last} of {of}")
    }
}
