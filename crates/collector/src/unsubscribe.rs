//! RFC 8058 one-click unsubscribe: the denial record the collector makes on a subject's
//! behalf. It is a record like any other (in the chain, with a receipt), with
//! `source: "unsubscribe"`.

use std::ops::ControlFlow;

use assent_record::{
    ConsentRecord, ConsentState, Language, Notice, NoticeRef, PurposeChoice, PurposeId, Purposes,
    Site, Source, WidgetVersion,
};
use time::OffsetDateTime;

use crate::error::AppError;
use crate::routes::append_signed;
use crate::standing::Standing;
use crate::store::{Appended, IfNewest};
use crate::token::LinkClaims;
use crate::AppState;

/// The notice a subject with no record yet is taken to have been shown: the one the widget
/// ships by default.
pub const DEFAULT_NOTICE: &str = include_str!("../../../notices/qualys-privacy-highlights.en.json");

/// The `widget_version` of records the collector makes.
pub const COLLECTOR_VERSION: &str = concat!("collector-", env!("CARGO_PKG_VERSION"));

/// The default notice, parsed.
pub fn default_notice() -> Result<Notice, serde_json::Error> {
    serde_json::from_str(DEFAULT_NOTICE)
}

/// What an unsubscribe did.
#[derive(Debug)]
pub enum Outcome {
    /// A denial record was stored.
    Recorded {
        /// Its place in the chain.
        seq: i64,
    },
    /// The targeted purposes were denied already: nothing stored.
    AlreadyDenied,
}

/// The purposes a token's unsubscribe denies: its one purpose, or every optional purpose of
/// `purposes`.
fn targeted(claims: &LinkClaims, purposes: &[PurposeId]) -> Vec<PurposeId> {
    match claims.purpose {
        Some(purpose) => vec![purpose],
        None => purposes
            .iter()
            .copied()
            .filter(|p| p.is_optional())
            .collect(),
    }
}

