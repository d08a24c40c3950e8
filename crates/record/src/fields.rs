//! Bounded, checked string fields. Each type can only hold a value that passed its check,
//! and deserializing one runs the check.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted, in characters.
            pub const MAX_CHARS: usize = $max;

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(value: String) -> Result<Self, FieldError> {
                let chars = value.chars().count();
                if chars == 0 || chars > $max {
                    return Err(FieldError::Length { field: $field, max: $max });
                }
                let check: fn(&str, &'static str) -> Result<(), FieldError> = $check;
                check(&value, $field)?;
                Ok(Self(value))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = FieldError;
            fn try_from(value: &str) -> Result<Self, FieldError> {
                Self::try_from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn no_controls(value: &str, field: &'static str) -> Result<(), FieldError> {
    if value.chars().any(char::is_control) {
        Err(FieldError::Character { field })
    } else {
        Ok(())
    }
}

fn single_line(value: &str, field: &'static str) -> Result<(), FieldError> {
    no_controls(value, field)?;
    if value.trim() != value {
        return Err(FieldError::Form {
            field,
            expected: "free of leading or trailing spaces",
        });
    }
    Ok(())
}

/// Prose may break lines, nothing else invisible.
fn prose(value: &str, field: &'static str) -> Result<(), FieldError> {
    if value.chars().any(|c| c.is_control() && c != '\n') {
        Err(FieldError::Character { field })
    } else {
        Ok(())
    }
}

fn hostname(value: &str, field: &'static str) -> Result<(), FieldError> {
    let form = FieldError::Form {
        field,
        expected: "a lowercase host name",
    };
    let labels_ok = value.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if labels_ok {
        Ok(())
    } else {
        Err(form)
    }
}

fn slug(value: &str, field: &'static str) -> Result<(), FieldError> {
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::Form {
            field,
            expected: "lowercase letters, digits, '-', '_' or '.'",
        })
    }
}

/// A BCP 47 tag of the simple kind browsers send: `en`, `en-GB`, `zh-Hant-TW`.
fn language_tag(value: &str, field: &'static str) -> Result<(), FieldError> {
    let mut subtags = value.split('-');
    let primary_ok = subtags
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok =
        subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Ok(())
    } else {
        Err(FieldError::Form {
            field,
            expected: "a language tag such as en or en-GB",
        })
    }
}

fn email(value: &str, field: &'static str) -> Result<(), FieldError> {
    let form = FieldError::Form {
        field,
        expected: "an e-mail address",
    };
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(form);
    }
    // A domain of two or more labels, each of ASCII letters, digits and inner hyphens, and
    // any non-ASCII character (internationalised domains; telling Unicode's letters from its
    // punctuation would take its tables, 1.7 KB of the widget's wasm, which reads records):
    // not "ada@example.com," nor "ada@a..b".
    let label = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
    };
    match value.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && domain.split('.').all(label)
                && idna_domain(domain) =>
        {
            Ok(())
        }
        _ => Err(form),
    }
}

/// With the `idna` feature (the collector's), a domain UTS 46 takes as a host name: not
/// `example.com，` (a full-width comma, which it maps to an ASCII one), nor a damaged `xn--`
/// label; and, as IDNA 2008 has it, none with punctuation or a symbol (an em dash, which
/// UTS 46 leaves as it is): no registry hands out such a name.
#[cfg(feature = "idna")]
fn idna_domain(domain: &str) -> bool {
    use icu_properties::props::{GeneralCategory, GeneralCategoryGroup};
    use icu_properties::CodePointMapData;
    let Ok(ascii) = idna::domain_to_ascii_strict(domain) else {
        return false;
    };
    let category = CodePointMapData::<GeneralCategory>::new();
    let mark = |c: char| {
        let group = category.get(c);
        GeneralCategoryGroup::Punctuation.contains(group)
            || GeneralCategoryGroup::Symbol.contains(group)
    };
    // The labels as they read, `xn--` ones decoded; ASCII's own were checked above.
    !idna::domain_to_unicode(&ascii)
        .0
        .chars()
        .any(|c| !c.is_ascii() && mark(c))
}

#[cfg(not(feature = "idna"))]
fn idna_domain(_: &str) -> bool {
    true
}

