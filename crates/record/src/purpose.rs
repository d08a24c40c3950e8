//! Notification purposes, their lawful basis and the visitor's state for each.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A kind of notification a company may send. The visitor chooses the optional ones;
/// the others come with the service and can't be opted out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeId {
    /// Notices of new products.
    NewProducts,
    /// Announcements.
    Announcements,
    /// Notices of upgrades.
    Upgrades,
    /// Notices of updates.
    Updates,
    /// Security notices about products in use.
    Security,
    /// Notices about initial use of a product.
    InitialUse,
    /// Notices of expiration.
    Expiration,
    /// Notices of product enhancements.
    ProductEnhancement,
    /// Notices about migration.
    Migration,
}

impl PurposeId {
    /// Every purpose, optional ones first.
    pub const ALL: [PurposeId; 9] = [
        Self::NewProducts,
        Self::Announcements,
        Self::Upgrades,
        Self::Updates,
        Self::Security,
        Self::InitialUse,
        Self::Expiration,
        Self::ProductEnhancement,
        Self::Migration,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NewProducts => "new_products",
            Self::Announcements => "announcements",
            Self::Upgrades => "upgrades",
            Self::Updates => "updates",
            Self::Security => "security",
            Self::InitialUse => "initial_use",
            Self::Expiration => "expiration",
            Self::ProductEnhancement => "product_enhancement",
            Self::Migration => "migration",
        }
    }

    /// The lawful basis for sending this kind of notification.
    pub const fn basis(self) -> LawfulBasis {
        match self {
            Self::NewProducts | Self::Announcements | Self::Upgrades | Self::Updates => {
                LawfulBasis::Consent
            }
            Self::Security
            | Self::InitialUse
            | Self::Expiration
            | Self::ProductEnhancement
            | Self::Migration => LawfulBasis::Contract,
        }
    }

    /// Whether the visitor may opt out.
    pub const fn is_optional(self) -> bool {
        matches!(self.basis(), LawfulBasis::Consent)
    }
}

/// GDPR Art. 6(1) basis for a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// Art. 6(1)(a): the visitor's consent, which they may refuse or withdraw.
    Consent,
    /// Art. 6(1)(b): needed to perform the contract; no opt-out.
    Contract,
}

/// The visitor's choice for an optional purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// The visitor wants these notices.
    Granted,
    /// The visitor does not.
    Denied,
}

impl ConsentState {
    /// `Granted` for true.
    pub const fn from_granted(granted: bool) -> Self {
        if granted {
            Self::Granted
        } else {
            Self::Denied
        }
    }

    /// Whether this is `Granted`.
    pub const fn is_granted(self) -> bool {
        matches!(self, Self::Granted)
    }
}

/// One purpose in a record: its basis, and for a consent-based purpose, its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PurposeChoiceWire")]
pub struct PurposeChoice {
    purpose: PurposeId,
    basis: LawfulBasis,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<ConsentState>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PurposeChoiceWire {
    purpose: PurposeId,
    basis: LawfulBasis,
    #[serde(default)]
    state: Option<ConsentState>,
}

impl TryFrom<PurposeChoiceWire> for PurposeChoice {
    type Error = FieldError;
    fn try_from(wire: PurposeChoiceWire) -> Result<Self, FieldError> {
        Self::new(wire.purpose, wire.basis, wire.state)
    }
}

impl PurposeChoice {
    /// A purpose with this basis and state, if they fit it: an optional purpose has basis
    /// consent and a state, a mandatory one basis contract and none.
    pub fn new(
        purpose: PurposeId,
        basis: LawfulBasis,
        state: Option<ConsentState>,
    ) -> Result<Self, FieldError> {
        let fits = basis == purpose.basis() && (state.is_some() == purpose.is_optional());
        if !fits {
            return Err(FieldError::Basis {
                purpose: purpose.as_str(),
                basis: match purpose.basis() {
                    LawfulBasis::Consent => "consent",
                    LawfulBasis::Contract => "contract",
                },
                state_rule: if purpose.is_optional() {
                    " and a state, granted or denied"
                } else {
                    " and no state"
                },
            });
        }
        Ok(Self {
            purpose,
            basis,
            state,
        })
    }

    /// An optional purpose with the visitor's state.
    ///
    /// Returns `None` for a purpose that is not optional.
    pub fn optional(purpose: PurposeId, state: ConsentState) -> Option<Self> {
        purpose.is_optional().then_some(Self {
            purpose,
            basis: LawfulBasis::Consent,
            state: Some(state),
        })
    }

    /// A mandatory purpose (no state).
    ///
    /// Returns `None` for a purpose that is optional.
    pub fn mandatory(purpose: PurposeId) -> Option<Self> {
        (!purpose.is_optional()).then_some(Self {
            purpose,
            basis: LawfulBasis::Contract,
            state: None,
        })
    }

    /// A purpose with the state given for optional ones; mandatory ones ignore `granted`.
    pub fn for_purpose(purpose: PurposeId, granted: bool) -> Self {
        Self::optional(purpose, ConsentState::from_granted(granted)).unwrap_or(Self {
            purpose,
            basis: LawfulBasis::Contract,
            state: None,
        })
    }

    /// Which purpose.
    pub fn purpose(&self) -> PurposeId {
        self.purpose
    }

    /// Its lawful basis.
    pub fn basis(&self) -> LawfulBasis {
        self.basis
    }

    /// The visitor's state, for an optional purpose.
    pub fn state(&self) -> Option<ConsentState> {
        self.state
    }
}

/// The purposes of a record: at least one, each at most once, kept in [`PurposeId`] order
/// so that the canonical form does not depend on the order a client listed them in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<PurposeChoice>")]
pub struct Purposes(Vec<PurposeChoice>);

impl TryFrom<Vec<PurposeChoice>> for Purposes {
    type Error = FieldError;
    fn try_from(mut choices: Vec<PurposeChoice>) -> Result<Self, FieldError> {
        if choices.is_empty() || choices.len() > PurposeId::ALL.len() {
            return Err(FieldError::Count {
                field: "purposes",
                max: PurposeId::ALL.len(),
            });
        }
        choices.sort_by_key(|c| c.purpose);
        if let Some(pair) = choices
            .windows(2)
            .find(|pair| pair[0].purpose == pair[1].purpose)
        {
            return Err(FieldError::DuplicatePurpose(pair[0].purpose.as_str()));
        }
        Ok(Self(choices))
    }
}

impl Purposes {
    /// The choices, in [`PurposeId`] order.
    pub fn iter(&self) -> impl Iterator<Item = &PurposeChoice> {
        self.0.iter()
    }

    /// The state of one optional purpose, if the record lists it.
    pub fn state_of(&self, purpose: PurposeId) -> Option<ConsentState> {
        self.0
            .iter()
            .find(|c| c.purpose == purpose)
            .and_then(|c| c.state)
    }
}
