//! A subject's standing preferences: for each purpose, its current state and the record
//! that set it, folded from the subject's records in chain order. What the mailer honours
//! and what a manage link starts the widget's toggles from.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use assent_record::{ConsentRecord, ConsentState, LawfulBasis, PurposeId, Source, LONGEST_WAIT};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::store::{Store, StoreError, Stored};

/// The `widget_version` of the unsubscribe records of collector 0.1.0, which restated the
/// optional purposes they did not target, denied ones too (never chosen as denied): of
/// those, only a change of state counts, as for any record.
const RESTATING_UNSUBSCRIBES: &str = "collector-0.1.0";

/// How far ahead of the collector's a page's clock may be and still say when a choice was
/// made: further ahead, its denial counts as made that long after it arrived, so that a
/// clock a year ahead does not outrank the person's choices for a year, and its grant
/// outranks only what it surely came after ([`Standing::apply`]), while one a few minutes ahead
/// keeps the order of its page's own choices (sent at once as it is left, they can arrive
/// the other way round).
const CLOCK_AHEAD: time::Duration = time::Duration::minutes(5);

/// The record that set a purpose's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetBy {
    /// Its id.
    pub record_id: String,
    /// Its place in the chain.
    pub seq: i64,
    /// When the collector received it.
    pub received_at: String,
    /// The covered site it came from.
    pub site: String,
    /// How it came to be.
    pub source: Source,
}

/// One purpose's standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurposeStanding {
    /// The lawful basis.
    pub basis: LawfulBasis,
    /// Granted or denied; none for purposes that are not a choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ConsentState>,
    /// The record since which it has been so.
    pub set_by: SetBy,
}

/// Every purpose a subject's records mention, with its standing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// By purpose.
    pub purposes: BTreeMap<PurposeId, PurposeStanding>,
    /// By purpose, when the person last said something of it: the latest time at which a
    /// record folded in chose it (a page's record, or an unsubscribe that targets it).
    #[serde(skip)]
    last_said: BTreeMap<PurposeId, LastWord>,
}

/// When the person last said something of a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LastWord {
    /// When, as [`Standing::apply`] reads a record's time.
    said: OffsetDateTime,
    /// The page's own time of it, where that page's clock was further ahead than
    /// [`CLOCK_AHEAD`]: a grant of a clock so far ahead (that page's, most likely) is
    /// ordered against it by the two pages' times, until a word on another clock is
    /// folded in after it.
    ahead: Option<OffsetDateTime>,
}

