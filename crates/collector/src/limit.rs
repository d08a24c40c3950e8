//! Rate limits per client IP, per site, and per link for one-click unsubscribes. Client
//! IPs live only in this in-memory table, never in the database or the log.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, FakeRelativeClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// Over a limit: whole seconds until a retry may pass (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// The limits' time: the monotonic clock's since the limits were made, or a clock that
/// moves only when told (tests: a refill then never depends on how busy the machine is).
#[derive(Debug, Clone)]
pub enum LimitClock {
    /// Time since this instant.
    Monotonic(std::time::Instant),
    /// Time as far as this clock was advanced.
    Manual(FakeRelativeClock),
}

impl Clock for LimitClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match self {
            Self::Monotonic(start) => start.elapsed().into(),
            Self::Manual(clock) => clock.now(),
        }
    }
}

type KeyedLimiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, LimitClock, NoOpMiddleware<Nanos>>;

/// Both limiters; `None` where the limit is off.
#[derive(Debug)]
pub struct Limits {
    per_ip: Option<KeyedLimiter<IpAddr>>,
    per_site: Option<KeyedLimiter<String>>,
    /// Unsubscribes by a verified link, per link (its token's `jti`), at the per-IP rate:
    /// mail providers send the one-click POSTs of thousands of people from a few addresses.
    /// Not per person: whoever saw one of a person's unsubscribe URLs (a scanner's log) and
    /// POSTs it in a loop then spends that URL's budget alone, not the one of the person's
    /// other mail's links, whose unsubscribe would otherwise be refused (and a mail
    /// provider's refused one-click POST is never shown to the person).
    per_link: Option<KeyedLimiter<String>>,
    /// Denials recorded by one unsubscribe link, [`LINK_WRITES_PER_HOUR`]: the same link's
    /// unsubscribe is recorded again only after a minute (a choice made on a page meanwhile
    /// may still wait in that page's outbox, and must not undo it), so without this bound
    /// whoever saw the URL could add a record, a receipt and a webhook delivery to the
    /// person's every minute for the link's year.
    per_link_writes: Option<KeyedLimiter<String>>,
    /// New records a page sends with one manage link's token, [`LINK_RECORDS_AT_ONCE`]:
    /// each is stored under the link's person, whose whole history every identity,
    /// lookup, unsubscribe and webhook delivery of theirs reads again, so whoever holds
    /// the link must not grow it without bound. Per link, as unsubscribes are: a flood
    /// by one leaked link leaves the person's other links alone.
    per_link_records: Option<KeyedLimiter<String>>,
    clock: LimitClock,
}

/// Denials one unsubscribe link records at once at most, one more each tenth of an hour
/// after (on when the per-IP limit is; each process counts its own).
pub const LINK_WRITES_PER_HOUR: u32 = 6;

/// New records one manage link's token stores at once at most, one more each ten minutes
/// after (on when the per-IP limit is; each process counts its own): far more than a
/// person saves on one visit of their preferences page. Beyond, a 429, which the widget
/// retries after its Retry-After, the record kept in its outbox meanwhile.
pub const LINK_RECORDS_AT_ONCE: u32 = 30;

impl Limits {
    /// Limits of so many requests per minute (0: no limit), each with a full minute's burst.
    pub fn per_minute(per_ip: u32, per_site: u32) -> Self {
        Self::per_minute_on(
            per_ip,
            per_site,
            LimitClock::Monotonic(std::time::Instant::now()),
        )
    }

    /// As [`Limits::per_minute`], on that clock.
    pub fn per_minute_on(per_ip: u32, per_site: u32, clock: LimitClock) -> Self {
        let per_minute = |n| NonZeroU32::new(n).map(Quota::per_minute);
        let with_ip = |quota: Option<Quota>| quota.filter(|_| per_ip > 0);
        Self {
            per_ip: keyed(per_minute(per_ip), &clock),
            per_site: keyed(per_minute(per_site), &clock),
            per_link: keyed(per_minute(per_ip), &clock),
            per_link_writes: keyed(
                with_ip(NonZeroU32::new(LINK_WRITES_PER_HOUR).map(Quota::per_hour)),
                &clock,
            ),
            per_link_records: keyed(
                with_ip(NonZeroU32::new(LINK_RECORDS_AT_ONCE).and_then(|burst| {
                    Quota::with_period(Duration::from_secs(600)).map(|q| q.allow_burst(burst))
                })),
                &clock,
            ),
            clock,
        }
    }

