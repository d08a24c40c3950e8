//! Issuing receipt files: the file the collector gives with every receipt, for the visitor
//! to keep: the record as stored, the signed receipt, and where the keys that check it are
//! published, with a summary in the Kantara Consent Receipt / ISO 27560 vocabulary
//! ([`assent_record::ReceiptFile`], the one definition the verifiers read). As the
//! controller's system, the collector is who issues consent receipts; the widget keeps the
//! file and hands it to the visitor as it is.

use std::collections::HashMap;
use std::num::NonZeroU64;

use assent_record::{
    ConsentRecord, ContentHash, Controller, JwksUri, Jws, Notice, NoticeId, ReceiptAnswer,
    ReceiptFile,
};

use crate::link::PublicUrl;
use crate::store::Stored;

/// The notice every widget embeds by default, so its records get files with no setting.
const DEFAULT_NOTICE: &str = include_str!("../../../notices/qualys-privacy-highlights.en.json");

/// Issues receipt files: knows the controller each notice names, and the collector's keys.
#[derive(Debug, Clone)]
pub struct ReceiptIssuer {
    controllers: HashMap<NoticeId, Controller>,
    jwks_uri: Option<JwksUri>,
}

impl ReceiptIssuer {
    /// Files for records under the default notice and `notices` (by notice id: a site's
    /// `data-policy-url` changes a notice's hash, not whose it is), with keys published
    /// under `public_url`. A public address that is not `https:` (or local `http:`) names
    /// no key set a visitor could fetch, so no files are issued.
    pub fn new(notices: &[Notice], public_url: &PublicUrl) -> Self {
        let default = serde_json::from_str::<Notice>(DEFAULT_NOTICE).ok();
        let controllers = default
            .iter()
            .chain(notices)
            .map(|notice| (notice.id.clone(), Controller::from_notice(notice)))
            .collect();
        let jwks_uri = public_url.join("/.well-known/jwks.json");
        Self {
            controllers,
            jwks_uri: JwksUri::try_from(jwks_uri).ok(),
        }
    }

    /// Whether it issues files at all: not when the public address names no key set a
    /// visitor could fetch.
    pub fn issues_files(&self) -> bool {
        self.jwks_uri.is_some()
    }

    /// The file for `record` (as stored: no e-mail, no token) and its stored row, if the
    /// notice is one this collector knows. Its controller is the one the receipt signed,
    /// should the notice have named another since (a receipt from before the controller
    /// was signed: the notice's now).
    pub fn file(&self, record: &ConsentRecord, stored: &Stored) -> Option<ReceiptFile> {
        let known = self.controllers.get(&record.notice.id)?;
        let jwks_uri = self.jwks_uri.clone()?;
        let signed = crate::receipt::stored_claims(&stored.receipt).and_then(|c| c.controller);
        let controller = signed.unwrap_or_else(|| known.clone());
        // A row that makes no file was stored otherwise than the collector stores one (or
        // changed since): the answer goes without it, and the log says why.
        file_of_row(record, stored, controller, jwks_uri)
            .inspect_err(|field| {
                tracing::warn!(
                    seq = stored.seq,
                    field,
                    "no receipt file: the stored row's field is not as the collector writes it"
                );
            })
            .ok()
    }

    /// Who a record under `notice` gives its choice to, if the collector knows the notice.
    pub fn controller(&self, notice: &NoticeId) -> Option<Controller> {
        self.controllers.get(notice).cloned()
    }

    /// The file for a stored row, read from its body (the receipt GET).
    pub fn file_of_stored(&self, stored: &Stored) -> Option<ReceiptFile> {
        let record = serde_json::from_str::<ConsentRecord>(&stored.body).ok()?;
        self.file(&record, stored)
    }
}

/// The receipt file of a stored row, or the field of the row that can't be in one.
fn file_of_row(
    record: &ConsentRecord,
    stored: &Stored,
    controller: Controller,
    jwks_uri: JwksUri,
) -> Result<ReceiptFile, &'static str> {
    let answer = ReceiptAnswer {
        record_id: record.record_id,
        seq: u64::try_from(stored.seq)
            .ok()
            .and_then(NonZeroU64::new)
            .ok_or("seq")?,
        received_at: stored.received_at.parse().map_err(|_| "received_at")?,
        chain_hash: ContentHash::try_from(stored.chain_hash.clone()).map_err(|_| "chain_hash")?,
        receipt: Jws::try_from(stored.receipt.clone()).map_err(|_| "receipt")?,
    };
    ReceiptFile::new(record, &answer, controller, jwks_uri).map_err(|_| "record")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_notice_is_known_and_keys_need_a_reachable_address() {
        let files = ReceiptIssuer::new(&[], &"https://consent.example.com".parse().unwrap());
        let default: Notice = serde_json::from_str(DEFAULT_NOTICE).unwrap();
        assert!(files.controllers.contains_key(&default.id));
        assert_eq!(
            files.jwks_uri.as_ref().map(JwksUri::as_str),
            Some("https://consent.example.com/.well-known/jwks.json")
        );
        let public = ReceiptIssuer::new(&[], &"http://consent.example.com".parse().unwrap());
        assert!(
            !public.issues_files(),
            "plain http names no fetchable key set"
        );
        // A collector listening on the IPv6 loopback, its default public address.
        let local = ReceiptIssuer::new(&[], &"http://[::1]:8787".parse().unwrap());
        assert_eq!(
            local.jwks_uri.as_ref().map(JwksUri::as_str),
            Some("http://[::1]:8787/.well-known/jwks.json")
        );
    }

    /// A row that makes no file names the field at fault, which the log gives.
    #[test]
    fn a_row_that_makes_no_file_names_its_field() {
        let record: ConsentRecord =
            serde_json::from_str(include_str!("../tests/data/record.json")).unwrap();
        let row = Stored {
            seq: 1,
            record_id: record.record_id.to_string(),
            site: record.site.as_str().to_owned(),
            subject: None,
            body: record.canonical_json(),
            digest: record.digest().as_str().to_owned(),
            prev_hash: String::new(),
            chain_hash: format!("sha256:{}", "ab".repeat(32)),
            received_at: "2026-12-07T10:00:00Z".into(),
            receipt: "x".repeat(100_000),
        };
        let jwks: JwksUri = "https://consent.example.com/.well-known/jwks.json"
            .to_owned()
            .try_into()
            .unwrap();
        let controller = || Controller::from_notice(&serde_json::from_str(DEFAULT_NOTICE).unwrap());
        let field = |row: &Stored| {
            file_of_row(&record, row, controller(), jwks.clone())
                .err()
                .unwrap_or("none")
        };
        assert_eq!(field(&row), "receipt", "a receipt too long to be one");
        let unhashed = Stored {
            chain_hash: "ab".into(),
            ..row.clone()
        };
        assert_eq!(field(&unhashed), "chain_hash");
        let unsequenced = Stored { seq: 0, ..row };
        assert_eq!(field(&unsequenced), "seq");
    }
}
