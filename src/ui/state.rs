//! What the UI shows, as one reducible state.

use std::rc::Rc;

use assent_record::PurposeId;
use yew::{AttrValue, Reducible};

use crate::identity::Refusal;
use crate::preferences::Choices;

/// Which part of the widget is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Nothing: the visitor has chosen.
    Hidden,
    /// The first-visit banner.
    Banner,
    /// The privacy highlights with the preferences.
    Highlights,
}

/// After a save: whether the choice will reach the endpoint or stays in this browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// It is on its way to the endpoint.
    WillSend,
    /// There is no endpoint to send it to.
    LocalOnly,
}

/// The current choice's receipt, as the preferences show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptShown {
    /// The receipt's id (the record's).
    pub receipt_id: AttrValue,
    /// When the collector recorded it, RFC 3339 (for `<time datetime>`).
    pub recorded_at: AttrValue,
    /// The same moment as the visitor's language writes it.
    pub recorded_at_text: AttrValue,
    /// The language that text is in (another than the widget's where the browser can't
    /// write dates in that one).
    pub recorded_at_language: AttrValue,
    /// The receipt file as a `data:` URL, for a download link.
    pub file_href: AttrValue,
    /// The name the file is saved under.
    pub file_name: AttrValue,
}

/// What this browser holds under the notice, read as the highlights open: another tab of
/// the site may have saved a choice (and had its receipt) since this page read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The toggles: the current choice, or all off.
    pub choices: Choices,
    /// Whether there is a current choice.
    pub has_choice: bool,
    /// The current choice's receipt, if it has come.
    pub receipt: Option<ReceiptShown>,
}

/// The UI's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiState {
    /// What is on screen.
    pub view: View,
    /// The toggles.
    pub choices: Choices,
    /// The choices as saved, or as a manage link's person has them: the toggles go back to
    /// them when the highlights close unsaved.
    pub kept: Choices,
    /// Whether the visitor has a choice under this notice.
    pub has_choice: bool,
    /// The last save, for the status line.
    pub saved: Option<Saved>,
    /// The masked address of the person the preferences are for, once the collector
    /// vouched for them.
    pub person: Option<AttrValue>,
    /// Why a manage link was not accepted, until the highlights close.
    pub refusal: Option<Refusal>,
    /// The current choice's receipt, once the endpoint gave one.
    pub receipt: Option<ReceiptShown>,
}

impl UiState {
    /// Whether the banner is drawn: when it is the view, and under the highlights while
    /// the visitor has not chosen, until their dialog is open (highlights.css then hides
    /// it). Yew may yield to the page between drawing the dialog and the effect that opens
    /// it, and no frame must show neither; closing the highlights finds it there.
    pub fn banner_drawn(&self) -> bool {
        self.view == View::Banner || (self.view == View::Highlights && !self.has_choice)
    }
}

/// What can happen to it.
#[derive(Debug, Clone)]
pub enum Action {
    /// Show the highlights, with what this browser holds now; none for the person a manage
    /// link vouched for, whose choices are the collector's.
    Open(Option<Held>),
    /// Close the highlights: back to the banner if the visitor has not chosen yet.
    Close,
    /// Flip one optional purpose.
    Toggle(PurposeId),
    /// A choice was saved (its receipt is still to come).
    Saved(Choices, Saved),
    /// The current choice's receipt arrived.
    Receipt(ReceiptShown),
    /// A manage link was checked: the highlights open, either for the person the
    /// collector vouched for (their masked address) with their preferences, or saying
    /// why the link was refused, with this browser's own choices.
    Identity {
        /// The masked address, when known.
        person: Option<AttrValue>,
        /// Why not, when refused.
        refusal: Option<Refusal>,
        /// The toggles to show.
        choices: Choices,
    },
}

impl Reducible for UiState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        // One clone, changed in place: a struct literal per action cloned it in each.
        let mut next = (*self).clone();
        match action {
            // The status line empties (here and for a manage link's person), so that the
            // next save's words, the same as the last one's, are a change screen readers
            // announce.
            Action::Open(held) => {
                // Already open (the page called Assent.open() again): the toggles the
                // visitor is changing stay.
                if let Some(held) = held.filter(|_| self.view != View::Highlights) {
                    next.kept = held.choices.clone();
                    next.choices = held.choices;
                    next.has_choice = held.has_choice;
                    next.receipt = held.receipt;
                }
                next.saved = None;
                next.view = View::Highlights;
            }
            Action::Close => {
                next.view = if self.has_choice {
                    View::Hidden
                } else {
                    View::Banner
                };
                next.refusal = None;
                next.choices = next.kept.clone();
            }
            Action::Toggle(purpose) => next.choices = self.choices.toggled(purpose),
            Action::Saved(choices, saved) => {
                next.view = View::Hidden;
                next.kept = choices.clone();
                next.choices = choices;
                next.has_choice = true;
                next.saved = Some(saved);
                next.refusal = None;
                next.receipt = None;
            }
            Action::Receipt(receipt) => next.receipt = Some(receipt),
            Action::Identity {
                person,
                refusal,
                choices,
            } => {
                next.view = View::Highlights;
                next.saved = None;
                // This browser's last receipt is not the person's: none until they save.
                if person.is_some() {
                    next.receipt = None;
                }
                next.kept = choices.clone();
                next.choices = choices;
                next.person = person;
                next.refusal = refusal;
            }
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}
