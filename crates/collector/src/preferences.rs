//! One person's preferences as the mailer reads them: the subject and its standing, for
//! `preferences --email` and `POST /v1/subjects/lookup`.

use std::collections::BTreeMap;

use assent_record::PurposeId;
use serde::Serialize;

use crate::standing::{PurposeStanding, Standing};
use crate::store::{Store, StoreError};

/// A subject's current preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preferences {
    /// The keyed hash of the address.
    pub subject: String,
    /// Each purpose its records mention; empty when none is stored.
    pub purposes: BTreeMap<PurposeId, PurposeStanding>,
}

impl Preferences {
    /// The preferences of `subject`, from every record stored under it.
    pub async fn of(store: &Store, subject: String) -> Result<Self, StoreError> {
        let standing = Standing::of_subject(store, &subject).await?;
        Ok(Self {
            subject,
            purposes: standing.purposes,
        })
    }
}
