//! The suppression list of one optional purpose: every subject whose current state for it
//! is denied, and since when. What a mailer loads before a send.

use std::collections::HashMap;
use std::ops::ControlFlow;

use assent_record::{ConsentState, PurposeId};
use serde::Serialize;

use crate::standing::Standing;
use crate::store::{Store, StoreError};

/// A purpose that has no suppression list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurposeError {
    /// Not a purpose's wire name.
    #[error("{0:?} is not a purpose; the optional ones are {list}", list = optional_names())]
    Unknown(String),
    /// Nobody can opt out of it, so nobody is suppressed.
    #[error("{} is not optional (its basis is the contract, nobody can opt out of it), so it has no suppression list; the optional purposes are {list}", .0.as_str(), list = optional_names())]
    NotOptional(PurposeId),
}

fn optional_names() -> String {
    PurposeId::ALL
        .iter()
        .filter(|p| p.is_optional())
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The optional purpose named `name` (its wire name, e.g. `new_products`).
pub fn optional_purpose(name: &str) -> Result<PurposeId, PurposeError> {
    let purpose = PurposeId::ALL
        .into_iter()
        .find(|p| p.as_str() == name)
        .ok_or_else(|| PurposeError::Unknown(name.to_owned()))?;
    if purpose.is_optional() {
        Ok(purpose)
    } else {
        Err(PurposeError::NotOptional(purpose))
    }
}

/// One suppressed subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// The keyed hash of the address.
    pub subject: String,
    /// When the record that denied it was received.
    pub since: String,
    /// That record's id.
    pub record_id: String,
    /// Its place in the chain.
    pub seq: i64,
}

/// Every subject whose current state for `purpose` is denied, by the `seq` of the record
/// that denied it. One pass over the chain; memory grows with the number of subjects, not
/// of records.
pub async fn list(store: &Store, purpose: PurposeId) -> Result<Vec<Suppressed>, StoreError> {
    let mut standings: HashMap<String, Standing> = HashMap::new();
    let unreadable = store
        .scan(None, |stored| {
            let Some(subject) = &stored.subject else {
                return ControlFlow::Continue(());
            };
            match standings.entry(subject.clone()).or_default().apply(&stored) {
                Ok(_) => ControlFlow::Continue(()),
                Err(err) => ControlFlow::Break(err),
            }
        })
        .await?;
    if let Some(err) = unreadable {
        return Err(err);
    }
    let mut suppressed: Vec<Suppressed> = standings
        .into_iter()
        .filter_map(|(subject, standing)| {
            let now = standing.purposes.get(&purpose)?;
            (now.state == Some(ConsentState::Denied)).then(|| Suppressed {
                subject,
                since: now.set_by.received_at.clone(),
                record_id: now.set_by.record_id.clone(),
                seq: now.set_by.seq,
            })
        })
        .collect();
    suppressed.sort_by_key(|s| s.seq);
    Ok(suppressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_optional_purposes_have_a_list() {
        assert_eq!(optional_purpose("updates"), Ok(PurposeId::Updates));
        let err = optional_purpose("security").unwrap_err().to_string();
        assert!(err.contains("security is not optional"), "{err}");
        assert!(
            err.contains("new_products, announcements, upgrades, updates"),
            "{err}"
        );
        let err = optional_purpose("spam").unwrap_err().to_string();
        assert!(err.contains("\"spam\" is not a purpose"), "{err}");
    }
}
