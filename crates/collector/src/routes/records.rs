//! `POST /v1/records` and `GET /v1/records/{id}/receipt`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

use assent_record::{ConsentRecord, ReceiptFile};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;

use crate::admin::Admin;
use crate::error::AppError;
use crate::receipt::Claims;
use crate::store::{Appended, IfNewest, Stored};
use crate::token::TokenError;
use crate::AppState;

/// What a POST or a receipt GET answers: the receipt, and the receipt file for the visitor
/// when the collector knows the record's notice.
#[derive(Debug, Serialize)]
pub struct ReceiptBody {
    record_id: String,
    seq: i64,
    received_at: String,
    chain_hash: String,
    receipt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_file: Option<ReceiptFile>,
    /// Why a record that came with a manage link's token is stored under no subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    unattributed: Option<Unattributed>,
}

/// A record stored without the subject its token named: `{error, message}`, as an error
/// answer's would be.
#[derive(Debug, Serialize)]
pub struct Unattributed {
    error: &'static str,
    message: String,
}

impl From<TokenError> for Unattributed {
    fn from(refusal: TokenError) -> Self {
        Self {
            error: refusal.code(),
            message: format!("{refusal}: the record is stored under no subject"),
        }
    }
}

impl ReceiptBody {
    fn new(stored: Stored, receipt_file: Option<ReceiptFile>) -> Self {
        Self {
            record_id: stored.record_id,
            seq: stored.seq,
            received_at: stored.received_at,
            chain_hash: stored.chain_hash,
            receipt: stored.receipt,
            receipt_file,
            unattributed: None,
        }
    }
}

/// `POST /v1/records`: 201 on first store, 200 with the same receipt on a repeat, 409 when
/// the id is stored with a different body.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<ReceiptBody>), AppError> {
    let outcome = crate::routes::detached(&state.tasks, {
        let state = state.clone();
        async move { store_record(&state, &headers, request).await }
    })
    .await;
    counted(&state, outcome.and_then(|answer| answer))
}

/// Counts a refusal in the rejection metric, by its code.
pub(super) fn counted<T>(state: &AppState, outcome: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &outcome {
        state.metrics.rejected(err.code());
    }
    outcome
}

