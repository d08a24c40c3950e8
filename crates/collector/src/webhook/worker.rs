//! The delivery worker of one `serve` process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::queue::{endpoint_key, now_ms, Claim, Queue};
use super::{message_id, Backoff, Payload, WebhookSecret, WebhookSettings, EVENT_TYPE};
use crate::changes::Change;
use crate::metrics::Metrics;
use crate::standing::Standing;
use crate::store::{Store, StoreError};

/// Deliveries in flight at once per process.
const CONCURRENCY: usize = 8;
/// Longest pause between looks at the queue: other processes queue deliveries too, and
/// retries come due without anyone saying so.
const POLL: Duration = Duration::from_secs(1);
/// Shortest pause, whatever the retry base.
const MIN_POLL: Duration = Duration::from_millis(10);
/// The queue is counted for the depth gauge at most this often (a count of a long queue
/// during an outage is not free).
const COUNT_EVERY: Duration = Duration::from_secs(1);
/// A lease outlasts the request timeout by this much, so a live delivery is never claimed
/// again; a dead one is after its lease.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// The longest an attempt waits to read its change (a pool without a free connection
/// waits up to 30 s) before giving the attempt up: the read and the request together stay
/// inside the lease, so no other process claims the delivery while this one may post it.
const READ_TIMEOUT: Duration = Duration::from_secs(4);
const _: () = assert!(READ_TIMEOUT.as_millis() < LEASE_MARGIN.as_millis());

/// Why the worker can't start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The HTTP client can't be built (TLS set-up).
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(reqwest::Error),
    /// No randomness for the worker's id.
    #[error(transparent)]
    Random(#[from] crate::keys::KeyError),
}

/// A running worker.
#[derive(Debug)]
pub struct Deliveries {
    claiming: JoinHandle<()>,
    stopping: CancellationToken,
    attempts: TaskTracker,
}

impl Deliveries {
    /// Claims no more deliveries: called as the process is told to stop, not once its
    /// requests have drained (a claim made meanwhile would post, and hold the exit, for as
    /// long again). [`Deliveries::stop`] still waits for the attempts in flight.
    pub fn stop_claiming(&self) {
        self.stopping.cancel();
    }

    /// Claims no more deliveries, and waits for the attempts in flight to post and write
    /// their outcome (each is over within its limit, the request's timeout and the read's):
    /// a delivery the endpoint took as the process was told to stop is not posted again
    /// once its lease has run out.
    pub async fn stop(self) {
        // Between claims, never inside one: a claim cut short would leave its row leased,
        // and posted only once the lease had run out.
        self.stopping.cancel();
        let _ = self.claiming.await;
        self.attempts.close();
        self.attempts.wait().await;
    }
}

/// Starts delivering `store`'s queued changes to the endpoint of `settings`.
pub fn spawn(
    store: Arc<Store>,
    settings: &WebhookSettings,
    secret: WebhookSecret,
    metrics: Arc<Metrics>,
) -> Result<Deliveries, WorkerError> {
    let mut client = reqwest::Client::builder()
        .timeout(settings.timeout)
        // A redirect would turn the POST into a GET elsewhere: a 3xx is a failure.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("assent-collector/", env!("CARGO_PKG_VERSION")));
    // A proxy of the environment (HTTP_PROXY, ALL_PROXY) is for the way out: one for a
    // loopback receiver would get the signed body in clear (http is allowed only because
    // it stays on this machine), and reach its own loopback, not this one's.
    if super::is_loopback(&settings.url) {
        client = client.no_proxy();
    }
    let client = client.build().map_err(WorkerError::Client)?;
    let worker = Arc::new(Worker {
        store,
        client,
        endpoint: endpoint_key(&settings.url),
        url: settings.url.clone(),
        secret,
        backoff: settings.backoff,
        lease: settings.timeout + LEASE_MARGIN,
        attempt_limit: settings.timeout + READ_TIMEOUT,
        poll: POLL.min(settings.backoff.base).max(MIN_POLL),
        metrics,
        id: URL_SAFE_NO_PAD.encode(&crate::keys::random()?[..12]),
        claims: AtomicU64::new(0),
        stopping: CancellationToken::new(),
        attempts: TaskTracker::new(),
    });
    Ok(Deliveries {
        stopping: worker.stopping.clone(),
        attempts: worker.attempts.clone(),
        claiming: tokio::spawn(worker.run()),
    })
}

