//! RFC 8058 one-click unsubscribe: the denial record the collector makes on a subject's
//! behalf. It is a record like any other (in the chain, with a receipt), with
//! `source: "unsubscribe"`.

use std::ops::ControlFlow;

use assent_record::{
    ConsentRecord, ConsentState, Language, Notice, NoticeRef, PurposeChoice, PurposeId, Purposes,
    Rfc3339Time, Site, Source, WidgetVersion,
};
use time::format_description::well_known::Rfc3339;
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
    /// The same unsubscribe a moment ago (a double click, the mail provider's POST beside
    /// the person's own): nothing stored.
    Repeat,
}

/// How long after an unsubscribe one that denies the same purposes is its repeat. Any
/// later one is the person's word again, and is stored: a choice they made on a page
/// between the two, still waiting in that page's outbox, must not undo the second.
const REPEAT_WITHIN: time::Duration = time::Duration::minutes(1);

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
/// `None` when it would repeat one made a moment ago.
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
    let repeated = |purpose: &PurposeId| {
        standing.purposes.get(purpose).is_some_and(|p| {
            p.state == Some(ConsentState::Denied)
                && p.set_by.source == Source::Unsubscribe
                && OffsetDateTime::parse(&p.set_by.received_at, &Rfc3339)
                    .is_ok_and(|at| now - at < REPEAT_WITHIN)
        })
    };
    if targets.iter().all(repeated) {
        return Ok(None);
    }
    // Every optional purpose it denies is one it targets (what `Standing::apply` takes an
    // unsubscribe's denials for); the others are restated only where granted, so that the
    // record shows what the person still gets. One denied by a page keeps that record as
    // what set it, and one never chosen is not said to have been unsubscribed from.
    let mut choices = Vec::with_capacity(purposes.len());
    for &purpose in &purposes {
        let choice = if targets.contains(&purpose) {
            PurposeChoice::optional(purpose, ConsentState::Denied)
        } else if !purpose.is_optional() {
            PurposeChoice::mandatory(purpose)
        } else if standing.state_of(purpose) == Some(ConsentState::Granted) {
            PurposeChoice::optional(purpose, ConsentState::Granted)
        } else {
            continue;
        };
        choices.push(
            choice.ok_or_else(|| AppError::Internal("a link's purpose is not optional".into()))?,
        );
    }
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
        client_time: Rfc3339Time::try_from(now)
            .map_err(|err| AppError::Internal(format!("the clock: {err}")))?,
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
    let mut newest_seq = None;
    let mut latest = None;
    let mut unreadable = None;
    state
        .store
        .scan(Some(&claims.sub), |stored| {
            newest_seq = Some(stored.seq);
            match standing.apply(&stored) {
                Ok(record) => latest = Some(record),
                Err(err) => unreadable = Some(err),
            }
            ControlFlow::<()>::Continue(())
        })
        .await?;
    // A record of the person's this collector can't read (a later version's, sharing the
    // database): the standing may lack their latest word, so the denial restates nothing
    // from it and is never taken for a repeat. It denies what the link targets all the
    // same: a failed one-click POST is never shown to the person.
    if let Some(err) = unreadable {
        tracing::warn!(%err, "the unsubscribe denies what its link targets and restates nothing");
        standing = Standing::default();
    }
    let newest = IfNewest(newest_seq);
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
        return Ok(Some(Outcome::Repeat));
    };
    // A link that has recorded its hour's denials: where the person is unsubscribed from
    // what it targets already, that is the answer; else (a choice made since, between the
    // many unsubscribes only a loop makes) it is refused, to be sent again later.
    if let Err(wait) = state.limits.check_link_write(&claims.jti) {
        // The purposes it denies are those its link targets (`denial`).
        let denied = Some(ConsentState::Denied);
        return if record
            .purposes
            .iter()
            .filter(|choice| choice.state() == denied)
            .all(|choice| standing.state_of(choice.purpose()) == denied)
        {
            Ok(Some(Outcome::Repeat))
        } else {
            Err(wait.into())
        };
    }
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
        deny_at(purpose, standing, latest, "2026-12-01T00:00:30Z")
    }

    /// The same, decided at `now` (the test rows are received at 2026-12-01T00:00:00Z).
    fn deny_at(
        purpose: Option<PurposeId>,
        standing: &Standing,
        latest: Option<&ConsentRecord>,
        now: &str,
    ) -> Option<ConsentRecord> {
        let notice = default_notice().unwrap();
        let now = OffsetDateTime::parse(now, &Rfc3339).unwrap();
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
        assert_eq!(record.widget_version.as_str(), "collector-0.1.2");
        assert_eq!(record.purposes.iter().count(), 9);
        for choice in record.purposes.iter() {
            let expected = choice
                .purpose()
                .is_optional()
                .then_some(ConsentState::Denied);
            assert_eq!(choice.state(), expected, "{:?}", choice.purpose());
        }
        // A one-purpose link with no standing: the others were never consented to, nor
        // unsubscribed from, and the record does not say they were.
        let one = deny(Some(PurposeId::Updates), &Standing::default(), None).unwrap();
        assert_eq!(
            one.purposes.state_of(PurposeId::Updates),
            Some(ConsentState::Denied)
        );
        for purpose in PurposeId::ALL.into_iter().filter(|p| p.is_optional()) {
            if purpose != PurposeId::Updates {
                assert!(
                    one.purposes.iter().all(|c| c.purpose() != purpose),
                    "{purpose:?}"
                );
            }
        }
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
        standing.apply(&stored).unwrap();
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

        // The same link again within the minute (a double click) changes nothing; a day
        // later it is the person's word again, and is recorded.
        let mut after = standing.clone();
        after
            .apply(&Stored {
                seq: 2,
                body: record.canonical_json(),
                ..stored
            })
            .unwrap();
        let again = deny(Some(PurposeId::Updates), &after, Some(&record));
        assert!(again.is_none());
        let later = deny_at(
            Some(PurposeId::Updates),
            &after,
            Some(&record),
            "2026-12-02T00:00:00Z",
        )
        .expect("a later unsubscribe is stored");
        assert_eq!(states(&later), states(&record));
    }

    /// A purpose a page denied is left to that record: the unsubscribe neither restates
    /// nor claims it, so it denies only what it targets.
    #[test]
    fn a_one_purpose_link_leaves_out_what_a_page_denied() {
        let (standing, latest) = on_file(&[record_with(
            "0b4f7a4e-2f57-4a6c-9f0e-5d1e4c3b2a10",
            serde_json::json!([
                {"purpose": "new_products", "basis": "consent", "state": "denied"},
                {"purpose": "updates", "basis": "consent", "state": "granted"},
                {"purpose": "security", "basis": "contract"}
            ]),
        )]);
        let record = deny(Some(PurposeId::Updates), &standing, Some(&latest)).unwrap();
        assert_eq!(
            states(&record),
            [("updates", Some(ConsentState::Denied)), ("security", None)]
        );
        // Denied by a page already: an unsubscribe is still recorded, as the later word.
        let record = deny(Some(PurposeId::NewProducts), &standing, Some(&latest)).unwrap();
        assert_eq!(
            states(&record),
            [
                ("new_products", Some(ConsentState::Denied)),
                ("updates", Some(ConsentState::Granted)),
                ("security", None)
            ]
        );
    }

    /// A subject's records, stored in this order, and their standing.
    fn on_file(records: &[serde_json::Value]) -> (Standing, ConsentRecord) {
        let mut standing = Standing::default();
        let mut latest = None;
        for (seq, value) in (1..).zip(records) {
            let record: ConsentRecord = serde_json::from_value(value.clone()).unwrap();
            standing
                .apply(&Stored {
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
                })
                .unwrap();
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