async fn store_record(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<ReceiptBody>), AppError> {
    let body = read_page_post(state, headers, request).await?;
    let mut record: ConsentRecord =
        serde_json::from_slice(&body).map_err(|err| AppError::from_parse(&err))?;
    if !record.source.is_widget() {
        return Err(AppError::SourceNotWidget);
    }
    if record.email.is_some() && record.subject_token.is_some() {
        return Err(AppError::EmailAndToken);
    }
    // Anyone can type an address: a record under one is taken only from the company's own
    // servers, or anyone could opt a stranger in or undo their unsubscribe. Their admin key
    // (which only such a record needs) also spares them the site's budget below.
    let checked = Admin::check(headers, state);
    let admin = checked.is_ok();
    if record.email.is_some() {
        checked.map_err(|err| match err {
            AppError::Unauthorized => AppError::EmailNeedsAdminKey,
            other => other,
        })?;
    }

    // Only the keyed hash of an address is kept; a manage link's token names its subject
    // and is checked for this site, and is not kept either. A token that expired while
    // its record waited in a browser's outbox (offline, or this collector down), or that
    // no longer verifies (the link key replaced meanwhile, which revokes every link),
    // would lose the visitor's choice: the record is stored under no subject, and the
    // answer says so. (A forged token gains nothing: a record without one is stored so
    // too.) A token for another site or an unsubscribe URL's is one no page of this
    // widget sends: a bug, refused.
    let mut unattributed = None;
    let mut link = None;
    let subject = match (record.email.take(), record.subject_token.take()) {
        (Some(email), _) => Some(state.subject_key.subject(&email)),
        (None, Some(token)) => match state.link_key.verify(token.as_str(), &record.site) {
            Ok(claims) => {
                link = Some(claims.jti);
                Some(claims.sub)
            }
            Err(refusal @ (TokenError::Expired | TokenError::Invalid)) => {
                unattributed = Some(refusal);
                None
            }
            Err(refusal) => return Err(refusal.into()),
        },
        (None, None) => None,
    };
    // The record as it is stored (no e-mail, no token), for the receipt file: a repeat
    // has the same body, or it would be a conflict.
    let stored_record = record.clone();
    let answer = |stored: Stored, unattributed: Option<TokenError>| {
        let file = state.receipt_issuer.file(&stored_record, &stored);
        let mut body = ReceiptBody::new(stored, file);
        body.unattributed = unattributed.map(Unattributed::from);
        Json(body)
    };
    // A record whose id is stored already: the same record again (a browser's retry) has
    // its receipt again, anything else is a conflict. Stored under its person while the
    // token held, and its answer lost, the retry of a record whose token has since expired
    // is the same record too.
    let id = stored_record.record_id.hyphenated().to_string();
    let repeat = |stored: Stored| {
        if stored.digest != stored_record.digest().as_str() {
            Err(AppError::Conflict)
        } else if stored.subject == subject {
            Ok((StatusCode::OK, answer(stored, unattributed)))
        } else if unattributed.is_some() {
            Ok((StatusCode::OK, answer(stored, None)))
        } else {
            Err(AppError::Conflict)
        }
    };
    // The site's budget is spent by new records that can be stored only: neither a flood
    // of refused ones nor one record posted again and again, naming a site anyone can
    // name, may shut out its visitors. (One read more per record, with the limit on only.)
    // So is a manage link's, after the site's: a record the site's budget refuses (a flood
    // spent it) and its browser's retries spend none of the person's link. (The other
    // way round, a leaked link's flood would spare the site's budget, which anyone can
    // spend with records of no link anyway.)
    let link = link.filter(|_| !admin);
    if state.limits.limits_sites() || link.is_some() {
        if let Some(stored) = state.store.get(&id).await? {
            return repeat(stored);
        }
    }
    if !admin {
        state.limits.check_site(&site_budget(headers))?;
    }
    if let Some(jti) = &link {
        state.limits.check_link_record(jti)?;
    }
    match append_signed(state, record, subject.clone(), None).await? {
        Appended::Created(stored) => {
            if let Some(refusal) = unattributed {
                state.metrics.unattributed(refusal.code());
                let record_id = &stored.record_id;
                tracing::warn!(
                    record_id,
                    "{refusal}: the record is stored under no subject"
                );
            }
            Ok((StatusCode::CREATED, answer(stored, unattributed)))
        }
        Appended::Existing(stored) => repeat(stored),
        Appended::Conflict => match state.store.get(&id).await? {
            Some(stored) => repeat(stored),
            None => Err(AppError::Conflict),
        },
        Appended::Stale => Err(AppError::Internal(
            "an unconditional append was stale".into(),
        )),
    }
}

/// Whose budget of new records a POST spends: its page's origin, one of the allow-list
/// (`read_page_post` refuses any other), not the `site` the record names, which anyone can
/// make up, a new budget for each name; one budget for every POST without an `Origin`
/// (not from a page). So a flood writes at most that many budgets' worth, whatever it names.
fn site_budget(headers: &HeaderMap) -> String {
    headers
        .get(header::ORIGIN)
        .map_or_else(String::new, |origin| {
            String::from_utf8_lossy(origin.as_bytes()).into_owned()
        })
}

/// The body of a POST from a covered page (records, identity): its `Origin` on the
/// allow-list (or absent: not from a page), within the client's rate limit, JSON or
/// text/plain, within the size and time limits.
pub(super) async fn read_page_post(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<axum::body::Bytes, AppError> {
    // Browsers always send Origin on a POST; a request without one is not from a page.
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !state.allowed_origins.contains(origin) {
            return Err(AppError::OriginNotAllowed);
        }
    }
    state.limits.check_ip(client_ip(state, &request))?;
    if !acceptable_type(headers) {
        return Err(AppError::UnsupportedMediaType);
    }
    crate::routes::read_body(request.into_body()).await
}

/// Appends a record (already without e-mail and token) with a signed receipt, if
/// `if_newest` holds when given, counting it when new.
pub(crate) async fn append_signed(
    state: &AppState,
    record: ConsentRecord,
    subject: Option<String>,
    if_newest: Option<IfNewest>,
) -> Result<Appended, AppError> {
    let key = state.receipt_keys.clone();
    let store = state.store.clone();
    // The receipt names who the choice was given to, as the receipt file does.
    let controller = state.receipt_issuer.controller(&record.notice.id);
    // Run the write to completion even if the client goes away meanwhile.
    let appended = tokio::spawn(async move {
        store
            .append(&record, subject, if_newest, move |row| {
                let claims = Claims::new(row.record, row.seq, row.chain_hash, row.received_at);
                key.sign(&claims.given_to(controller.clone()))
            })
            .await
    })
    .await
    .map_err(|err| AppError::Internal(format!("append task failed: {err}")))??;
    if matches!(appended, Appended::Created(_)) {
        state.metrics.stored();
    }
    Ok(appended)
}