#[derive(Debug)]
struct Worker {
    store: Arc<Store>,
    client: reqwest::Client,
    url: reqwest::Url,
    /// The URL's name in the queue's tables.
    endpoint: String,
    secret: WebhookSecret,
    backoff: Backoff,
    lease: Duration,
    /// How long after its claim began an attempt may still be reading or posting: the
    /// read's and the request's time limits, which the lease outlasts.
    attempt_limit: Duration,
    poll: Duration,
    metrics: Arc<Metrics>,
    id: String,
    claims: AtomicU64,
    /// Cancelled when the process stops: no more claims.
    stopping: CancellationToken,
    /// The attempts in flight, which stopping waits for.
    attempts: TaskTracker,
}

/// Why an attempt did not deliver.
enum Failure {
    /// Worth trying again, within the retry window.
    Retry(String),
    /// The same, not before the wait the endpoint asked for (429 or 503 with Retry-After).
    RetryAfter(String, Duration),
    /// The stored change is not one this process can read (a later version's, sharing the
    /// database during a rolling upgrade): tried again, by whichever process claims it
    /// next, however long that takes; never given up on.
    Unreadable(String),
    /// Never will be: the stored change is gone, or can't be encoded.
    Permanent(String),
    /// The endpoint answered 410 Gone: given up on, and no delivery claimed for it again
    /// until `requeue`.
    Gone(String),
    /// Claimed before the endpoint was marked gone, or as the process was told to stop,
    /// and not posted: back in the queue, to wait behind the mark or for another process.
    Held(String),
}