fn token(value: &str, field: &'static str) -> Result<(), FieldError> {
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::Form {
            field,
            expected: "base64url text with dots",
        })
    }
}

/// Only these schemes are ever rendered as links: no `javascript:`, `data:` or `http:`.
fn allowed_href(value: &str, field: &'static str) -> Result<(), FieldError> {
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FieldError::Character { field });
    }
    let (scheme, rest) = value.split_once(':').ok_or(FieldError::Scheme)?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {
            let host = rest.strip_prefix("//").ok_or(FieldError::Scheme)?;
            if host.is_empty() || host.starts_with('/') {
                Err(FieldError::Form {
                    field,
                    expected: "an https: URL with a host",
                })
            } else {
                Ok(())
            }
        }
        "mailto" | "tel" if !rest.is_empty() => Ok(()),
        _ => Err(FieldError::Scheme),
    }
}

/// An `https:` URL with a host, or an `http:` one on the local machine (for demos and tests).
fn web_address(value: &str, field: &'static str) -> Result<(), FieldError> {
    let form = FieldError::Form {
        field,
        expected: "an https: URL (http: only for localhost, 127.0.0.1 or [::1])",
    };
    // A backslash is a slash to a browser's URL parser (the verify page's): another address.
    if value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(FieldError::Character { field });
    }
    let lower = value.to_ascii_lowercase();
    let authority_ok = |rest: &str, local_only: bool| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (host, port_ok) =
            authority
                .rsplit_once(':')
                .map_or((authority, true), |(host, port)| {
                    if port.bytes().all(|b| b.is_ascii_digit()) {
                        // Empty, or a port a URL can have (as a browser reads it).
                        (host, port.is_empty() || port.parse::<u16>().is_ok())
                    } else {
                        (authority, true)
                    }
                });
        // A colon left in the host is a port no URL can have (`host:abc`, `host:1:443`),
        // but for an IPv6 address's.
        let bracketed = host.starts_with('[') && host.ends_with(']');
        port_ok
            && !host.is_empty()
            && (bracketed || !host.contains(':'))
            && !authority.contains('@')
            && (!local_only || matches!(host, "localhost" | "127.0.0.1" | "[::1]"))
    };
    let ok = match (
        lower.strip_prefix("https://"),
        lower.strip_prefix("http://"),
    ) {
        (Some(rest), _) => authority_ok(rest, false),
        (None, Some(rest)) => authority_ok(rest, true),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(form)
    }
}

checked_string!(
    /// The host name of a covered site, as the site declares it (`data-site`).
    Site, "site", 253, hostname
);
impl Site {
    /// `localhost`, the site of last resort when a page declares none and has no host name.
    pub fn localhost() -> Self {
        Self(String::from("localhost"))
    }
}

checked_string!(
    /// A notice document's stable identifier.
    NoticeId, "notice.id", 64, slug
);
checked_string!(
    /// A notice document's version label.
    NoticeVersion, "notice.version", 64, single_line
);
checked_string!(
    /// A language tag.
    Language, "language", 35, language_tag
);
checked_string!(
    /// The version of the widget that made a record.
    WidgetVersion, "widget_version", 32, single_line
);
checked_string!(
    /// An e-mail address, for identified preferences.
    Email, "email", 254, email
);
checked_string!(
    /// A signed subject token from a manage link (`#assent=<token>`): opaque to the widget,
    /// checked by the collector. Only base64url characters and dots.
    SubjectToken, "subject_token", 2048, token
);
checked_string!(
    /// A signed receipt, JWS compact serialization: base64url parts and dots.
    Jws, "receipt.jws", 8192, token
);
checked_string!(
    /// Where a receipt's public keys are published: `https:` with a host, or `http:` for
    /// `localhost`, `127.0.0.1` and `[::1]` only.
    JwksUri, "keys.jwks_uri", 2048, web_address
);
checked_string!(
    /// A link target: `https:` with a host, `mailto:` or `tel:`.
    Href, "href", 2048, allowed_href
);
checked_string!(
    /// Display text from a notice: shown as text, never parsed as markup.
    PlainText, "text", 4000, prose
);

