//! The visitor's choices, and the record that states them.

use assent_record::{
    ConsentRecord, Language, Notice, NoticeRef, PurposeChoice, PurposeId, Purposes, Site,
    WidgetVersion,
};
use thiserror::Error;

use crate::notice::ShownNotice;

/// The widget's version, carried by every record.
pub const WIDGET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// On or off for each optional purpose of the notice shown, in its order. Mandatory
/// purposes are not choices, so they are not here. (A notice has a handful of purposes: a
/// list is all the map this needs.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices(Vec<(PurposeId, bool)>);

impl Choices {
    /// Every optional purpose of `notice` set to `granted`. Nothing is pre-ticked by
    /// default: consent must be an act (CJEU C-673/17, Planet49).
    pub fn all(notice: &Notice, granted: bool) -> Self {
        Self::from_fn(notice, &|_| granted)
    }

    /// The choices a stored record states, for the purposes `notice` offers.
    pub fn from_record(notice: &Notice, record: &ConsentRecord) -> Self {
        Self::from_fn(notice, &|purpose| {
            record
                .purposes
                .state_of(purpose)
                .is_some_and(|s| s.is_granted())
        })
    }

    /// Each optional purpose of `notice` on where `granted` says so.
    pub fn from_fn(notice: &Notice, granted: &dyn Fn(PurposeId) -> bool) -> Self {
        Self(
            notice
                .optional_purposes()
                .map(|p| (p.id, granted(p.id)))
                .collect(),
        )
    }

    /// Whether `purpose` is on. Mandatory purposes are always on.
    pub fn is_granted(&self, purpose: PurposeId) -> bool {
        !purpose.is_optional() || self.0.iter().any(|&(id, granted)| id == purpose && granted)
    }

    /// Flips an optional purpose; anything else is left as it is.
    pub fn toggled(&self, purpose: PurposeId) -> Self {
        let mut next = self.clone();
        if let Some((_, granted)) = next.0.iter_mut().find(|(id, _)| *id == purpose) {
            *granted = !*granted;
        }
        next
    }
}

/// Why no record could be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// The browser gave no random bytes for the record id.
    #[error("no random record id could be made (crypto.getRandomValues failed)")]
    NoRandomness,
    /// The notice lists no purpose, so there is nothing to record.
    #[error("the notice lists no purposes")]
    NoPurposes,
    /// The language shown is not a valid tag (a build problem: the tags are the widget's).
    #[error("the language shown is not a valid tag")]
    Language,
    /// The widget version is not a valid field (a build problem).
    #[error("the widget version is invalid")]
    Version,
    /// The manage link the preferences were for expired before the save.
    #[error("the link expired before the save; the preferences show again without it")]
    LinkExpired,
}

/// What a record needs besides the choices.
#[derive(Debug, Clone)]
pub struct RecordContext<'a> {
    /// The covered site.
    pub site: &'a Site,
    /// The notice shown.
    pub shown: &'a ShownNotice,
    /// The language the notice was read in (its own, or the widget's where a language
    /// file translated its purposes).
    pub language: &'a str,
    /// The Global Privacy Control signal.
    pub gpc: bool,
}

/// A new record of `choices`: every purpose of the notice, optional ones with their state.
pub fn record(
    context: &RecordContext<'_>,
    choices: &Choices,
    record_id: Option<uuid::Uuid>,
    client_time: assent_record::Rfc3339Time,
) -> Result<ConsentRecord, RecordError> {
    let notice = &context.shown.notice;
    let purposes: Vec<PurposeChoice> = notice
        .purposes
        .iter()
        .map(|p| PurposeChoice::for_purpose(p.id, choices.is_granted(p.id)))
        .collect();
    Ok(ConsentRecord {
        record_id: record_id.ok_or(RecordError::NoRandomness)?,
        site: context.site.clone(),
        notice: NoticeRef {
            id: notice.id.clone(),
            version: notice.version.clone(),
            hash: context.shown.hash.clone(),
        },
        language: Language::try_from(context.language).map_err(|_| RecordError::Language)?,
        purposes: Purposes::try_from(purposes).map_err(|_| RecordError::NoPurposes)?,
        gpc: context.gpc,
        widget_version: WidgetVersion::try_from(WIDGET_VERSION)
            .map_err(|_| RecordError::Version)?,
        client_time,
        email: None,
        subject_token: None,
        source: assent_record::Source::Widget,
    })
}