impl Worker {
    async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(CONCURRENCY));
        let finished = Arc::new(Notify::new());
        let mut counted: Option<tokio::time::Instant> = None;
        let mut gone = false;
        while !self.stopping.is_cancelled() {
            let queue = Queue::new(&self.store);
            if counted.is_none_or(|at| at.elapsed() >= COUNT_EVERY) {
                counted = Some(tokio::time::Instant::now());
                match queue.depth().await {
                    Ok(depth) => self.metrics.set_webhook_queue_depth(depth),
                    Err(err) => tracing::warn!(%err, "webhook queue: cannot count"),
                }
                // Marked by this process or another, or cleared by `requeue`: said once.
                match queue.gone_at(&self.endpoint).await {
                    Ok(at) if at.is_some() != gone => {
                        gone = at.is_some();
                        self.metrics.set_webhook_endpoint_gone(gone);
                        if gone {
                            tracing::error!("the webhook endpoint answered 410 Gone: no delivery is claimed for it until `assent-collector requeue`; its deliveries wait in the queue");
                        } else {
                            tracing::info!(
                                "the webhook endpoint is no longer marked gone: deliveries resume"
                            );
                        }
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(%err, "webhook queue: cannot read whether the endpoint is gone")
                    }
                }
            }
            while let Ok(slot) = slots.clone().try_acquire_owned() {
                if self.stopping.is_cancelled() {
                    return;
                }
                let token = format!(
                    "{}-{}",
                    self.id,
                    self.claims.fetch_add(1, Ordering::Relaxed)
                );
                // The lease runs from this moment, however long the claim then waits (for a
                // connection, for SQLite's write lock): the attempt ends within its limit of
                // it, so it is over before the lease, and before anyone can claim it again.
                let deadline = tokio::time::Instant::now() + self.attempt_limit;
                match queue
                    .claim(&self.endpoint, now_ms(), self.lease, &token)
                    .await
                {
                    Ok(Some(claim)) => {
                        let (worker, finished) = (self.clone(), finished.clone());
                        self.attempts.spawn(async move {
                            worker.attempt(claim, deadline).await;
                            drop(slot);
                            finished.notify_one();
                        });
                    }
                    Ok(None) => break,
                    Err(err) => {
                        tracing::warn!(%err, "webhook queue: cannot claim");
                        break;
                    }
                }
            }
            tokio::select! {
                () = self.stopping.cancelled() => {}
                () = self.store.webhook_queued().notified() => {}
                () = finished.notified() => {}
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// One attempt at one claimed delivery, over by `deadline`, and its outcome written back.
    async fn attempt(&self, claim: Claim, deadline: tokio::time::Instant) {
        let outcome = if self.stopping.is_cancelled() {
            // Claimed as the process was told to stop (the claim waited for a connection,
            // for SQLite's write lock): not posted, but put back for whichever process is
            // up, rather than post after the signal and hold the exit.
            Err(Failure::Held(
                "not posted: the collector was stopping".to_owned(),
            ))
        } else {
            tokio::time::timeout_at(deadline, self.post(claim.seq))
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::Retry(
                        "the attempt was not over within its lease".to_owned(),
                    ))
                })
        };
        let now = now_ms();
        let queue = Queue::new(&self.store);
        let written = match outcome {
            // Each counted once its outcome is written: one that is not is posted again
            // once its lease runs out, and counted then.
            Ok(()) => queue
                .delivered(&claim, now)
                .await
                .inspect(|()| self.metrics.webhook_delivered()),
            Err(Failure::Unreadable(reason)) => self.retry(&queue, &claim, now, &reason).await,
            Err(Failure::Held(reason)) => queue.put_back(&claim, now, &reason).await,
            Err(Failure::Retry(reason)) if !self.backoff.gives_up(claim.first_attempt_at, now) => {
                self.retry(&queue, &claim, now, &reason).await
            }
            Err(Failure::RetryAfter(reason, asked))
                if !self.backoff.gives_up(claim.first_attempt_at, now) =>
            {
                self.retry_not_before(&queue, &claim, now, &reason, asked)
                    .await
            }
            Err(Failure::Gone(reason)) => {
                tracing::error!(seq = claim.seq, %reason, "webhook delivery given up, and the endpoint marked gone");
                // Unwritten, the delivery stays this claim's until its lease runs out, and is
                // posted again: a 410 then marks the endpoint.
                queue
                    .gone(&claim, &self.endpoint, now, &reason)
                    .await
                    .inspect(|()| self.metrics.webhook_failed())
            }
            Err(
                Failure::Retry(reason)
                | Failure::RetryAfter(reason, _)
                | Failure::Permanent(reason),
            ) => {
                tracing::error!(seq = claim.seq, attempts = claim.attempts, %reason, "webhook delivery given up");
                queue
                    .failed(&claim, now, &reason)
                    .await
                    .inspect(|()| self.metrics.webhook_failed())
            }
        };
        match written {
            Ok(()) => {}
            // Another claim has it (this attempt outlasted its lease): that one's outcome counts.
            Err(err @ StoreError::LeaseLost { .. }) => {
                tracing::info!(%err, "webhook queue: a late outcome")
            }
            // The lease runs out and the delivery is tried again: at least once.
            Err(err) => {
                tracing::warn!(seq = claim.seq, %err, "webhook queue: cannot record the outcome")
            }
        }
    }

    /// Puts the claimed delivery back, due after the backoff's wait.
    async fn retry(
        &self,
        queue: &Queue<'_>,
        claim: &Claim,
        now: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.retry_not_before(queue, claim, now, reason, Duration::ZERO)
            .await
    }

    /// Puts the claimed delivery back, due after the backoff's wait or the wait the
    /// endpoint `asked` for, whichever is longer; never longer than the backoff's cap.
    async fn retry_not_before(
        &self,
        queue: &Queue<'_>,
        claim: &Claim,
        now: i64,
        reason: &str,
        asked: Duration,
    ) -> Result<(), StoreError> {
        let wait = self
            .backoff
            .delay(claim.attempts, random())
            .max(asked.min(self.backoff.cap));
        tracing::info!(seq = claim.seq, attempts = claim.attempts, %reason, retry_in = ?wait, "webhook delivery failed; will retry");
        let at = now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        queue.retry(claim, at, reason).await
    }

    /// The change at `seq`, and its subject's standing as of it.
    async fn read(&self, seq: i64) -> Result<(Change, Standing), Failure> {
        let rows = self
            .store
            .page(seq.saturating_sub(1), 1, None)
            .await
            .map_err(|err| Failure::Retry(format!("cannot read the change: {err}")))?;
        let change = rows
            .iter()
            .find(|row| row.seq == seq)
            .map(Change::of)
            .transpose()
            .map_err(|err| Failure::Unreadable(err.to_string()))?
            .flatten()
            .ok_or_else(|| Failure::Permanent("the stored change is gone".to_owned()))?;
        let standing = Standing::of_subject_at(&self.store, &change.subject, seq)
            .await
            .map_err(|err| match err {
                StoreError::Unreadable { .. } => Failure::Unreadable(err.to_string()),
                _ => Failure::Retry(format!("cannot read the standing: {err}")),
            })?;
        Ok((change, standing))
    }

    /// POSTs the change at `seq`, signed.
    async fn post(&self, seq: i64) -> Result<(), Failure> {
        let (change, standing) = tokio::time::timeout(READ_TIMEOUT, self.read(seq))
            .await
            .map_err(|_| Failure::Retry("the change could not be read in time".to_owned()))??;
        // Marked gone since the claim (another attempt's 410, in this process or another):
        // not posted, as the spec asks. (Unread, the mark is taken as absent: the claim
        // itself just checked it.)
        let gone = Queue::new(&self.store).gone_at(&self.endpoint).await;
        if matches!(gone, Ok(Some(_))) {
            return Err(Failure::Held(
                "held: the endpoint is marked gone (it answered 410)".to_owned(),
            ));
        }
        let body = serde_json::to_vec(&Payload {
            kind: EVENT_TYPE,
            change: &change,
            standing: &standing.purposes,
        })
        .map_err(|err| Failure::Permanent(format!("cannot encode the change: {err}")))?;
        let id = message_id(&change.record_id);
        let timestamp = now_ms() / 1000;
        let signature = self.secret.sign(&id, timestamp, &body);
        let response = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            // The URL may carry a token of the receiver's: keep it out of logs and the table.
            .map_err(|err| Failure::Retry(describe(&err.without_url())))?;
        let status = response.status();
        let reason = format!("endpoint answered {status}");
        match status {
            _ if status.is_success() => Ok(()),
            // Standard Webhooks: an endpoint that answers 410 is gone, and is not posted to
            // again (this change nor later ones); the changes stay in the feed.
            reqwest::StatusCode::GONE => Err(Failure::Gone(reason)),
            // One that is throttling or down for a while may say when to come back.
            reqwest::StatusCode::TOO_MANY_REQUESTS | reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                match retry_after(response.headers(), std::time::SystemTime::now()) {
                    Some(asked) => Err(Failure::RetryAfter(reason, asked)),
                    None => Err(Failure::Retry(reason)),
                }
            }
            _ => Err(Failure::Retry(reason)),
        }
    }
}

