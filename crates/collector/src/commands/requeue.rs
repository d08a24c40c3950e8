//! `requeue`: the webhook deliveries given up on, put back in the queue, and the endpoints
//! that answered 410 Gone posted to again (after the company's endpoint was down past the
//! retry window, or answered 410 by mistake).

use std::process::ExitCode;

use super::CommandError;
use crate::config::RequeueArgs;
use crate::store::Store;
use crate::webhook::queue::{now_ms, Queue};

/// `requeue`: prints `{"requeued": N, "endpoints_resumed": M}` as one JSON line.
pub async fn requeue(args: RequeueArgs) -> Result<ExitCode, CommandError> {
    let store = Store::open_existing(&args.database.database()?).await?;
    let requeued = Queue::new(&store).requeue_failed(now_ms()).await;
    store.close().await;
    let requeued = requeued?;
    super::print_line(
        serde_json::json!({ "requeued": requeued.deliveries, "endpoints_resumed": requeued.endpoints })
            .to_string(),
    )?;
    Ok(ExitCode::SUCCESS)
}