/// Reads a UUID field (`#[serde(deserialize_with = "crate::fields::uuid")]`): the forms
/// `Uuid::try_parse` takes, as uuid's own serde impl; refused as "not a UUID", naming the
/// rule, not the input, as every field here. uuid's impl prints its own error instead,
/// whose text and formatting were 1.1 KB of the widget's wasm, which reads records.
pub fn uuid<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<uuid::Uuid, D::Error> {
    let text = String::deserialize(deserializer)?;
    uuid::Uuid::try_parse(&text).map_err(|_| serde::de::Error::custom("not a UUID"))
}

/// A moment as records state it: its RFC 3339 text, as `time` writes it (records' digests
/// depend on those bytes), and the time that text means. Only a time RFC 3339 can state is
/// one (a year from 0000 to 9999, an offset of whole minutes; every time read from RFC 3339
/// text is), so it is written without a possible error: a serializer's own error for one
/// (serde_json's reads a line and column out of its message) was 1.4 KB of the widget's
/// wasm, brotli. Equal, ordered and hashed as the time, whatever its offset.
#[derive(Debug, Clone)]
pub struct Rfc3339Time {
    time: time::OffsetDateTime,
    text: String,
}

impl Rfc3339Time {
    /// 1970's first moment, UTC.
    pub fn unix_epoch() -> Self {
        Self {
            time: time::OffsetDateTime::UNIX_EPOCH,
            text: "1970-01-01T00:00:00Z".to_owned(),
        }
    }

    /// The RFC 3339 text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TryFrom<time::OffsetDateTime> for Rfc3339Time {
    type Error = FieldError;
    fn try_from(time: time::OffsetDateTime) -> Result<Self, FieldError> {
        let text = format_rfc3339(time).ok_or(FieldError::Form {
            field: "time",
            expected: "a year from 0000 to 9999 with an offset of whole minutes",
        })?;
        Ok(Self { time, text })
    }
}

impl std::ops::Deref for Rfc3339Time {
    type Target = time::OffsetDateTime;
    fn deref(&self) -> &time::OffsetDateTime {
        &self.time
    }
}

impl PartialEq for Rfc3339Time {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time
    }
}

impl Eq for Rfc3339Time {}

impl PartialOrd for Rfc3339Time {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rfc3339Time {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.time.cmp(&other.time)
    }
}

impl std::hash::Hash for Rfc3339Time {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.time.hash(state);
    }
}

impl Serialize for Rfc3339Time {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Reads RFC 3339 text; written back as `time` writes it.
impl std::str::FromStr for Rfc3339Time {
    type Err = FieldError;
    fn from_str(text: &str) -> Result<Self, FieldError> {
        let not_one = FieldError::Form {
            field: "time",
            expected: "an RFC 3339 time",
        };
        let time = parse_rfc3339(text.as_bytes()).ok_or(not_one.clone())?;
        Self::try_from(time).map_err(|_| not_one)
    }
}

/// `moment` as `time`'s RFC 3339 formatter writes it, which a test holds it to: `Z` for
/// UTC, a second's digits up to the last one not 0, none for a whole second; `None` where
/// RFC 3339 can't state it (a year outside 0000 to 9999, an offset with seconds). Its own
/// code because that formatter's generic writing and errors were 656 B of the widget's
/// wasm, brotli.
fn format_rfc3339(moment: time::OffsetDateTime) -> Option<String> {
    /// `before`, then `value` in `count` digits.
    fn digits(text: &mut String, before: Option<char>, value: u32, count: u32) {
        text.extend(before);
        for place in (0..count).rev() {
            text.push(char::from(b'0' + (value / 10_u32.pow(place) % 10) as u8));
        }
    }
    let (hours, minutes, seconds) = moment.offset().as_hms();
    if !(0..10_000).contains(&moment.year()) || seconds != 0 {
        return None;
    }
    let mut text = String::with_capacity(35);
    digits(&mut text, None, moment.year().unsigned_abs(), 4);
    digits(&mut text, Some('-'), u32::from(u8::from(moment.month())), 2);
    digits(&mut text, Some('-'), u32::from(moment.day()), 2);
    digits(&mut text, Some('T'), u32::from(moment.hour()), 2);
    digits(&mut text, Some(':'), u32::from(moment.minute()), 2);
    digits(&mut text, Some(':'), u32::from(moment.second()), 2);
    if moment.nanosecond() != 0 {
        digits(&mut text, Some('.'), moment.nanosecond(), 9);
        text.truncate(text.trim_end_matches('0').len());
    }
    if moment.offset().is_utc() {
        text.push('Z');
    } else {
        let sign = if moment.offset().is_negative() {
            '-'
        } else {
            '+'
        };
        digits(&mut text, Some(sign), u32::from(hours.unsigned_abs()), 2);
        digits(&mut text, Some(':'), u32::from(minutes.unsigned_abs()), 2);
    }
    Some(text)
}

/// The part of RFC 3339 text not read yet.
struct Unread<'a>(&'a [u8]);

