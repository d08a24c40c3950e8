//! The notice document: a company's privacy highlights as structured data. Text is text;
//! links are `{text, href}` with checked schemes, so nothing here can become markup.

use serde::{Deserialize, Deserializer, Serialize};

use crate::canonical::ContentHash;
use crate::error::FieldError;
use crate::fields::{Href, Language, NoticeId, NoticeVersion, PlainText};
use crate::purpose::PurposeId;

/// A privacy-highlights notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Stable identifier, the same across versions.
    pub id: NoticeId,
    /// Version label.
    pub version: NoticeVersion,
    /// Language of the text.
    pub language: Language,
    /// Who speaks: the company.
    pub organisation: PlainText,
    /// Title of the highlights view.
    pub title: PlainText,
    /// The short text of the first-visit banner.
    pub summary: PlainText,
    /// The full privacy statement.
    pub full_statement: Link,
    /// The opening paragraph of the highlights view.
    #[serde(deserialize_with = "bounded::<_, _, 64>")]
    pub introduction: Vec<Inline>,
    /// The highlights, in order.
    #[serde(deserialize_with = "bounded::<_, _, 32>")]
    pub sections: Vec<Section>,
    /// The notification purposes the visitor is told about, each once.
    #[serde(deserialize_with = "unique_purposes")]
    pub purposes: Vec<NoticePurpose>,
}

/// One section of the highlights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Identifier, unique in the notice (used for anchors and tests).
    pub id: NoticeId,
    /// The heading.
    pub heading: PlainText,
    /// The content.
    #[serde(deserialize_with = "bounded::<_, _, 32>")]
    pub blocks: Vec<Block>,
}

/// A block of section content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// Running text with inline links.
    Paragraph(#[serde(deserialize_with = "bounded::<_, _, 64>")] Vec<Inline>),
    /// A list of links, such as the covered web sites.
    Links(#[serde(deserialize_with = "bounded::<_, _, 64>")] Vec<Link>),
    /// A postal and telephone contact.
    Contact(Contact),
}

/// A run of paragraph content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Inline {
    /// Plain text.
    Text(PlainText),
    /// A link.
    Link(Link),
}

/// A link: text to show and a checked target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// What the visitor reads.
    pub text: PlainText,
    /// Where it goes: `https:`, `mailto:` or `tel:` only.
    pub href: Href,
}

/// How to reach the company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Postal address; lines separated by `\n`.
    pub address: PlainText,
    /// Telephone number, as a `tel:` link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<Link>,
    /// Fax number, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<PlainText>,
}

/// A notification purpose as the notice describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticePurpose {
    /// Which purpose; whether it is optional follows from this.
    pub id: PurposeId,
    /// Short label.
    pub label: PlainText,
    /// One line: what it is, or for a mandatory purpose, why it can't be turned off.
    pub description: PlainText,
}

impl Notice {
    /// The hash of the notice's canonical form, carried by every record made under it.
    pub fn hash(&self) -> ContentHash {
        ContentHash::of(self)
    }

    /// The purposes the visitor may opt out of.
    pub fn optional_purposes(&self) -> impl Iterator<Item = &NoticePurpose> {
        self.purposes.iter().filter(|p| p.id.is_optional())
    }

    /// The purposes that come with the service.
    pub fn mandatory_purposes(&self) -> impl Iterator<Item = &NoticePurpose> {
        self.purposes.iter().filter(|p| !p.id.is_optional())
    }
}

fn bounded<'de, D, T, const MAX: usize>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Vec::<T>::deserialize(deserializer)?;
    if items.is_empty() || items.len() > MAX {
        return Err(serde::de::Error::custom(FieldError::Count {
            field: "list",
            max: MAX,
        }));
    }
    Ok(items)
}

fn unique_purposes<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<NoticePurpose>, D::Error> {
    let purposes = bounded::<_, NoticePurpose, { PurposeId::ALL.len() }>(deserializer)?;
    for (i, purpose) in purposes.iter().enumerate() {
        if purposes[..i].iter().any(|earlier| earlier.id == purpose.id) {
            return Err(serde::de::Error::custom(FieldError::DuplicatePurpose(
                purpose.id.as_str(),
            )));
        }
    }
    Ok(purposes)
}