impl Standing {
    /// Folds in the subject's next record (rows must come in chain order). A purpose's
    /// `set_by` moves when its state changes, so it says since when it has been so, and
    /// with every unsubscribe that denies it, denied already or not (an unsubscribe denies
    /// only the purposes it targets). A grant said before the person's latest word on its
    /// purpose leaves the purpose as it is, whenever it arrives: a page's outbox sends late
    /// (offline, or its manage link's token still valid after an unsubscribe by mail), and
    /// two records of one page can cross on the way (sent at once as the page is left). A
    /// denial counts whenever it arrives, so a page whose clock is behind errs towards
    /// the denial. When a record was said: the page's clock for a choice (no later than
    /// [`CLOCK_AHEAD`] after its arrival), the collector's for an unsubscribe, whose
    /// restated grants (the purposes it does not target) say nothing. A grant of a page
    /// whose clock is further ahead than that can't say when it was made: it may have
    /// waited in the page's outbox (made offline before an unsubscribe by mail, sent after
    /// it). It outranks the purpose's last word only if that word was said before the
    /// grant can have been made (more than [`LONGEST_WAIT`], the outbox's limit, before
    /// it arrived), or by a page whose clock was as far ahead, at an earlier time of that
    /// clock (the same device, most likely) and with no word on another clock folded in
    /// since; and it is no word itself (it errs towards the denial, as a clock behind
    /// does). A body this collector can't read is an error: the standing made without it
    /// could miss the person's latest word. Returns the record read.
    pub fn apply(&mut self, stored: &Stored) -> Result<ConsentRecord, StoreError> {
        let record = serde_json::from_str::<ConsentRecord>(&stored.body)
            .map_err(|_| StoreError::Unreadable { seq: stored.seq })?;
        let set_by = SetBy {
            record_id: stored.record_id.clone(),
            seq: stored.seq,
            received_at: stored.received_at.clone(),
            site: stored.site.clone(),
            source: record.source,
        };
        let received = OffsetDateTime::parse(&stored.received_at, &Rfc3339).ok();
        // (A cap past the year 9999, of a row made so behind the triggers, caps nothing.)
        let cap = received.and_then(|received| received.checked_add(CLOCK_AHEAD));
        let clock_ahead =
            record.source.is_widget() && cap.is_some_and(|cap| *record.client_time > cap);
        let said = match (record.source, received) {
            (Source::Unsubscribe, Some(received)) => received,
            _ => cap.map_or(*record.client_time, |cap| cap.min(*record.client_time)),
        };
        let word = LastWord {
            said,
            ahead: clock_ahead.then_some(*record.client_time),
        };
        // The earliest its choice can have been made.
        let made_since = received.and_then(|received| received.checked_sub(LONGEST_WAIT));
        let later_than = |last: &LastWord| {
            if clock_ahead {
                made_since.is_some_and(|since| since > last.said)
                    || last.ahead.is_some_and(|then| *record.client_time > then)
            } else {
                said >= last.said
            }
        };
        for choice in record.purposes.iter() {
            let purpose = choice.purpose();
            let now = self.purposes.get(&purpose);
            let unchanged =
                now.is_some_and(|now| now.state == choice.state() && now.basis == choice.basis());
            let unsubscribed = record.source == Source::Unsubscribe
                && choice.state() == Some(ConsentState::Denied)
                && record.widget_version.as_str() != RESTATING_UNSUBSCRIBES;
            let granted = choice.state() == Some(ConsentState::Granted);
            let outdated = granted
                && self
                    .last_said
                    .get(&purpose)
                    .is_some_and(|last| !later_than(last));
            // What an unsubscribe restates as granted is the standing as it was folded then
            // (before this rule, if it was stored before it), not the person's word.
            if outdated || (granted && record.source == Source::Unsubscribe) {
                continue;
            }
            let changes = unsubscribed || !unchanged;
            if (changes || record.source.is_widget()) && !(granted && clock_ahead) {
                let last = self.last_said.entry(purpose).or_insert(word);
                if word.said >= last.said {
                    *last = word;
                } else {
                    // A word on another clock since a clock far ahead said the last one:
                    // that clock no longer orders its grants after the person's last word.
                    last.ahead = None;
                }
            }
            if changes {
                self.purposes.insert(
                    purpose,
                    PurposeStanding {
                        basis: choice.basis(),
                        state: choice.state(),
                        set_by: set_by.clone(),
                    },
                );
            }
        }
        Ok(record)
    }

    /// The current state of an optional purpose, if any record set one.
    pub fn state_of(&self, purpose: PurposeId) -> Option<ConsentState> {
        self.purposes.get(&purpose).and_then(|p| p.state)
    }