/// `GET /v1/records/{id}/receipt`.
pub async fn receipt(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    request: Request<Body>,
) -> Result<Json<ReceiptBody>, AppError> {
    let ip = client_ip(&state, &request);
    drop(request);
    let outcome: Result<Json<ReceiptBody>, AppError> = async {
        state.limits.check_ip(ip)?;
        let Path(id) = id.map_err(|_| AppError::InvalidId)?;
        let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::InvalidId)?;
        let stored = state
            .store
            .get(&id.hyphenated().to_string())
            .await?
            .ok_or(AppError::NotFound)?;
        let file = state.receipt_issuer.file_of_stored(&stored);
        Ok(Json(ReceiptBody::new(stored, file)))
    }
    .await;
    counted(&state, outcome)
}

/// The client for rate limiting: the configured proxy header's address if there is one,
/// else the socket peer (tests without a socket share one bucket).
pub(super) fn client_ip(state: &AppState, request: &Request) -> IpAddr {
    let from_header = state.client_ip_header.as_ref().and_then(|name| {
        // The last entry is the one our own proxy added: of the last line (a proxy may add
        // a line of its own rather than append to the client's), of a comma-separated list.
        let value = request.headers().get_all(name).iter().next_back();
        // Bytes, not the whole line as text: a client's own non-ASCII entry, kept by a
        // proxy that appends to the line, must not hide the address the proxy added.
        let last = value.and_then(|v| v.as_bytes().rsplit(|&b| b == b',').next());
        let ip = last.and_then(|entry| forwarded_ip(std::str::from_utf8(entry).ok()?.trim()));
        if ip.is_none() && !WARNED_NO_CLIENT_IP.swap(true, Ordering::Relaxed) {
            // Said once: every such request shares the proxy's bucket until it is fixed.
            tracing::warn!(
                header = %name,
                "a request without a client address in the --client-ip-header header: it is \
                 limited as the proxy's own address"
            );
        }
        ip
    });
    from_header.unwrap_or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip())
    })
}

/// Whether a request without a client address in the configured header was logged.
static WARNED_NO_CLIENT_IP: AtomicBool = AtomicBool::new(false);

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`, or with a port,
/// `192.0.2.1:5678` or `[2001:db8::1]:5678`; or an RFC 7239 `Forwarded` element's `for`,
/// `for=192.0.2.1;proto=https` or `for="[2001:db8::1]:5678"`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry
        .split(';')
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            name.eq_ignore_ascii_case("for")
                .then(|| value.trim_matches('"'))
        })
        .unwrap_or(entry);
    let unbracketed = entry.strip_prefix('[').and_then(|e| e.strip_suffix(']'));
    unbracketed
        .unwrap_or(entry)
        .parse()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

/// `application/json`, or `text/plain` as `navigator.sendBeacon` sends a string.
pub(super) fn acceptable_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json") || essence.eq_ignore_ascii_case("text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_addresses_as_proxies_write_them() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        for (entry, ip) in [
            ("192.0.2.1", v4),
            ("192.0.2.1:5678", v4),
            ("2001:db8::1", v6),
            ("[2001:db8::1]", v6),
            ("[2001:db8::1]:5678", v6),
            // RFC 7239 Forwarded (one element: the caller takes the last one).
            ("for=192.0.2.1", v4),
            ("for=192.0.2.1;proto=https;by=203.0.113.43", v4),
            ("proto=https; For=\"192.0.2.1:5678\"", v4),
            ("for=\"[2001:db8::1]:5678\"", v6),
            ("for=\"[2001:db8::1]\"", v6),
        ] {
            assert_eq!(forwarded_ip(entry), Some(ip), "{entry}");
        }
        for entry in ["", "unknown", "for=unknown", "for=_hidden", "by=192.0.2.1"] {
            assert_eq!(forwarded_ip(entry), None, "{entry}");
        }
    }
}
