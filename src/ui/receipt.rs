//! The current choice's receipt: when it was recorded, its number, and the file to keep (a
//! plain download link: the browser saves it, and keyboard and screen readers know links).

use yew::prelude::*;

use super::state::ReceiptShown;
use crate::messages::Messages;

/// Props of [`Receipt`].
#[derive(Debug, Properties, PartialEq)]
pub struct ReceiptProps {
    /// The receipt.
    pub receipt: ReceiptShown,
    /// The widget's words.
    pub messages: &'static Messages,
}

/// The receipt of the current choice.
#[component]
pub fn Receipt(props: &ReceiptProps) -> Html {
    let m = props.messages;
    let receipt = &props.receipt;
    html! {
        <section class="receipt" aria-labelledby="assent-receipt">
            <h3 id="assent-receipt">{ m.receipt_heading }</h3>
            <dl>
                <dt>{ m.recorded_at }</dt>
                <dd><time datetime={receipt.recorded_at.clone()} lang={receipt.recorded_at_language.clone()}>{ receipt.recorded_at_text.clone() }</time></dd>
                <dt>{ m.receipt_number }</dt>
                // Isolated, as the address is (highlights.rs): a number whose first group is
                // all digits moved that group to the end in a right-to-left language.
                <dd class="receipt-id"><bdi>{ receipt.receipt_id.clone() }</bdi></dd>
            </dl>
            <a class="choice" data-action="download-receipt" href={receipt.file_href.clone()} download={receipt.file_name.clone()}>
                { m.download_receipt }
            </a>
        </section>
    }
}