    /// `Err` when this IP is over its limit. IPv6 clients count by their /64: one host
    /// is usually given a whole /64, and could take a new address for every request.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        self.per_ip
            .as_ref()
            .map_or(Ok(()), |l| self.wait(l.check_key(&bucket(ip))))
    }

    /// `Err` when this link (its token's `jti`) is over the limit of its unsubscribes.
    pub fn check_link(&self, jti: &str) -> Result<(), RetryAfter> {
        self.per_link
            .as_ref()
            .map_or(Ok(()), |l| self.wait(l.check_key(&jti.to_owned())))
    }

    /// `Err` when this link (its token's `jti`) has recorded as many denials as
    /// [`LINK_WRITES_PER_HOUR`] allows for now; spends one otherwise.
    pub fn check_link_write(&self, jti: &str) -> Result<(), RetryAfter> {
        self.per_link_writes
            .as_ref()
            .map_or(Ok(()), |l| self.wait(l.check_key(&jti.to_owned())))
    }

    /// `Err` when this manage link (its token's `jti`) has stored as many new records as
    /// [`LINK_RECORDS_AT_ONCE`] allows for now; spends one otherwise.
    pub fn check_link_record(&self, jti: &str) -> Result<(), RetryAfter> {
        self.per_link_records
            .as_ref()
            .map_or(Ok(()), |l| self.wait(l.check_key(&jti.to_owned())))
    }

    /// Whether sites have a limit at all.
    pub fn limits_sites(&self) -> bool {
        self.per_site.is_some()
    }

    /// `Err` when this site is over its limit.
    pub fn check_site(&self, site: &str) -> Result<(), RetryAfter> {
        self.per_site
            .as_ref()
            .map_or(Ok(()), |l| self.wait(l.check_key(&site.to_owned())))
    }

    fn wait<T>(&self, outcome: Result<T, governor::NotUntil<Nanos>>) -> Result<(), RetryAfter> {
        outcome.map(|_| ()).map_err(|not_until| {
            // Rounded up: a client that comes back sooner is refused again.
            let wait = not_until.wait_time_from(self.clock.now());
            RetryAfter((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
        })
    }

    /// Forgets idle keys so the tables don't grow without bound.
    pub fn shrink(&self) {
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
        for l in [
            &self.per_site,
            &self.per_link,
            &self.per_link_writes,
            &self.per_link_records,
        ]
        .into_iter()
        .flatten()
        {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// The rate-limit bucket of a client address: an IPv4 address (mapped into IPv6 or not)
/// as it is, an IPv6 address's /64.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

fn keyed<K: std::hash::Hash + Eq + Clone>(
    quota: Option<Quota>,
    clock: &LimitClock,
) -> Option<KeyedLimiter<K>> {
    quota.map(|quota| RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits on a clock that stands still until the test advances it.
    fn frozen(per_ip: u32, per_site: u32) -> (Limits, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limits = Limits::per_minute_on(per_ip, per_site, LimitClock::Manual(clock.clone()));
        (limits, clock)
    }

    #[test]
    fn over_the_limit_says_when_to_retry() {
        let (limits, clock) = frozen(2, 0);
        let ip = IpAddr::from([127, 0, 0, 1]);
        assert!(limits.check_ip(ip).is_ok());
        assert!(limits.check_ip(ip).is_ok());
        assert_eq!(limits.check_ip(ip), Err(RetryAfter(30)));
        clock.advance(Duration::from_secs(30));
        assert!(limits.check_ip(ip).is_ok(), "one more each 30 s");
        assert_eq!(limits.check_ip(ip), Err(RetryAfter(30)));
        assert!(limits.check_ip(IpAddr::from([127, 0, 0, 2])).is_ok());
        assert!(limits.check_site("pci.qualys.com").is_ok());
    }

    #[test]
    fn ipv6_clients_count_by_their_slash_64() {
        let (limits, _) = frozen(1, 0);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(limits.check_ip(ip("2001:db8:1:2::1")).is_ok());
        assert!(
            limits.check_ip(ip("2001:db8:1:2:ffff::9")).is_err(),
            "another address of the same /64"
        );
        assert!(
            limits.check_ip(ip("2001:db8:1:3::1")).is_ok(),
            "another /64"
        );
        assert!(limits.check_ip(ip("192.0.2.1")).is_ok());
        assert!(
            limits.check_ip(ip("::ffff:192.0.2.1")).is_err(),
            "an IPv4 address mapped into IPv6 is that address"
        );
    }

    #[test]
    fn a_manage_link_stores_thirty_records_at_once() {
        let (limits, clock) = frozen(120, 0);
        for _ in 0..LINK_RECORDS_AT_ONCE {
            assert!(limits.check_link_record("a").is_ok());
        }
        assert_eq!(limits.check_link_record("a"), Err(RetryAfter(600)));
        clock.advance(Duration::from_secs(599));
        assert_eq!(limits.check_link_record("a"), Err(RetryAfter(1)));
        clock.advance(Duration::from_secs(1));
        assert!(
            limits.check_link_record("a").is_ok(),
            "one more each ten minutes"
        );
        assert!(limits.check_link_record("a").is_err());
        assert!(limits.check_link_record("b").is_ok(), "another link");
        let (off, _) = frozen(0, 0);
        for _ in 0..=LINK_RECORDS_AT_ONCE {
            assert!(
                off.check_link_record("a").is_ok(),
                "no limit with the per-IP one off"
            );
        }
    }
}