    /// Whether no record of the subject is stored.
    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty()
    }

    /// The standing of `subject`, from every record stored under it.
    pub async fn of_subject(store: &Store, subject: &str) -> Result<Self, StoreError> {
        Self::of_subject_at(store, subject, i64::MAX).await
    }

    /// The standing of `subject` as its records up to `seq` (that one included) made it:
    /// what a lookup answered right after the change at `seq`.
    pub async fn of_subject_at(store: &Store, subject: &str, seq: i64) -> Result<Self, StoreError> {
        let mut standing = Self::default();
        let unreadable = store
            .scan(Some(subject), |stored| {
                if stored.seq > seq {
                    return ControlFlow::Break(None);
                }
                match standing.apply(&stored) {
                    Ok(_) => ControlFlow::Continue(()),
                    Err(err) => ControlFlow::Break(Some(err)),
                }
            })
            .await?;
        unreadable.flatten().map_or(Ok(standing), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, new_products: &str, source: Option<&str>) -> Stored {
        made_at(seq, new_products, source, "2026-11-30T22:38:57.123Z")
    }

    /// A row whose record says it was made at `client_time`.
    fn made_at(seq: i64, new_products: &str, source: Option<&str>, client_time: &str) -> Stored {
        let mut body = serde_json::json!({
            "record_id": format!("00000000-0000-4000-8000-{seq:012}"),
            "site": "pci.qualys.com",
            "notice": {"id": "n", "version": "1", "hash": format!("sha256:{}", "ab".repeat(32))},
            "language": "en",
            "purposes": [
                {"purpose": "new_products", "basis": "consent", "state": new_products},
                {"purpose": "security", "basis": "contract"}
            ],
            "gpc": false, "widget_version": "0.1.0", "client_time": client_time
        });
        if let Some(source) = source {
            body["source"] = source.into();
        }
        Stored {
            seq,
            record_id: format!("00000000-0000-4000-8000-{seq:012}"),
            site: "pci.qualys.com".into(),
            subject: Some("hmac-sha256:00".into()),
            body: body.to_string(),
            digest: String::new(),
            prev_hash: String::new(),
            chain_hash: String::new(),
            received_at: format!("2026-12-01T00:00:0{seq}Z"),
            receipt: String::new(),
        }
    }

    #[test]
    fn set_by_moves_only_when_the_state_changes() {
        let mut standing = Standing::default();
        assert!(standing.is_empty());
        standing.apply(&row(1, "granted", None)).unwrap();
        standing.apply(&row(2, "granted", None)).unwrap();
        let now = &standing.purposes[&PurposeId::NewProducts];
        assert_eq!(
            (now.state, now.set_by.seq),
            (Some(ConsentState::Granted), 1)
        );

        standing
            .apply(&row(3, "denied", Some("unsubscribe")))
            .unwrap();
        let now = &standing.purposes[&PurposeId::NewProducts];
        assert_eq!(now.state, Some(ConsentState::Denied));
        assert_eq!(
            (now.set_by.seq, now.set_by.source),
            (3, Source::Unsubscribe)
        );
        // A purpose that is not a choice keeps the record that first listed it.
        assert_eq!(standing.purposes[&PurposeId::Security].set_by.seq, 1);
        assert_eq!(standing.state_of(PurposeId::Security), None);
    }

    /// A row received at the end of the year 9999 (one inserted behind the triggers) is
    /// folded, not a panic in every lookup, export and unsubscribe of its person.
    #[test]
    fn a_row_received_at_the_end_of_time_is_folded() {
        let mut standing = Standing::default();
        let last = received(1, "granted", "9999-12-31T23:59:00Z", "9999-12-31T23:58:00Z");
        standing.apply(&last).unwrap();
        assert_eq!(
            standing.state_of(PurposeId::NewProducts),
            Some(ConsentState::Granted)
        );
    }

    #[test]
    fn a_choice_made_before_an_unsubscribe_and_received_after_it_does_not_undo_it() {
        let mut standing = Standing::default();
        standing.apply(&row(1, "granted", None)).unwrap();
        // Unsubscribed at 00:00:02 (the collector's time)…
        standing
            .apply(&row(2, "denied", Some("unsubscribe")))
            .unwrap();
        // …then a grant made on a page the evening before arrives from its outbox.
        standing
            .apply(&made_at(3, "granted", None, "2026-11-30T22:40:00Z"))
            .unwrap();
        let now = &standing.purposes[&PurposeId::NewProducts];
        assert_eq!((now.state, now.set_by.seq), (Some(ConsentState::Denied), 2));
        // A grant made after the unsubscribe counts.
        standing
            .apply(&made_at(4, "granted", None, "2026-12-01T00:00:03Z"))
            .unwrap();
        let now = &standing.purposes[&PurposeId::NewProducts];
        assert_eq!(
            (now.state, now.set_by.seq),
            (Some(ConsentState::Granted), 4)
        );
        // A denial counts whenever it arrives, said before the grant or not.
        standing
            .apply(&made_at(5, "denied", None, "2026-11-30T22:41:00Z"))
            .unwrap();
        assert_eq!(
            standing.state_of(PurposeId::NewProducts),
            Some(ConsentState::Denied)
        );
    }

    /// A page's row made at `said` (its clock) and received at `received` (the collector's).
    fn received(seq: i64, state: &str, said: &str, received: &str) -> Stored {
        let mut row = made_at(seq, state, None, said);
        row.received_at = received.into();
        row
    }

    /// The standing after page records folded in this order, seq 1, 2, … ([`fold_in`]).
    fn folded(records: &str) -> Standing {
        let mut standing = Standing::default();
        fold_in(&mut standing, 1, records);
        standing
    }

    /// Folds in page records in this order, seq `first`, `first + 1`, …: each
    /// "<new_products' state> <when the page said it>", an RFC 3339 time, or one of 30
    /// November 2026 (UTC) as "hh:mm:ss".
    fn fold_in(standing: &mut Standing, first: i64, records: &str) {
        for (seq, record) in (first..).zip(records.split(", ")) {
            let (state, said) = record.split_once(' ').unwrap();
            let said = if said.len() == 8 {
                format!("2026-11-30T{said}Z")
            } else {
                said.to_owned()
            };
            standing.apply(&made_at(seq, state, None, &said)).unwrap();
        }
    }

    /// new_products' state, and the seq of the record that set it.
    fn new_products(standing: &Standing) -> (Option<ConsentState>, i64) {
        let now = &standing.purposes[&PurposeId::NewProducts];
        (now.state, now.set_by.seq)
    }

    /// A grant counts only when said after the person's latest word on its purpose,
    /// whenever it arrives.
    #[test]
    fn a_grant_said_before_the_latest_word_does_not_undo_it() {
        use ConsentState::{Denied, Granted};
        for (records, (state, seq), case) in [
            // A page's grant and its denial a moment later, crossed on the way.
            ("denied 22:40:05, granted 22:40:00", (Denied, 1), "crossed"),
            // The later word said again what was so (set_by stays).
            (
                "denied 22:00:00, denied 22:40:00, granted 22:20:00",
                (Denied, 1),
                "restated",
            ),
            (
                "denied 22:00:00, denied 22:40:00, granted 22:41:00",
                (Granted, 3),
                "said after",
            ),
            // A page's clock a minute ahead: its grant and its denial crossed all the same.
            (
                "denied 2026-12-01T00:01:05Z, granted 2026-12-01T00:01:00Z",
                (Denied, 1),
                "clock a minute ahead",
            ),
        ] {
            assert_eq!(new_products(&folded(records)), (Some(state), seq), "{case}");
        }
    }

    /// A page's clock a year ahead: its choice counts as made five minutes after it
    /// arrived, not a year on, so a grant made later on a right clock counts.
    #[test]
    fn a_clock_far_ahead_counts_as_said_soon_after_its_choice_arrived() {
        let mut standing = folded("denied 2027-12-01T00:00:01Z");
        let later = received(2, "granted", "2026-12-01T00:06:00Z", "2026-12-01T00:06:00Z");
        standing.apply(&later).unwrap();
        assert_eq!(new_products(&standing), (Some(ConsentState::Granted), 2));
    }

    /// Granted on a laptop whose clock is two hours ahead, offline; unsubscribed by mail
    /// half an hour later; the laptop back online an hour after that: its grant, said
    /// "11:00" and capped at five minutes after it arrived (01:05), may have been made
    /// before the unsubscribe (it was), so it does not undo it. A grant of that clock
    /// counts where the purpose has no word yet, and a later one on a right clock counts
    /// as ever.
    #[test]
    fn a_grant_of_a_clock_far_ahead_outranks_no_word() {
        let mut standing = Standing::default();
        let mut unsubscribe = row(1, "denied", Some("unsubscribe"));
        unsubscribe.received_at = "2026-12-01T00:30:00Z".into();
        standing.apply(&unsubscribe).unwrap();
        let late = received(2, "granted", "2026-12-01T02:00:00Z", "2026-12-01T01:00:00Z");
        standing.apply(&late).unwrap();
        assert_eq!(new_products(&standing), (Some(ConsentState::Denied), 1));

        let mut first = Standing::default();
        first.apply(&late).unwrap();
        assert_eq!(new_products(&first), (Some(ConsentState::Granted), 2));
        // Not a word: a denial of a right clock made before it and arriving after it
        // counts (as every denial), and so does a grant said after that denial.
        for (seq, state, said, arrived) in [
            (3, "denied", "2026-12-01T00:50:00Z", "2026-12-01T01:10:00Z"),
            (4, "granted", "2026-12-01T01:11:00Z", "2026-12-01T01:11:00Z"),
        ] {
            first.apply(&received(seq, state, said, arrived)).unwrap();
            assert_eq!(new_products(&first).1, seq, "{state}");
        }
    }

    /// A laptop ten minutes ahead, whose choices are ordered by its own clock: denied on
    /// Monday, granted on Friday (or a minute after the denial) counts. Against a word on
    /// another clock (an unsubscribe, a right clock's denial) its grant counts only when
    /// that word is older than the outbox's longest wait before the grant arrived.
    #[test]
    fn a_clock_far_ahead_orders_its_own_choices() {
        for (then, granted) in [
            ("2026-12-04T09:10:00Z", "2026-12-04T09:00:00Z"),
            ("2026-11-30T09:11:00Z", "2026-11-30T09:01:00Z"),
        ] {
            let mut standing = Standing::default();
            standing
                .apply(&received(
                    1,
                    "denied",
                    "2026-11-30T09:10:00Z",
                    "2026-11-30T09:00:00Z",
                ))
                .unwrap();
            standing
                .apply(&received(2, "granted", then, granted))
                .unwrap();
            assert_eq!(
                new_products(&standing),
                (Some(ConsentState::Granted), 2),
                "{then}"
            );
        }
        for (word_received, state) in [
            ("2026-10-31T00:00:00Z", ConsentState::Granted),
            ("2026-11-02T00:00:00Z", ConsentState::Denied),
        ] {
            for word in [
                {
                    let mut unsubscribe = row(1, "denied", Some("unsubscribe"));
                    unsubscribe.received_at = word_received.into();
                    unsubscribe
                },
                received(1, "denied", word_received, word_received),
            ] {
                let mut standing = Standing::default();
                standing.apply(&word).unwrap();
                standing
                    .apply(&received(
                        2,
                        "granted",
                        "2026-12-01T02:00:00Z",
                        "2026-12-01T00:00:00Z",
                    ))
                    .unwrap();
                assert_eq!(
                    standing.state_of(PurposeId::NewProducts),
                    Some(state),
                    "{word_received}"
                );
            }
        }
    }

    /// A laptop ten minutes ahead denies at 10:00 (its time 10:10: said, capped, at 10:05)
    /// and grants at 10:01 (its 10:11), offline; the person unsubscribes by mail at 10:03,
    /// or denies on a phone of a right clock, and the grant arrives at 10:04. The laptop's
    /// own clock orders its grant after its denial, not after the word between them on
    /// another clock: the later word stands.
    #[test]
    fn a_word_between_two_choices_of_a_clock_far_ahead_stands() {
        for word in [
            {
                let mut unsubscribe = row(2, "denied", Some("unsubscribe"));
                unsubscribe.received_at = "2026-11-30T10:03:00Z".into();
                unsubscribe
            },
            received(2, "denied", "2026-11-30T10:03:00Z", "2026-11-30T10:03:00Z"),
        ] {
            let mut standing = Standing::default();
            let denied = received(1, "denied", "2026-11-30T10:10:00Z", "2026-11-30T10:00:00Z");
            standing.apply(&denied).unwrap();
            standing.apply(&word).unwrap();
            let granted = received(3, "granted", "2026-11-30T10:11:00Z", "2026-11-30T10:04:00Z");
            standing.apply(&granted).unwrap();
            assert_eq!(
                standing.state_of(PurposeId::NewProducts),
                Some(ConsentState::Denied),
                "{}",
                word.body
            );
        }
    }

    /// Denied on a page, granted on another page that was offline, unsubscribed by mail
    /// (the purpose still denied on file), and only then the grant arrives: the
    /// unsubscribe, the person's latest word, stands. An unsubscribe of collector 0.1.0
    /// restated, as denied, purposes it did not target: for those only a change counts,
    /// so there the earlier grant that arrives later still does, as it did when that
    /// record was stored.
    #[test]
    fn an_unsubscribe_of_a_purpose_denied_already_outranks_an_earlier_choice() {
        for (version, set_by, last) in [
            ("0.1.0", 2, ConsentState::Denied),
            ("collector-0.1.0", 1, ConsentState::Granted),
        ] {
            let mut standing = Standing::default();
            standing
                .apply(&made_at(1, "denied", None, "2026-11-30T22:00:00Z"))
                .unwrap();
            let mut unsubscribe = row(2, "denied", Some("unsubscribe"));
            unsubscribe.body = unsubscribe
                .body
                .replace("\"0.1.0\"", &format!("\"{version}\""));
            assert!(unsubscribe.body.contains(version));
            standing.apply(&unsubscribe).unwrap();
            let now = &standing.purposes[&PurposeId::NewProducts];
            assert_eq!(
                (now.state, now.set_by.seq),
                (Some(ConsentState::Denied), set_by),
                "{version}"
            );
            standing
                .apply(&made_at(3, "granted", None, "2026-11-30T23:00:00Z"))
                .unwrap();
            assert_eq!(
                standing.state_of(PurposeId::NewProducts),
                Some(last),
                "{version}"
            );
        }
    }

    /// An unsubscribe from another purpose says nothing of this one, which it restates as
    /// granted: a grant of it said before the unsubscribe, after the person's last word on
    /// it, counts.
    #[test]
    fn what_an_unsubscribe_restates_is_not_the_persons_word() {
        let mut standing = folded("granted 22:00:00");
        standing.apply(&unsubscribed_from_updates(2)).unwrap();
        // Two choices of a page that was offline arrive: a denial, then a later grant.
        fold_in(&mut standing, 3, "denied 22:10:00, granted 22:20:00");
        assert_eq!(new_products(&standing), (Some(ConsentState::Granted), 4));
        assert_eq!(
            standing.state_of(PurposeId::Updates),
            Some(ConsentState::Denied)
        );
    }

    /// An unsubscribe stored before this rule restated as granted what the old one folded
    /// (a grant that crossed a later denial on the way): it grants nothing.
    #[test]
    fn an_unsubscribes_restated_grant_grants_nothing() {
        let mut standing = folded("denied 22:40:05, granted 22:40:00");
        standing.apply(&unsubscribed_from_updates(3)).unwrap();
        assert_eq!(new_products(&standing), (Some(ConsentState::Denied), 1));
    }

    /// An unsubscribe from updates at 00:00:0`seq` (the row's received_at), restating
    /// new_products as granted.
    fn unsubscribed_from_updates(seq: i64) -> Stored {
        let mut updates_only = row(seq, "granted", Some("unsubscribe"));
        updates_only.body = updates_only.body.replace(
            r#"{"basis":"contract","purpose":"security"}"#,
            r#"{"basis":"contract","purpose":"security"},{"basis":"consent","purpose":"updates","state":"denied"}"#,
        );
        assert!(
            updates_only.body.contains("updates"),
            "{}",
            updates_only.body
        );
        updates_only
    }

    /// An unsubscribe from another purpose says nothing of this one: an earlier choice of
    /// it that arrives later counts.
    #[test]
    fn an_unsubscribe_from_another_purpose_leaves_this_one_to_the_person() {
        let mut standing = Standing::default();
        let mut updates_only = row(1, "denied", Some("unsubscribe"));
        updates_only.body = updates_only.body.replace("new_products", "updates");
        standing.apply(&updates_only).unwrap();
        standing
            .apply(&made_at(2, "granted", None, "2026-11-30T23:00:00Z"))
            .unwrap();
        let now = &standing.purposes[&PurposeId::NewProducts];
        assert_eq!(
            (now.state, now.set_by.seq),
            (Some(ConsentState::Granted), 2)
        );
        assert_eq!(
            standing.state_of(PurposeId::Updates),
            Some(ConsentState::Denied)
        );
    }
}
