use thiserror::Error;

/// Why a field of a record or notice was refused. Messages name the rule, never the input,
/// so they are safe to return to a client or to log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    /// The value is empty or longer than its bound.
    #[error("{field} must be 1 to {max} characters long")]
    Length {
        /// The field's name.
        field: &'static str,
        /// Its upper bound, in characters.
        max: usize,
    },
    /// The value holds a character the field does not allow.
    #[error("{field} has a character it may not hold")]
    Character {
        /// The field's name.
        field: &'static str,
    },
    /// The value is not of the field's form.
    #[error("{field} is not {expected}")]
    Form {
        /// The field's name.
        field: &'static str,
        /// The form it must take.
        expected: &'static str,
    },
    /// A link whose scheme is not `https:`, `mailto:` or `tel:`.
    #[error("links must use https:, mailto: or tel:")]
    Scheme,
    /// A purpose whose lawful basis or state does not fit it.
    #[error("purpose {purpose} must have basis {basis}{state_rule}")]
    Basis {
        /// The purpose's wire name.
        purpose: &'static str,
        /// The basis it must have.
        basis: &'static str,
        /// What it says of the state.
        state_rule: &'static str,
    },
    /// The same purpose listed twice.
    #[error("purpose {0} is listed twice")]
    DuplicatePurpose(&'static str),
    /// A list that must not be empty is, or one that is bounded is too long.
    #[error("{field} must hold 1 to {max} entries")]
    Count {
        /// The field's name.
        field: &'static str,
        /// Its upper bound.
        max: usize,
    },
}