impl Unread<'_> {
    /// The next byte.
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    /// Whether the next byte is `expected`, taken if so.
    fn next_is(&mut self, expected: u8) -> bool {
        let is = self.0.first() == Some(&expected);
        if is {
            self.0 = &self.0[1..];
        }
        is
    }

    /// `n` ASCII digits' value.
    fn digits(&mut self, n: usize) -> Option<u16> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        head.iter().try_fold(0, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + u16::from(digit - b'0'))
        })
    }
}

/// Reads RFC 3339 text (section 5.6) exactly as `time`'s `Rfc3339` parser does, which a test
/// holds it to: any one byte between date and time (as RFC 3339 allows for readability),
/// `Z` in either case, digits of a second past the ninth ignored, and a leap second only as
/// a UTC month's last, read as the nanosecond before it. Its own code, on `time`'s
/// constructors, because that parser brought `time`'s generic parsing with it (its error
/// types, the conversion from `Parsed`, 128-bit division): 3.9 KB of the widget's wasm,
/// brotli, which reads records back from storage.
fn parse_rfc3339(text: &[u8]) -> Option<time::OffsetDateTime> {
    use time::{Date, Month, OffsetDateTime, Time, UtcOffset};
    let mut unread = Unread(text);
    let year = unread.digits(4)?;
    let month = unread.next_is(b'-').then(|| unread.digits(2))??;
    let day = unread.next_is(b'-').then(|| unread.digits(2))??;
    unread.byte()?;
    let hour = unread.digits(2)?;
    let minute = unread.next_is(b':').then(|| unread.digits(2))??;
    let mut second = unread.next_is(b':').then(|| unread.digits(2))??;
    let mut nanosecond = 0;
    if unread.next_is(b'.') {
        let mut place = 100_000_000;
        let mut any = false;
        while let Some(digit) = unread.0.first().filter(|d| d.is_ascii_digit()) {
            nanosecond += u32::from(digit - b'0') * place;
            place /= 10;
            any = true;
            unread.0 = &unread.0[1..];
        }
        if !any {
            return None;
        }
    }
    let offset = match unread.byte()? {
        b'Z' | b'z' => UtcOffset::UTC,
        sign @ (b'+' | b'-') => {
            let hours = unread.digits(2).filter(|h| *h <= 23)?;
            let minutes = unread.next_is(b':').then(|| unread.digits(2))??;
            let (hours, minutes) = (i8::try_from(hours).ok()?, i8::try_from(minutes).ok()?);
            let sign = if sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
        _ => return None,
    };
    if !unread.0.is_empty() {
        return None;
    }
    let leap = second == 60;
    if leap {
        second = 59;
        nanosecond = 999_999_999;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanosecond,
    )
    .ok()?;
    let moment = OffsetDateTime::new_in_offset(date, time, offset);
    let last_of_a_month = |utc: OffsetDateTime| {
        (utc.hour(), utc.minute(), utc.second()) == (23, 59, 59)
            && utc.day() == utc.month().length(utc.year())
    };
    // The moment in UTC by its Unix time, which the widget converts already, not by
    // `checked_to_offset`, which brought conversion code of its own.
    if leap
        && !OffsetDateTime::from_unix_timestamp(moment.unix_timestamp()).is_ok_and(last_of_a_month)
    {
        return None;
    }
    Some(moment)
}

/// Refused as "not an RFC 3339 time", naming the rule, not the input.
impl<'de> Deserialize<'de> for Rfc3339Time {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(|_| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `format_rfc3339` writes what `time`'s RFC 3339 formatter writes, and refuses what it
    /// refuses: for 200,000 seeded moments from the year 0 to 9999 (a nanosecond of 0 or
    /// with trailing zeros as often as not, every offset of whole minutes and some with
    /// seconds), and the edges.
    #[test]
    fn times_are_written_as_times_rfc3339_formatter_writes_them() {
        use time::format_description::well_known::Rfc3339;
        use time::{Date, OffsetDateTime, Time, UtcOffset};
        let mut seed: u64 = 0x3339;
        let mut next = |bound: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            u32::try_from(seed % u64::from(bound)).unwrap()
        };
        let first = Date::from_calendar_date(0, time::Month::January, 1).unwrap();
        let last = Date::from_calendar_date(9999, time::Month::December, 31).unwrap();
        let days = u32::try_from(last.to_julian_day() - first.to_julian_day()).unwrap() + 1;
        let mut moments = vec![
            OffsetDateTime::UNIX_EPOCH,
            first.midnight().assume_utc(),
            last.with_hms_nano(23, 59, 59, 999_999_999)
                .unwrap()
                .assume_utc(),
            first.midnight().assume_utc().replace_year(-1).unwrap(),
            OffsetDateTime::UNIX_EPOCH.to_offset(UtcOffset::from_hms(0, -30, 0).unwrap()),
            OffsetDateTime::UNIX_EPOCH.to_offset(UtcOffset::from_hms(-23, -59, 0).unwrap()),
            OffsetDateTime::UNIX_EPOCH.to_offset(UtcOffset::from_hms(1, 0, 1).unwrap()),
        ];
        for _ in 0..200_000 {
            let day =
                Date::from_julian_day(first.to_julian_day() + i32::try_from(next(days)).unwrap())
                    .unwrap();
            let nanosecond = match next(4) {
                0 => 0,
                1 => next(1_000) * 1_000_000,
                2 => next(1_000_000) * 1_000,
                _ => next(1_000_000_000),
            };
            let time = Time::from_hms_nano(
                u8::try_from(next(24)).unwrap(),
                u8::try_from(next(60)).unwrap(),
                u8::try_from(next(60)).unwrap(),
                nanosecond,
            )
            .unwrap();
            let minutes = i32::try_from(next(2 * 1439 + 1)).unwrap() - 1439;
            let seconds = if next(50) == 0 { 1 } else { 0 };
            let offset = UtcOffset::from_whole_seconds(minutes * 60 + seconds).unwrap();
            moments.push(day.with_time(time).assume_offset(offset));
        }
        for moment in moments {
            assert_eq!(
                format_rfc3339(moment),
                moment.format(&Rfc3339).ok(),
                "{moment:?}"
            );
        }
    }

    /// `parse_rfc3339` reads what `time`'s RFC 3339 parser reads, as the same moment in the
    /// same offset, and refuses what it refuses: on forms at each rule's edges and on
    /// 200,000 variations of them (a byte changed, dropped or added), seeded.
    #[test]
    fn times_are_read_as_times_rfc3339_parser_reads_them() {
        use time::format_description::well_known::Rfc3339;
        let edges = [
            "2026-12-07T02:49:34Z",
            "2026-12-07t02:49:34z",
            "2026-12-07 02:49:34Z",
            "2026-12-07T02:49:34.123Z",
            "2026-12-07T02:49:34.1234567891234Z",
            "2026-12-07T02:49:34.Z",
            "2026-12-07T02:49:34+05:30",
            "2026-12-07T02:49:34-00:00",
            "2026-12-07T02:49:34+23:59",
            "2026-12-07T02:49:34+24:00",
            "2026-12-07T02:49:34+05:60",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2016-12-30T23:59:60Z",
            "2017-01-01T00:59:60+01:00",
            "2016-06-30T18:59:60-05:00",
            "9999-12-31T23:59:60Z",
            "0000-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-23:59",
            "0000-01-01T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T23:60:00Z",
            "2026-01-01T23:59:61Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00Z ",
            "2026-01-01T00:00:00ZZ",
            "2026-01-01\u{e9}00:00:00Z",
            "+2026-01-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00\u{2212}01:00",
            "",
        ];
        let mut seed: u64 = 0x2026_1207;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        let alphabet = b"0123456789012345678901234567890123456789-:.TtZz+ \xc3\xa9";
        let mut inputs: Vec<Vec<u8>> = edges.iter().map(|e| e.as_bytes().to_vec()).collect();
        for _ in 0..200_000 {
            let mut bytes = edges[next(edges.len())].as_bytes().to_vec();
            for _ in 0..=next(3) {
                let at = next(bytes.len() + 1);
                let byte = alphabet[next(alphabet.len())];
                match next(3) {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, byte),
                }
            }
            inputs.push(bytes);
        }
        let mut read = 0;
        // Text, as a record's field is (a byte of é alone is not).
        for text in inputs
            .iter()
            .filter_map(|bytes| std::str::from_utf8(bytes).ok())
        {
            let ours = parse_rfc3339(text.as_bytes());
            let theirs = time::OffsetDateTime::parse(text, &Rfc3339).ok();
            let same = match (ours, theirs) {
                (Some(a), Some(b)) => a == b && a.offset() == b.offset(),
                (a, b) => a.is_none() && b.is_none(),
            };
            assert!(same, "{text:?}: {ours:?} against time's {theirs:?}");
            read += usize::from(ours.is_some());
        }
        assert!(
            read > 5_000,
            "only {read} inputs were times: the variations test too little"
        );
    }

    /// Each of `ok` is a valid `T`, and none of `bad` is.
    fn check<T: TryFrom<&'static str>>(ok: &[&'static str], bad: &[&'static str]) {
        for value in ok {
            assert!(T::try_from(value).is_ok(), "{value:?}");
        }
        for value in bad {
            assert!(T::try_from(value).is_err(), "{value:?}");
        }
    }

    #[test]
    fn hrefs_allow_only_safe_schemes() {
        check::<Href>(
            &[
                "https://pci.qualys.com/",
                "HTTPS://x.example",
                "mailto:privacy@qualys.com",
                "tel:+16508016100",
            ],
            &[
                "javascript:alert(1)",
                "JaVaScRiPt:alert(1)",
                "http://www.qualys.com",
                "data:text/html,<script>alert(1)</script>",
                " https://x.example",
                "https:///path-only",
                "https:x.example",
                "java\tscript:alert(1)",
                "/relative",
                "mailto:",
            ],
        );
    }

    #[test]
    fn jwks_uris_are_https_or_local_http() {
        check::<JwksUri>(
            &[
                "https://consent.qualys.com/.well-known/jwks.json",
                "http://127.0.0.1:8787/.well-known/jwks.json",
                "http://localhost/.well-known/jwks.json",
                "http://[::1]:8787/.well-known/jwks.json",
                "http://[::1]/.well-known/jwks.json",
                "https://consent.qualys.com:65535/.well-known/jwks.json",
                "https://consent.qualys.com:/.well-known/jwks.json",
                "https://consent.qualys.com/@acme/jwks.json",
            ],
            &[
                "https://consent.qualys.com:65536/.well-known/jwks.json",
                "https://consent.qualys.com/keys\\jwks.json",
                "https://consent.qualys.com:99999/.well-known/jwks.json",
                "https://consent.qualys.com:abc/.well-known/jwks.json",
                "https://consent.qualys.com:99999:443/.well-known/jwks.json",
                "http://127.1:8787/.well-known/jwks.json",
                "http://consent.qualys.com/.well-known/jwks.json",
                "http://127.0.0.1.evil.com/",
                "http://[::2]:8787/",
                "http://localhost@evil.com/",
                "https:///x",
                "javascript:alert(1)",
                "file:///etc/passwd",
                "https://x.com/ a",
            ],
        );
    }

    #[test]
    fn sites_are_lowercase_host_names() {
        check::<Site>(
            &["pci.qualys.com", "localhost"],
            &[
                "PCI.qualys.com",
                "pci..qualys.com",
                "-x.com",
                "a b",
                "",
                "x.com:8080",
                "<script>",
            ],
        );
    }

    #[test]
    fn lengths_are_bounded_in_characters() {
        assert!(WidgetVersion::try_from("é".repeat(32)).is_ok());
        assert_eq!(
            WidgetVersion::try_from("é".repeat(33)),
            Err(FieldError::Length {
                field: "widget_version",
                max: 32
            })
        );
    }

    #[test]
    fn languages_and_emails() {
        check::<Language>(&["en-GB"], &["en_GB"]);
        check::<Email>(
            &[
                "ada@example.com",
                "ada.lovelace+news@mail.example.co.uk",
                "ada@bücher.example",
            ],
            &[
                "ada example.com",
                "ada@localhost",
                "ada@example.com,",
                "ada@example.com,bob@example.com",
                "ada@a..b",
                "ada@.example.com",
                "ada@example.com.",
                "ada@-example.com",
                "ada@example-.com",
                "ada@exa_mple.com",
                "ada@b@example.com",
                "@example.com",
            ],
        );
    }

    #[cfg(feature = "idna")]
    #[test]
    fn with_idna_an_email_domain_is_one_uts46_takes() {
        check::<Email>(
            &[
                "ada@xn--bcher-kva.example",
                "ada@BÜCHER.example",
                "ada@\u{4F8B}\u{3048}.jp",
            ],
            &[
                "ada@exa\u{2014}mple.com",
                "ada@xn--example-416c.com",
                "ada@\u{2665}.example",
                "ada@example.com\u{FF0C}",
                "ada@xn--zz-.example",
                "ada@example\u{FF1B}com",
            ],
        );
    }

    fn parsed(text: &str) -> Rfc3339Time {
        serde_json::from_str(&format!("\"{text}\"")).expect(text)
    }

    #[test]
    fn rfc3339_times_are_written_back_as_read_and_bad_ones_refused() {
        #[derive(Debug, Serialize, Deserialize)]
        struct At(Rfc3339Time);
        for text in [
            "2026-11-30T10:00:00Z",
            "2026-11-30T10:00:00.5Z",
            "2026-11-30T10:00:00.123Z",
            "1999-12-31T23:59:59.123456789+02:00",
        ] {
            let json = format!("\"{text}\"");
            let at: At = serde_json::from_str(&json).expect(text);
            assert_eq!(serde_json::to_string(&at).expect(text), json);
        }
        // Written as time writes them, not as they were read: records' digests are of the
        // bytes as written, which time's own serde module wrote before.
        for (read, written) in [
            ("2026-11-30T10:00:00.500Z", "2026-11-30T10:00:00.5Z"),
            ("2026-11-30T10:00:00+00:00", "2026-11-30T10:00:00Z"),
            ("2026-11-30t10:00:00z", "2026-11-30T10:00:00Z"),
        ] {
            assert_eq!(parsed(read).as_str(), written, "{read}");
        }
        for bad in [
            "yesterday",
            "2026-11-30",
            "2026-11-30T10:00:00",
            "2026-13-01T00:00:00Z",
        ] {
            let error = serde_json::from_str::<At>(&format!("\"{bad}\"")).expect_err(bad);
            assert!(
                error.to_string().starts_with("not an RFC 3339 time"),
                "{bad}: {error}"
            );
        }
        let offset = time::UtcOffset::from_hms(1, 0, 30).expect("offset");
        let odd = time::OffsetDateTime::UNIX_EPOCH.to_offset(offset);
        assert!(
            Rfc3339Time::try_from(odd).is_err(),
            "an offset with seconds"
        );
        let before_year_0 = time::OffsetDateTime::UNIX_EPOCH
            .replace_year(-1)
            .expect("year -1");
        assert!(Rfc3339Time::try_from(before_year_0).is_err(), "year -1");
        let (early, late) = (
            At(parsed("2026-11-30T10:00:00Z")),
            At(parsed("2026-11-30T11:00:00.5+02:00")),
        );
        assert!(late.0 < early.0 && late.0 != early.0, "ordered as times");
        assert_eq!(
            parsed("2026-11-30T12:00:00+02:00"),
            early.0,
            "equal as times"
        );
        let epoch = Rfc3339Time::try_from(time::OffsetDateTime::UNIX_EPOCH).expect("1970");
        assert_eq!(epoch.as_str(), Rfc3339Time::unix_epoch().as_str());
    }

    #[test]
    fn prose_keeps_markup_as_plain_text_but_refuses_controls() {
        assert!(PlainText::try_from("<script>alert(1)</script>").is_ok());
        assert!(PlainText::try_from("line\nbreak").is_ok());
        assert!(PlainText::try_from("bell\u{7}").is_err());
    }
}