/// The denial record for `claims`' subject, given their standing and latest record, or
/// `None` when the targeted purposes are denied already.
pub fn denial(
    claims: &LinkClaims,
    standing: &Standing,
    latest: Option<&ConsentRecord>,
    notice: &Notice,
    now: OffsetDateTime,
    record_id: uuid::Uuid,
) -> Result<Option<ConsentRecord>, AppError> {
    // The notice and language the subject last saw; else the default notice.
    let (notice_ref, language, mut purposes): (NoticeRef, Language, Vec<PurposeId>) = match latest {
        Some(record) => (
            record.notice.clone(),
            record.language.clone(),
            record.purposes.iter().map(PurposeChoice::purpose).collect(),
        ),
        None => (
            NoticeRef {
                id: notice.id.clone(),
                version: notice.version.clone(),
                hash: notice.hash(),
            },
            notice.language.clone(),
            notice.purposes.iter().map(|p| p.id).collect(),
        ),
    };
    // Every purpose the person has a standing for too: an older record may have granted
    // one the latest does not list (a record states any of the purposes, and a later notice
    // may have fewer), and "unsubscribe from all" must deny that one as well.
    // "Unsubscribe from all" denies every optional purpose there is, also those none of the
    // person's records named (a site's own notice listing only some): a mailer takes the
    // suppression list of each purpose as final.
    let on_file = standing.purposes.keys().copied();
    let every_optional = PurposeId::ALL.into_iter().filter(|p| p.is_optional());
    let all = claims
        .purpose
        .is_none()
        .then_some(every_optional)
        .into_iter()
        .flatten();
    for purpose in on_file.chain(claims.purpose).chain(all) {
        if !purposes.contains(&purpose) {
            purposes.push(purpose);
        }
    }
    let targets = targeted(claims, &purposes);
    if targets
        .iter()
        .all(|p| standing.state_of(*p) == Some(ConsentState::Denied))
    {
        return Ok(None);
    }
    let choices = purposes
        .iter()
        .map(|&purpose| {
            let state = if targets.contains(&purpose) {
                ConsentState::Denied
            } else {
                // Never chosen is not consent.
                standing.state_of(purpose).unwrap_or(ConsentState::Denied)
            };
            PurposeChoice::optional(purpose, state)
                .or_else(|| PurposeChoice::mandatory(purpose))
                .ok_or_else(|| AppError::Internal("purpose is neither optional nor not".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let site: Site = claims.first_site()?.clone();
    Ok(Some(ConsentRecord {
        record_id,
        site,
        notice: notice_ref,
        language,
        purposes: Purposes::try_from(choices)
            .map_err(|err| AppError::Internal(format!("denial purposes: {err}")))?,
        gpc: false,
        widget_version: WidgetVersion::try_from(COLLECTOR_VERSION)
            .map_err(|err| AppError::Internal(format!("collector version: {err}")))?,
        client_time: now,
        email: None,
        subject_token: None,
        source: Source::Unsubscribe,
    }))
}

/// How many times an unsubscribe decides again when the person's records changed while
/// it decided; each time some other append for them won the race.
const ATTEMPTS: usize = 8;

/// Records the unsubscribe of a verified token, unless it would change nothing.
///
/// The denial restates every purpose (the targeted ones denied, the others as they
/// stand), so it is appended only if nothing was stored for the person since their
/// records were read (`IfNewest`): a change made meanwhile, in any process, is not undone
/// by a denial built from the state before it, and of a double click's two POSTs the
/// second finds the first's denial and stores nothing. Different people's unsubscribes
/// run side by side.
pub async fn unsubscribe(state: &AppState, claims: &LinkClaims) -> Result<Outcome, AppError> {
    for _ in 0..ATTEMPTS {
        if let Some(outcome) = try_unsubscribe(state, claims).await? {
            return Ok(outcome);
        }
    }
    Err(AppError::Internal(
        "the person's records kept changing while the unsubscribe was decided".into(),
    ))
}

/// One attempt: `None` when something was stored for the person meanwhile.
async fn try_unsubscribe(
    state: &AppState,
    claims: &LinkClaims,
) -> Result<Option<Outcome>, AppError> {
    let mut standing = Standing::default();
    let mut latest = None;
    state
        .store
        .scan(Some(&claims.sub), |stored| {
            standing.apply(&stored);
            latest = Some(stored);
            ControlFlow::<()>::Continue(())
        })
        .await?;
    let newest = IfNewest(latest.as_ref().map(|stored| stored.seq));
    let latest: Option<ConsentRecord> = latest.and_then(|stored| {
        serde_json::from_str(&stored.body)
            .inspect_err(|_| tracing::warn!(seq = stored.seq, "stored body does not parse"))
            .ok()
    });
    let notice =
        default_notice().map_err(|err| AppError::Internal(format!("default notice: {err}")))?;
    let mut id = [0u8; 16];
    id.copy_from_slice(
        &crate::keys::random().map_err(|err| AppError::Internal(err.to_string()))?[..16],
    );
    let record_id = uuid::Builder::from_random_bytes(id).into_uuid();
    let Some(record) = denial(
        claims,
        &standing,
        latest.as_ref(),
        &notice,
        OffsetDateTime::now_utc(),
        record_id,
    )?
    else {
        return Ok(Some(Outcome::AlreadyDenied));
    };
    match append_signed(state, record, Some(claims.sub.clone()), Some(newest)).await? {
        Appended::Created(stored) | Appended::Existing(stored) => {
            Ok(Some(Outcome::Recorded { seq: stored.seq }))
        }
        Appended::Conflict => Err(AppError::Internal("random record id collided".into())),
        Appended::Stale => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Stored;

    fn claims(purpose: Option<PurposeId>) -> LinkClaims {
        LinkClaims {
            sub: "hmac-sha256:00".into(),
            aud: vec![Site::try_from("pci.qualys.com").unwrap()],
            exp: 0,
            iat: 0,
            jti: "j".into(),
            hint: "j•••@example.com".into(),
            purpose,
            scope: None,
        }
    }

    /// The denial of a link for `purpose`, or none.
    fn deny(
        purpose: Option<PurposeId>,
        standing: &Standing,
        latest: Option<&ConsentRecord>,
    ) -> Option<ConsentRecord> {
        let notice = default_notice().unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        denial(
            &claims(purpose),
            standing,
            latest,
            &notice,
            now,
            uuid::Uuid::nil(),
        )
        .unwrap()
    }

    fn states(record: &ConsentRecord) -> Vec<(&'static str, Option<ConsentState>)> {
        record
            .purposes
            .iter()
            .map(|c| (c.purpose().as_str(), c.state()))
            .collect()
    }

    #[test]
    fn the_default_notice_parses() {
        let notice = default_notice().unwrap();
        assert_eq!(notice.optional_purposes().count(), 4);
    }

    #[test]
    fn without_records_every_optional_purpose_of_the_default_notice_is_denied() {
        let notice = default_notice().unwrap();
        let record = deny(None, &Standing::default(), None).unwrap();
        assert_eq!(record.notice.hash, notice.hash());
        assert_eq!(record.source, Source::Unsubscribe);
        assert_eq!(record.widget_version.as_str(), "collector-0.1.0");
        assert_eq!(record.purposes.iter().count(), 9);
        for choice in record.purposes.iter() {
            let expected = choice
                .purpose()
                .is_optional()
                .then_some(ConsentState::Denied);
            assert_eq!(choice.state(), expected, "{:?}", choice.purpose());
        }
        // A one-purpose link with no standing: the others were never consented to.
        let one = deny(Some(PurposeId::Updates), &Standing::default(), None).unwrap();
        assert_eq!(
            one.purposes.state_of(PurposeId::NewProducts),
            Some(ConsentState::Denied)
        );
    }

    #[test]
    fn a_one_purpose_link_keeps_the_others_as_they_stand() {
        let latest: ConsentRecord = serde_json::from_value(serde_json::json!({
            "record_id": "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10",
            "site": "www.qualys.com",
            "notice": {"id": "n", "version": "7", "hash": format!("sha256:{}", "cd".repeat(32))},
            "language": "de",
            "purposes": [
                {"purpose": "new_products", "basis": "consent", "state": "granted"},
                {"purpose": "updates", "basis": "consent", "state": "granted"},
                {"purpose": "security", "basis": "contract"}
            ],
            "gpc": false, "widget_version": "0.1.0", "client_time": "2026-11-30T22:38:57.123Z"
        }))
        .unwrap();
        let stored = Stored {
            seq: 1,
            record_id: latest.record_id.to_string(),
            site: "www.qualys.com".into(),
            subject: Some("hmac-sha256:00".into()),
            body: latest.canonical_json(),
            digest: String::new(),
            prev_hash: String::new(),
            chain_hash: String::new(),
            received_at: "2026-12-01T00:00:00Z".into(),
            receipt: String::new(),
        };
        let mut standing = Standing::default();
        standing.apply(&stored);
        let record = deny(Some(PurposeId::Updates), &standing, Some(&latest)).unwrap();
        assert_eq!(record.notice, latest.notice);
        assert_eq!(record.language.as_str(), "de");
        assert_eq!(record.site.as_str(), "pci.qualys.com");
        assert_eq!(
            states(&record),
            [
                ("new_products", Some(ConsentState::Granted)),
                ("updates", Some(ConsentState::Denied)),
                ("security", None),
            ]
        );

        // Once denied, the same link changes nothing.
        let mut after = standing.clone();
        after.apply(&Stored {
            seq: 2,
            body: record.canonical_json(),
            ..stored
        });
        let again = deny(Some(PurposeId::Updates), &after, Some(&record));
        assert!(again.is_none());
    }

    /// A subject's records, stored in this order, and their standing.
    fn on_file(records: &[serde_json::Value]) -> (Standing, ConsentRecord) {
        let mut standing = Standing::default();
        let mut latest = None;
        for (seq, value) in (1..).zip(records) {
            let record: ConsentRecord = serde_json::from_value(value.clone()).unwrap();
            standing.apply(&Stored {
                seq,
                record_id: record.record_id.to_string(),
                site: record.site.to_string(),
                subject: Some("hmac-sha256:00".into()),
                body: record.canonical_json(),
                digest: String::new(),
                prev_hash: String::new(),
                chain_hash: String::new(),
                received_at: "2026-12-01T00:00:00Z".into(),
                receipt: String::new(),
            });
            latest = Some(record);
        }
        (standing, latest.unwrap())
    }

    fn record_with(id: &str, purposes: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "record_id": id, "site": "www.qualys.com",
            "notice": {"id": "n", "version": "7", "hash": format!("sha256:{}", "cd".repeat(32))},
            "language": "en", "purposes": purposes,
            "gpc": false, "widget_version": "0.1.0", "client_time": "2026-11-30T22:38:57.123Z"
        })
    }

    #[test]
    fn unsubscribe_from_all_denies_a_grant_the_latest_record_does_not_list() {
        let (standing, latest) = on_file(&[
            record_with(
                "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10",
                serde_json::json!([
                    {"purpose": "announcements", "basis": "consent", "state": "granted"},
                    {"purpose": "updates", "basis": "consent", "state": "granted"}
                ]),
            ),
            // Later, a record of the updates alone, denied.
            record_with(
                "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a11",
                serde_json::json!([{"purpose": "updates", "basis": "consent", "state": "denied"}]),
            ),
        ]);
        assert_eq!(
            standing.state_of(PurposeId::Announcements),
            Some(ConsentState::Granted)
        );
        let record = deny(None, &standing, Some(&latest)).expect("a denial is stored");
        assert_eq!(
            states(&record),
            [
                ("new_products", Some(ConsentState::Denied)),
                ("announcements", Some(ConsentState::Denied)),
                ("upgrades", Some(ConsentState::Denied)),
                ("updates", Some(ConsentState::Denied)),
            ]
        );
    }

    /// Records from a site whose own notice lists only some optional purposes, or none:
    /// "unsubscribe from all" still denies each of the four, and is never "already done"
    /// while one of them has no denial on file.
    #[test]
    fn unsubscribe_from_all_denies_optional_purposes_no_record_named() {
        for purposes in [
            serde_json::json!([{"purpose": "updates", "basis": "consent", "state": "granted"}]),
            serde_json::json!([{"purpose": "security", "basis": "contract"}]),
        ] {
            let (standing, latest) = on_file(&[record_with(
                "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10",
                purposes,
            )]);
            let record = deny(None, &standing, Some(&latest)).expect("a denial is stored");
            for purpose in PurposeId::ALL.into_iter().filter(|p| p.is_optional()) {
                assert_eq!(
                    record.purposes.state_of(purpose),
                    Some(ConsentState::Denied),
                    "{purpose:?}"
                );
            }
        }
    }
}
