//! Notice content as elements. Every string becomes a text node; links take only the
//! already-checked `Href`s of the notice model.

use assent_record::{Block, Contact, Inline, Link};
use yew::prelude::*;

use super::ShownNoticeRef;
use crate::messages::Messages;

fn text(value: &impl AsRef<str>) -> Html {
    Html::from(value.as_ref().to_owned())
}

/// A link out of the widget. `https:` opens in a new tab without access to this page.
pub fn link(link: &Link) -> Html {
    let href = link.href.as_str().to_owned();
    let external = href
        .get(..6)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"));
    html! {
        <a {href}
            target={external.then_some("_blank")}
            rel={external.then_some("noopener noreferrer")}>
            { text(&link.text.as_str()) }
        </a>
    }
}

/// Running text with inline links.
pub fn inlines(parts: &[Inline]) -> Html {
    parts
        .iter()
        .map(|part| match part {
            Inline::Text(value) => text(&value.as_str()),
            Inline::Link(l) => link(l),
        })
        .collect()
}

fn contact(contact: &Contact, messages: &'static Messages) -> Html {
    html! {
        <address class="contact">
            { for contact.address.as_str().split('\n').map(|line| html! { <span class="line">{ line.to_owned() }</span> }) }
            // The widget's words (and a number), in a notice that may be in another language.
            if let Some(telephone) = &contact.telephone {
                <span class="line" lang={messages.language}>{ messages.telephone }{ link(telephone) }</span>
            }
            if let Some(fax) = &contact.fax {
                <span class="line" lang={messages.language}>{ messages.fax }{ text(&fax.as_str()) }</span>
            }
        </address>
    }
}

fn block(block: &Block, messages: &'static Messages) -> Html {
    match block {
        Block::Paragraph(parts) => html! { <p>{ inlines(parts) }</p> },
        Block::Links(links) => html! {
            <ul class="links">
                { for links.iter().map(|l| html! { <li>{ link(l) }</li> }) }
            </ul>
        },
        Block::Contact(c) => contact(c, messages),
    }
}

/// Props of [`NoticeSection`].
#[derive(Debug, Properties, PartialEq)]
pub struct NoticeSectionProps {
    /// The notice shown.
    pub notice: ShownNoticeRef,
    /// Which of its sections.
    pub index: usize,
    /// The widget's words.
    pub messages: &'static Messages,
}

/// One section of the highlights.
#[component]
pub fn NoticeSection(props: &NoticeSectionProps) -> Html {
    let Some(section) = props.notice.sections.get(props.index) else {
        return Html::default();
    };
    // Unnamed, so not a region landmark each: the headings give the dialog its outline,
    // and ten landmarks in it drowned the two that count (the preferences, the receipt).
    html! {
        <section class="notice-section" data-section={section.id.as_str().to_owned()}>
            <h3>{ text(&section.heading.as_str()) }</h3>
            { for section.blocks.iter().map(|b| block(b, props.messages)) }
        </section>
    }
}
