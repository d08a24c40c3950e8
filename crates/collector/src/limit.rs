//! Rate limits per client IP and per site. Client IPs live only in this in-memory table,
//! never in the database or the log.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Over a limit: whole seconds until a retry may pass (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// Both limiters; `None` where the limit is off.
#[derive(Debug)]
pub struct Limits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_site: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl Limits {
    /// Limits of so many requests per minute (0: no limit), each with a full minute's burst.
    pub fn per_minute(per_ip: u32, per_site: u32) -> Self {
        Self {
            per_ip: keyed(per_ip),
            per_site: keyed(per_site),
            clock: DefaultClock::default(),
        }
    }

    /// `Err` when this IP is over its limit.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        self.per_ip
            .as_ref()
            .map_or(Ok(()), |l| self.wait(l.check_key(&ip)))
    }

    /// `Err` when this site is over its limit.
    pub fn check_site(&self, site: &str) -> Result<(), RetryAfter> {
        self.per_site
            .as_ref()
            .map_or(Ok(()), |l| self.wait(l.check_key(&site.to_owned())))
    }

    fn wait<T>(
        &self,
        outcome: Result<T, governor::NotUntil<governor::clock::QuantaInstant>>,
    ) -> Result<(), RetryAfter> {
        outcome.map(|_| ()).map_err(|not_until| {
            RetryAfter(not_until.wait_time_from(self.clock.now()).as_secs().max(1))
        })
    }

    /// Forgets idle keys so the tables don't grow without bound.
    pub fn shrink(&self) {
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_site {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_says_when_to_retry() {
        let limits = Limits::per_minute(2, 0);
        let ip = IpAddr::from([127, 0, 0, 1]);
        assert!(limits.check_ip(ip).is_ok());
        assert!(limits.check_ip(ip).is_ok());
        let RetryAfter(wait) = limits.check_ip(ip).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(limits.check_ip(IpAddr::from([127, 0, 0, 2])).is_ok());
        assert!(limits.check_site("pci.qualys.com").is_ok());
    }
}
