//! The root component: banner or highlights, wired to the widget's save flow.

use std::rc::Rc;

use yew::prelude::*;

use super::banner::{Banner, VISIBLE_MARK};
use super::highlights::Highlights;
use super::state::{Action, Held, Saved, UiState, View};
use super::ShownNoticeRef;
use crate::browser::dom::{self, Painted};
use crate::browser::env;
use crate::kept_click::{HandedClick, KeptClick};
use crate::preferences::Choices;
use crate::widget::Widget;

/// Props of [`App`].
#[derive(Debug, Properties, PartialEq)]
pub struct AppProps {
    /// The running widget.
    pub widget: Rc<Widget>,
    /// Show the highlights at once.
    pub open_now: bool,
    /// The banner the loader painted, which this one replaces after its first render.
    pub painted: Option<Painted>,
}

fn initial_state(props: &AppProps) -> UiState {
    let Held {
        choices,
        has_choice,
        receipt,
    } = props.widget.held();
    // A click on the painted banner is carried out after the first render (below); the
    // banner an accept or decline answered is not drawn again in between. One that opens
    // the highlights opens them from this banner (drawn under the painted one until that
    // goes), so that they give the focus back to its button when they close.
    let chosen = props.painted.as_ref().and_then(Painted::chosen);
    let view = match (has_choice, props.open_now, chosen.as_deref()) {
        (_, true, _) => View::Highlights,
        (_, _, Some("accept-all" | "decline-all")) | (true, false, _) => View::Hidden,
        (false, false, _) => View::Banner,
    };
    UiState {
        view,
        kept: choices.clone(),
        choices,
        has_choice,
        saved: None,
        person: None,
        refusal: None,
        receipt,
    }
}

