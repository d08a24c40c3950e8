//! The privacy highlights: every section of the notice, the link to the full statement,
//! and the notification preferences with their save button.

use assent_record::PurposeId;
use web_sys::{HtmlDialogElement, HtmlElement};
use yew::prelude::*;

use super::blocks::{inlines, link, NoticeSection};
use super::purposes::PurposeList;
use super::receipt::Receipt;
use super::state::ReceiptShown;
use super::{auto_dir, on_click, ShownNoticeRef};
use crate::browser::dom;
use crate::identity::Refusal;
use crate::messages::Messages;
use crate::preferences::Choices;

/// Props of [`Highlights`].
#[derive(Debug, Properties, PartialEq)]
pub struct HighlightsProps {
    /// The notice shown.
    pub notice: ShownNoticeRef,
    /// The notice's language, when it is not the widget's.
    pub notice_lang: Option<AttrValue>,
    /// The purposes' language, when it is not the widget's.
    pub purposes_lang: Option<AttrValue>,
    /// Current toggles.
    pub choices: Choices,
    /// The masked address of the person the preferences are for, if known.
    pub person: Option<AttrValue>,
    /// Why a manage link was not accepted, if one was refused.
    pub refusal: Option<Refusal>,
    /// The current choice's receipt, once it has arrived.
    pub receipt: Option<ReceiptShown>,
    /// The widget's words.
    pub messages: &'static Messages,
    /// A toggle was flipped.
    pub on_toggle: Callback<PurposeId>,
    /// Save the toggles as they are.
    pub on_save: Callback<()>,
    /// Grant every optional notice.
    pub on_accept_all: Callback<()>,
    /// Deny every optional notice.
    pub on_decline_all: Callback<()>,
    /// Close without saving.
    pub on_close: Callback<()>,
}

/// The highlights dialog: a modal `<dialog>` (the page behind is inert while it is open);
/// focus moves to its title when it opens, Escape closes it, and focus then returns to
/// where it was.
#[component]
pub fn Highlights(props: &HighlightsProps) -> Html {
    let title_ref = use_node_ref();
    let dialog_ref = use_node_ref();
    {
        let (title_ref, dialog_ref) = (title_ref.clone(), dialog_ref.clone());
        use_effect_with((), move |_| {
            // Opened from the host page (a `data-assent-open` link, say): focus goes back
            // there when the highlights close.
            let opener = dom::active_element();
            dom::show_modal(dialog_ref.cast::<HtmlDialogElement>());
            dom::focus(title_ref.cast::<HtmlElement>());
            move || {
                // Yew runs this before it removes the dialog: while it is modal the page is
                // inert and takes no focus, so it is closed first.
                dom::close_dialog(dialog_ref.cast::<HtmlDialogElement>());
                dom::restore_focus(opener)
            }
        });
    }
    let m = props.messages;
    let notice = &props.notice;
    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    // Escape anywhere (focus need not be in the dialog) makes the browser close it: the
    // state follows.
    let onclose = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: Event| on_close.emit(()))
    };
    let refusal = props.refusal.map(|refusal| match refusal {
        Refusal::Expired => m.link_expired,
        Refusal::Invalid => m.link_invalid,
        Refusal::WrongSite => m.link_wrong_site,
        Refusal::Unchecked => m.link_unchecked,
    });
    // The person's line is part of the dialog's name, so it is heard when focus enters.
    let labelled_by = if props.person.is_some() {
        "assent-title assent-person"
    } else {
        "assent-title"
    };
    let (lang, dir) = (props.notice_lang.clone(), auto_dir(&props.notice_lang));
    html! {
        <dialog class="dialog" role="dialog" aria-labelledby={labelled_by} ref={dialog_ref} {onkeydown} {onclose}>
            // Divs, not header and footer elements: outside a section or an article, a
            // screen reader takes those for the page's banner and contentinfo landmarks.
            <div class="top">
                <div>
                    <h2 id="assent-title" tabindex="-1" ref={title_ref} {lang} {dir}>{ notice.title.as_str().to_owned() }</h2>
                    if let Some(person) = props.person.clone() {
                        // The address isolated: in a right-to-left language, one that
                        // starts with a digit would show its parts out of order.
                        <p class="person" id="assent-person">{ m.preferences_for }<bdi>{ person }</bdi></p>
                    }
                </div>
                <button type="button" class="close" data-action="close" aria-label={m.close} onclick={on_click(&props.on_close)}>
                    { "×" }
                </button>
            </div>
            <div class="content">
                if let Some(refusal) = refusal {
                    <p class="refusal" role="alert">{ refusal }{ " " }{ m.link_not_linked }</p>
                }
                <div class="notice" lang={props.notice_lang.clone()} {dir}>
                    <p class="introduction">{ inlines(&notice.introduction) }</p>
                    { for notice.sections.iter().enumerate().map(|(index, section)| html! {
                        <NoticeSection key={section.id.as_str()} notice={notice.clone()} {index} messages={m} />
                    }) }
                </div>
                // The link's text is the notice's, perhaps in another language than the lead's.
                <p class="full-statement">{ m.full_statement_lead }<span lang={props.notice_lang.clone()} {dir}>{ link(&notice.full_statement) }</span></p>
                <section class="preferences" aria-labelledby="assent-preferences">
                    <h3 id="assent-preferences">{ m.preferences_heading }</h3>
                    <PurposeList notice={notice.clone()} optional=true heading={m.optional_heading} lang={props.purposes_lang.clone()} choices={props.choices.clone()}
                        on_toggle={props.on_toggle.clone()} messages={m} />
                    <PurposeList notice={notice.clone()} optional=false heading={m.mandatory_heading} lang={props.purposes_lang.clone()} choices={props.choices.clone()}
                        on_toggle={props.on_toggle.clone()} messages={m} />
                </section>
                if let Some(receipt) = props.receipt.clone() {
                    <Receipt {receipt} messages={m} />
                }
            </div>
            <div class="actions">
                <button type="button" class="choice" data-action="accept-all" onclick={on_click(&props.on_accept_all)}>{ m.accept_all }</button>
                <button type="button" class="choice" data-action="decline-all" onclick={on_click(&props.on_decline_all)}>{ m.decline_all }</button>
                <button type="button" class="choice primary" data-action="save" onclick={on_click(&props.on_save)}>{ m.save }</button>
            </div>
        </dialog>
    }
}
