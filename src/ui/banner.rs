//! The first-visit banner: fixed at the bottom, non-modal, with two equal choices. The
//! loader paints the same markup before the wasm arrives (`loader/banner.js`; the e2e test
//! `painted-banner.test.js` holds the two to each other).

use yew::prelude::*;

use super::{auto_dir, on_click};
use crate::messages::Messages;

/// Props of [`Banner`].
#[derive(Debug, Properties, PartialEq)]
pub struct BannerProps {
    /// The notice's short summary.
    pub summary: AttrValue,
    /// The notice's language, when it is not the widget's.
    pub notice_lang: Option<AttrValue>,
    /// The widget's words.
    pub messages: &'static Messages,
    /// The visitor accepts every optional notice.
    pub on_accept_all: Callback<()>,
    /// The visitor declines every optional notice.
    pub on_decline_all: Callback<()>,
    /// The visitor wants the highlights and the choices one by one.
    pub on_open: Callback<()>,
}

/// The mark set when the banner is first shown, so a site can measure when its visitors
/// see it (`performance.getEntriesByName('assent:banner-visible')`): by the loader when it
/// paints the banner, else by [`super::App`].
pub const VISIBLE_MARK: &str = "assent:banner-visible";

/// The banner.
#[component]
pub fn Banner(props: &BannerProps) -> Html {
    let m = props.messages;
    html! {
        <section class="banner" aria-label={m.banner_label}>
            <p class="summary" lang={props.notice_lang.clone()} dir={auto_dir(&props.notice_lang)}>
                { props.summary.clone() }
            </p>
            <div class="actions">
                <button type="button" class="choice" data-action="accept-all" onclick={on_click(&props.on_accept_all)}>
                    { m.accept_all }
                </button>
                <button type="button" class="choice" data-action="decline-all" onclick={on_click(&props.on_decline_all)}>
                    { m.decline_all }
                </button>
                <button type="button" class="more" data-action="open" onclick={on_click(&props.on_open)}>
                    { m.open_highlights }
                </button>
            </div>
        </section>
    }
}
