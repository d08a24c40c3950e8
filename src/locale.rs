//! A language other than English, as the loader fetched it: `locales/<tag>.json`, checked
//! against its SRI (`scripts/build-locales.mjs` writes it). It holds the widget's words,
//! the purposes' labels and reasons, and the notice's own translation where there is one.
//! The loader picks the language and fetches the file (on a first visit, before it paints
//! the banner; otherwise while the wasm downloads); anything wrong with it here means
//! English, with the reason in the console.

use assent_record::{Language, Notice, PlainText};
use thiserror::Error;
use wasm_bindgen::JsValue;

use crate::browser::env;
use crate::messages::{Messages, TEXTS};
use crate::notice::{self, NoticeError};

/// A language's file, read.
#[derive(Debug)]
pub struct Locale {
    /// The widget's words.
    pub messages: &'static Messages,
    /// The notice's translation, if the language has one.
    pub notice: Option<Notice>,
    /// `{<purpose id>: {label, description}}`, for a notice without a translation.
    purposes: JsValue,
}

/// Why a language's file is not used.
#[derive(Debug, Error)]
pub enum LocaleError {
    /// No valid language tag.
    #[error("the translation has no valid language tag")]
    Language,
    /// Not one text per message.
    #[error("the translation does not have the widget's {TEXTS} texts")]
    Messages,
    /// The notice's translation is not a valid notice.
    #[error("the translated notice is invalid: {0}")]
    Notice(#[from] NoticeError),
    /// A purpose's label or reason is missing or not plain text.
    #[error("the translation of the purpose {0} is missing or invalid")]
    Purpose(&'static str),
}

/// The loader's `locale` argument: `null` means English.
pub fn from_loader(value: &JsValue) -> Option<Locale> {
    if value.is_null() || value.is_undefined() {
        return None;
    }
    read(value)
        .map_err(|reason| env::warn(&format!("{reason}; showing English")))
        .ok()
}

/// Reads a language's file (the parsed JSON).
pub fn read(value: &JsValue) -> Result<Locale, LocaleError> {
    let language = env::string_property(value, "language")
        .filter(|tag| Language::try_from(tag.as_str()).is_ok())
        .ok_or(LocaleError::Language)?;
    let texts: Vec<&'static str> = env::array_property(value, "messages")
        .iter()
        .map(|text| text.as_string().map(|text| &*text.leak()))
        .collect::<Option<_>>()
        .ok_or(LocaleError::Messages)?;
    let texts: [&'static str; TEXTS] = texts.try_into().map_err(|_| LocaleError::Messages)?;
    let notice = env::object_property(value, "notice")
        .map(notice::read)
        .transpose()?;
    // Leaked once per page: the catalogue lives as long as the widget, like `EN`.
    let messages = Box::leak(Box::new(Messages::from_texts(
        language.leak(),
        env::bool_property(value, "rtl").unwrap_or(false),
        texts,
    )));
    Ok(Locale {
        messages,
        notice,
        purposes: env::object_property(value, "purposes").unwrap_or(JsValue::NULL),
    })
}

impl Locale {
    /// Puts `notice`'s purposes' labels and reasons in this language; all or none (after an
    /// error, `notice` is as it was).
    pub fn translate_purposes(&self, notice: &mut Notice) -> Result<(), LocaleError> {
        let mut words = Vec::with_capacity(notice.purposes.len());
        for purpose in &notice.purposes {
            let id = purpose.id.as_str();
            let text = |field| {
                env::object_property(&self.purposes, id)
                    .and_then(|words| env::string_property(&words, field))
                    .and_then(|text| PlainText::try_from(text).ok())
                    .ok_or(LocaleError::Purpose(id))
            };
            words.push((text("label")?, text("description")?));
        }
        for (purpose, (label, description)) in notice.purposes.iter_mut().zip(words) {
            purpose.label = label;
            purpose.description = description;
        }
        Ok(())
    }
}