/// The widget's UI.
#[component]
pub fn App(props: &AppProps) -> Html {
    let state = use_reducer(|| initial_state(props));
    let root = use_node_ref();
    let widget = &props.widget;
    let messages = widget.messages;

    {
        let widget = Rc::clone(widget);
        let dispatcher = state.dispatcher();
        use_effect_with((), move |_| {
            widget.set_ui(Callback::from(move |action| dispatcher.dispatch(action)))
        });
    }

    let save = {
        let widget = Rc::clone(widget);
        let dispatcher = state.dispatcher();
        let in_preferences = state.view == View::Highlights;
        // With the id and time kept for a click on the painted banner, that click's record.
        Callback::from(move |(choices, kept): (Choices, Option<KeptClick>)| {
            match widget.save(&choices, kept) {
                Ok(_) => {
                    let saved = if widget.config.endpoint_url().is_some() {
                        Saved::WillSend
                    } else {
                        Saved::LocalOnly
                    };
                    dispatcher.dispatch(Action::Saved(choices, saved));
                    // What has the focus goes with the choice (the banner's button): it
                    // goes back where it came from; with the preferences open, whose page
                    // is inert behind them, as they close.
                    if in_preferences {
                        dom::focus_back_on_close();
                    } else {
                        dom::restore_focus(None);
                    }
                }
                Err(reason) => env::warn(&format!("your choice could not be recorded: {reason}")),
            }
        })
    };
    let notice = Rc::clone(&widget.shown.notice);
    let save_all = |granted: bool| {
        let save = save.clone();
        let notice = Rc::clone(&notice);
        Callback::from(move |()| save.emit((Choices::all(&notice, granted), None)))
    };
    let on_accept_all = save_all(true);
    let on_decline_all = save_all(false);
    let on_close = {
        let dispatcher = state.dispatcher();
        Callback::from(move |()| dispatcher.dispatch(Action::Close))
    };
    // Through the widget, which reads what this browser holds now.
    let on_open = {
        let widget = Rc::clone(widget);
        Callback::from(move |()| widget.open())
    };
    let on_toggle = {
        let dispatcher = state.dispatcher();
        Callback::from(move |purpose| dispatcher.dispatch(Action::Toggle(purpose)))
    };
    let on_save = {
        let save = save.clone();
        let choices = state.choices.clone();
        Callback::from(move |()| save.emit((choices.clone(), None)))
    };

    // After the first render: the loader's banner goes, and what the visitor did on it
    // carries over (their click, or the focus), in the same frame. Without one, this
    // banner is the first the visitor sees.
    {
        let painted = props.painted.clone();
        let widget = Rc::clone(widget);
        let banner_shown = state.view == View::Banner;
        let (save, notice) = (save.clone(), Rc::clone(&notice));
        let on_open = on_open.clone();
        let root = root.clone();
        use_effect_with((), move |_| {
            let Some(painted) = painted else {
                if banner_shown {
                    env::mark(VISIBLE_MARK);
                }
                return;
            };
            let handover = painted.remove();
            match handover.chosen.as_deref() {
                Some(action @ ("accept-all" | "decline-all")) => {
                    // Nothing when recorded meanwhile by another tab handed the same click.
                    if let HandedClick::Record(kept) = widget.handed_click(action) {
                        save.emit((Choices::all(&notice, action == "accept-all"), kept));
                    }
                }
                Some("open") => {
                    dom::focus_first(root.cast(), "[data-action=open]");
                    // Once it has moved (from nowhere, the painted button gone): where it
                    // goes back to after a choice in the preferences.
                    dom::came_from(handover.came_from);
                    on_open.emit(());
                }
                _ => {
                    let button = match handover.focused.as_deref() {
                        Some("accept-all") => "[data-action=accept-all]",
                        Some("decline-all") => "[data-action=decline-all]",
                        Some("open") => "[data-action=open]",
                        _ => return,
                    };
                    dom::focus_first(root.cast(), button);
                    dom::came_from(handover.came_from);
                }
            }
        });
    }

    // Notice text in another language than the widget's words (an English notice in an
    // Arabic widget, say) is marked as such, for screen readers and for its direction.
    let notice_lang = (notice.language.as_str() != messages.language)
        .then(|| AttrValue::from(notice.language.as_str().to_owned()));
    // Purposes a language file translated are in the widget's language, whatever the notice's.
    let purposes_lang = (!widget.shown.purposes_translated)
        .then(|| notice_lang.clone())
        .flatten();
    let status = match state.saved {
        Some(Saved::WillSend) => messages.saved,
        Some(Saved::LocalOnly) => messages.saved_locally,
        None => "",
    };
    // The status line (last) is an alert, not a status: screen readers announce a live
    // region's changes, not a region put in the page with its text, except an alert. After
    // an accept or decline on the painted banner, the first render puts the line in the
    // page and the save fills it in the same task: as a status it would go unsaid.
    // Classes as the className property: a `class` that is not a literal goes through
    // Yew's Classes, whose IndexMap was 2.7 kB of the wasm's brotli.
    html! {
        <div ref={root} ~className={widget.config.theme.root_class()} lang={messages.language}
            dir={if messages.rtl { "rtl" } else { "ltr" }}>
            if state.banner_drawn() {
                <Banner
                    summary={AttrValue::from(notice.summary.as_str().to_owned())}
                    notice_lang={notice_lang.clone()}
                    {messages}
                    on_accept_all={on_accept_all.clone()}
                    on_decline_all={on_decline_all.clone()}
                    {on_open}
                />
            }
            if state.view == View::Highlights {
                <Highlights
                    notice={ShownNoticeRef(Rc::clone(&notice))}
                    {notice_lang}
                    {purposes_lang}
                    choices={state.choices.clone()}
                    person={state.person.clone()}
                    refusal={state.refusal}
                    receipt={state.receipt.clone()}
                    {messages}
                    {on_toggle}
                    {on_save}
                    {on_accept_all}
                    {on_decline_all}
                    {on_close}
                />
            }
            <p class="visually-hidden" role="alert">{ status }</p>
        </div>
    }
}
