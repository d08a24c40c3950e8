//! Every word the widget itself says, per language. The notice's own text comes from the
//! notice document; everything else a visitor reads is here, so adding a language is
//! adding a catalogue, and no component changes.

/// The widget's words in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Messages {
    /// The language tag they are in (dates are written its way too).
    pub language: &'static str,
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
    /// Label of the telephone number.
    pub telephone: &'static str,
    /// Label of the fax number.
    pub fax: &'static str,
    /// Accessible name of the covered-sites list.
    pub links_label: &'static str,
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

/// English.
pub const EN: Messages = Messages {
    language: "en",
    banner_label: "Privacy notice",
    accept_all: "Accept all",
    decline_all: "Decline all",
    open_highlights: "Privacy highlights and choices",
    close: "Close",
    save: "Save my choices",
    preferences_heading: "Your notification preferences",
    optional_heading: "Your choice",
    mandatory_heading: "Always sent",
    always_on: "Always on",
    full_statement_lead: "Read the full statement: ",
    saved: "Your choices are saved.",
    saved_locally: "Your choices are saved in this browser.",
    telephone: "Telephone",
    fax: "Fax",
    links_label: "Web sites",
    preferences_for: "Preferences for ",
    link_expired: "This link has expired. Please ask for a new one.",
    link_invalid: "This link is not valid. Please use the link exactly as you received it, or ask for a new one.",
    link_wrong_site: "This link is for another site. Please open it on the site it was sent for.",
    link_unchecked: "This link could not be checked right now. Please try again later.",
    link_not_linked: "Choices you save now are not linked to your e-mail address.",
    receipt_heading: "Your receipt",
    recorded_at: "Recorded",
    receipt_number: "Receipt number",
    download_receipt: "Download receipt",
};

/// The catalogue for a language tag, falling back to English.
pub fn for_language(tag: &str) -> &'static Messages {
    // One catalogue so far; a new language adds a constant and a match arm here.
    let _primary = tag.split('-').next().unwrap_or_default();
    &EN
}
