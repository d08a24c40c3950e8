//! Every word the widget itself says, per language. The notice's own text comes from the
//! notice document; everything else a visitor reads is here, so adding a language is
//! adding a catalogue, and no component changes. The words themselves are in
//! `locales/<language>.json`; English is compiled in (`build.rs` writes [`EN`] from
//! `locales/en.json`), the others are fetched by the loader and read by `crate::locale`.

/// The widget's words in one language.
#[derive(Debug)]
pub struct Messages {
    /// The language tag they are in (dates are written its way too).
    pub language: &'static str,
    /// Written right to left (Arabic, Hebrew).
    pub rtl: bool,
    /// Accessible name of the first-visit banner.
    pub banner_label: &'static str,
    /// Button: grant every optional notice.
    pub accept_all: &'static str,
    /// Button: deny every optional notice.
    pub decline_all: &'static str,
    /// Button: open the highlights and preferences.
    pub open_highlights: &'static str,
    /// Button: close the highlights.
    pub close: &'static str,
    /// Button: save the toggles as they are.
    pub save: &'static str,
    /// Heading of the preferences.
    pub preferences_heading: &'static str,
    /// Heading of the optional purposes.
    pub optional_heading: &'static str,
    /// Heading of the purposes that can't be turned off.
    pub mandatory_heading: &'static str,
    /// Shown on a locked purpose.
    pub always_on: &'static str,
    /// Text before the full-statement link.
    pub full_statement_lead: &'static str,
    /// Status after a save that will be sent.
    pub saved: &'static str,
    /// Status after a save kept only in this browser.
    pub saved_locally: &'static str,
    /// Label of the telephone number, with what separates it from the number (French puts
    /// a no-break space before the colon).
    pub telephone: &'static str,
    /// Label of the fax number, with its separator.
    pub fax: &'static str,
    /// Before the masked address of the person the preferences are for.
    pub preferences_for: &'static str,
    /// A manage link past its expiry.
    pub link_expired: &'static str,
    /// A forged, damaged or malformed manage link.
    pub link_invalid: &'static str,
    /// A manage link for another site.
    pub link_wrong_site: &'static str,
    /// A manage link that could not be checked.
    pub link_unchecked: &'static str,
    /// After any refused link: what saving now means.
    pub link_not_linked: &'static str,
    /// Heading of the current choice's receipt.
    pub receipt_heading: &'static str,
    /// Label of when the choice was recorded.
    pub recorded_at: &'static str,
    /// Label of the receipt's number.
    pub receipt_number: &'static str,
    /// Button: save the receipt file.
    pub download_receipt: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/messages_en.rs"));

// One catalogue per language for the page's life ([`EN`], or a language file's, leaked once):
// the same words are the same catalogue, so components' properties compare it by address,
// not word by word on every render.
impl PartialEq for Messages {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Messages {}
