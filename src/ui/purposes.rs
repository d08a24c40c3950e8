//! The notification preferences: a toggle per optional purpose, and the mandatory ones
//! shown locked with the reason they can't be turned off.

use assent_record::{NoticePurpose, PurposeId};
use yew::prelude::*;

use super::{auto_dir, is_trusted, ShownNoticeRef};
use crate::messages::Messages;
use crate::preferences::Choices;

/// Props of [`PurposeToggle`].
#[derive(Debug, Properties, PartialEq)]
pub struct PurposeToggleProps {
    /// The notice shown.
    pub notice: ShownNoticeRef,
    /// Which of its purposes, as the notice describes it.
    pub index: usize,
    /// On or off.
    pub checked: bool,
    /// The visitor flipped it (optional purposes only).
    pub on_toggle: Callback<PurposeId>,
    /// The widget's words.
    pub messages: &'static Messages,
}

/// One purpose. Mandatory ones are a checked, disabled checkbox: visible, not changeable.
#[component]
pub fn PurposeToggle(props: &PurposeToggleProps) -> Html {
    let Some(purpose) = props.notice.purposes.get(props.index) else {
        return Html::default();
    };
    let id = purpose.id;
    let locked = !id.is_optional();
    let input_id = format!("assent-purpose-{}", id.as_str());
    let description_id = format!("{input_id}-description");
    // The click decides, not `change`: a host script's `input.click()` makes an untrusted
    // click but a trusted `change`. An untrusted click is undone before it takes effect.
    let onclick = {
        let on_toggle = props.on_toggle.clone();
        Callback::from(move |event: MouseEvent| {
            if locked || !is_trusted(&event) {
                event.prevent_default();
            } else {
                on_toggle.emit(id);
            }
        })
    };
    // As the className property, as the root's (ui/app.rs).
    html! {
        <li ~className={if locked { "purpose locked" } else { "purpose" }} data-purpose={id.as_str()}>
            <input type="checkbox" id={input_id.clone()}
                checked={props.checked || locked}
                disabled={locked}
                aria-describedby={description_id.clone()}
                {onclick} />
            <label for={input_id}>{ purpose.label.as_str().to_owned() }</label>
            if locked {
                // The widget's words, in a list that may be in the notice's language.
                <span class="badge" lang={props.messages.language}>{ props.messages.always_on }</span>
            }
            <p class="description" id={description_id}>{ purpose.description.as_str().to_owned() }</p>
        </li>
    }
}

/// Props of [`PurposeList`].
#[derive(Debug, Properties, PartialEq)]
pub struct PurposeListProps {
    /// The notice shown.
    pub notice: ShownNoticeRef,
    /// Which of its purposes to list: the optional ones, or those that come with the
    /// service.
    pub optional: bool,
    /// Heading of the group.
    pub heading: AttrValue,
    /// The purposes' language, when it is not the widget's.
    pub lang: Option<AttrValue>,
    /// Current toggles.
    pub choices: Choices,
    /// A toggle was flipped.
    pub on_toggle: Callback<PurposeId>,
    /// The widget's words.
    pub messages: &'static Messages,
}

/// A group of purposes under a heading.
#[component]
pub fn PurposeList(props: &PurposeListProps) -> Html {
    let purposes: Vec<(usize, &NoticePurpose)> = (props.notice.purposes.iter().enumerate())
        .filter(|(_, purpose)| purpose.id.is_optional() == props.optional)
        .collect();
    if purposes.is_empty() {
        return Html::default();
    }
    html! {
        <fieldset class="purposes">
            <legend>{ props.heading.clone() }</legend>
            <ul lang={props.lang.clone()} dir={auto_dir(&props.lang)}>
                { for purposes.into_iter().map(|(index, purpose)| html! {
                    <PurposeToggle
                        key={purpose.id.as_str()}
                        notice={props.notice.clone()}
                        {index}
                        checked={props.choices.is_granted(purpose.id)}
                        on_toggle={props.on_toggle.clone()}
                        messages={props.messages} />
                }) }
            </ul>
        </fieldset>
    }
}