/// The wait a `Retry-After` header asks for (RFC 9110, 10.2.3): seconds, or an HTTP date
/// (none once it has passed); none without one or with another value.
fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Any number of digits: more seconds than a u64 holds is as long as can be.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    httpdate::parse_http_date(value)
        .ok()?
        .duration_since(now)
        .ok()
}

/// An error with its causes ("error sending request: … : Connection refused").
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// A random number for the backoff's jitter.
fn random() -> u64 {
    crate::keys::random().map_or(0, |bytes| {
        u64::from_le_bytes([
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        ])
    })
}

#[cfg(test)]
mod tests {
    use assent_record::ConsentRecord;

    use super::*;
    use crate::store::Database;

    /// Retry-After in either form RFC 9110 allows, and what is not one.
    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let asked = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                reqwest::header::RETRY_AFTER,
                reqwest::header::HeaderValue::from_str(value).unwrap(),
            );
            retry_after(&headers, now)
        };
        assert_eq!(asked("120"), Some(Duration::from_secs(120)));
        assert_eq!(asked(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            asked("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        // 2015-10-21T07:28:00Z is `now`; a minute after it.
        assert_eq!(
            asked("Wed, 21 Oct 2015 07:29:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            asked("Wed, 21 Oct 2015 07:27:00 GMT"),
            None,
            "passed already"
        );
        for bad in ["-1", "1.5", "soon", ""] {
            assert_eq!(asked(bad), None, "{bad:?}");
        }
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new(), now), None);
    }

    /// The request timeout of [`test_worker`]'s worker: far past what any test step takes
    /// on a busy machine, so that an attempt over sooner was ended by its deadline.
    const TEST_TIMEOUT: Duration = Duration::from_secs(300);

    /// A store with one change whose delivery is queued, and a receiver on loopback that
    /// takes connections and never answers; its URL.
    async fn one_delivery_to_a_silent_receiver(
        dir: &tempfile::TempDir,
    ) -> (Arc<Store>, tokio::net::TcpListener, String) {
        let database = Database::Sqlite(dir.path().join("records.db"));
        let store = Arc::new(Store::open(&database).await.unwrap().with_webhooks());
        let record: ConsentRecord =
            serde_json::from_str(include_str!("../../tests/data/record.json")).unwrap();
        let subject = Some("hmac-sha256:ab".to_owned());
        store
            .append(&record, subject, None, |_| "receipt".to_owned())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        (store, listener, url)
    }

    /// A worker posting to `url`, and its claim of the queued delivery.
    async fn test_worker(
        store: &Arc<Store>,
        url: &str,
        dir: &tempfile::TempDir,
    ) -> (Worker, Claim) {
        let settings = WebhookSettings {
            url: url.parse().unwrap(),
            secret_file: dir.path().join("webhook.secret"),
            backoff: Backoff::default(),
            timeout: TEST_TIMEOUT,
        };
        let secret = WebhookSecret::from_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let worker = Worker {
            store: store.clone(),
            client: reqwest::Client::builder()
                .timeout(settings.timeout)
                .build()
                .unwrap(),
            endpoint: endpoint_key(&settings.url),
            url: settings.url.clone(),
            secret,
            backoff: settings.backoff,
            lease: settings.timeout + LEASE_MARGIN,
            attempt_limit: settings.timeout + READ_TIMEOUT,
            poll: POLL,
            metrics: Arc::new(Metrics::default()),
            id: "test".to_owned(),
            claims: AtomicU64::new(0),
            stopping: CancellationToken::new(),
            attempts: TaskTracker::new(),
        };
        let claim = Queue::new(store)
            .claim(&worker.endpoint, now_ms(), worker.lease, "test-0")
            .await
            .unwrap()
            .expect("the change's delivery is due");
        (worker, claim)
    }

    /// The delivery's status and last error.
    async fn outcome(store: &Store) -> (String, String) {
        sqlx::query_as("SELECT status, last_error FROM webhook_deliveries")
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    /// A claim that waited long (for a connection, a lock) leaves its attempt little of
    /// the lease: the attempt ends at its deadline and is retried, rather than post on
    /// after the lease when another process may have claimed the delivery.
    #[tokio::test]
    async fn an_attempt_not_over_by_its_deadline_is_retried() {
        let dir = tempfile::tempdir().unwrap();
        let (store, listener, url) = one_delivery_to_a_silent_receiver(&dir).await;
        let _receiver = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let (worker, claim) = test_worker(&store, &url, &dir).await;

        // Its claim used up all but a moment of the attempt's time.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
        let started = std::time::Instant::now();
        worker.attempt(claim, deadline).await;
        assert!(
            started.elapsed() < TEST_TIMEOUT,
            "over at its deadline, not the request's timeout"
        );
        let (status, error) = outcome(&store).await;
        assert_eq!(status, "pending", "tried again later");
        assert!(error.contains("within its lease"), "{error}");
    }

    /// Runs the attempt of `claim`, which must post nothing to `listener`'s endpoint and
    /// put the delivery back in the queue; returns the error it was put back with.
    async fn attempt_not_posted(
        worker: &Worker,
        claim: Claim,
        listener: &tokio::net::TcpListener,
        store: &Store,
    ) -> String {
        worker
            .attempt(claim, tokio::time::Instant::now() + Duration::from_secs(2))
            .await;
        // A post would have connected before the attempt ended.
        let connected = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        assert!(connected.is_err(), "posted");
        let (status, error) = outcome(store).await;
        assert_eq!(status, "pending", "back in the queue");
        // As if never claimed: no attempt counted, no retry window begun.
        let (attempts, first): (i64, Option<i64>) =
            sqlx::query_as("SELECT attempts, first_attempt_at FROM webhook_deliveries")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!((attempts, first), (0, None));
        error
    }

    /// A delivery whose claim was still waiting (for a connection, for SQLite's write lock)
    /// as the process was told to stop is not posted: it goes back to the queue.
    #[tokio::test]
    async fn a_delivery_claimed_as_the_process_stops_is_not_posted() {
        let dir = tempfile::tempdir().unwrap();
        let (store, listener, url) = one_delivery_to_a_silent_receiver(&dir).await;
        let (worker, claim) = test_worker(&store, &url, &dir).await;
        worker.stopping.cancel();
        let error = attempt_not_posted(&worker, claim, &listener, &store).await;
        assert!(error.contains("stopping"), "{error}");
    }

    /// A delivery claimed before its endpoint was marked gone (another attempt's 410) is
    /// not posted: it goes back to the queue, to wait behind the mark.
    #[tokio::test]
    async fn a_delivery_claimed_before_its_endpoint_was_marked_gone_is_not_posted() {
        let dir = tempfile::tempdir().unwrap();
        let (store, listener, url) = one_delivery_to_a_silent_receiver(&dir).await;
        let (worker, claim) = test_worker(&store, &url, &dir).await;
        sqlx::query(
            "INSERT INTO webhook_endpoints_gone (endpoint, gone_at, seq) VALUES ($1, 0, 0)",
        )
        .bind(&worker.endpoint)
        .execute(store.pool())
        .await
        .unwrap();
        let error = attempt_not_posted(&worker, claim, &listener, &store).await;
        assert!(error.contains("marked gone"), "{error}");
    }
}
