//! The request budget: how much of a token's primary rate limit this client spends, and how
//! fast. GitHub counts every API request but a `304` against a window (an hour) of the token's
//! limit, which whoever else uses the token shares; each answer's `x-ratelimit-*` headers say
//! what is left and when the window resets (`docs/github.md` section 8).
//!
//! The client never spends the last [`BudgetPolicy::reserve_percent`] of the limit: it waits
//! for the reset instead, so the token's other users keep that much, and GitHub never has to
//! refuse a request. With a [`BudgetPolicy::max_rate`], or [`BudgetPolicy::even`], requests are
//! also paced (a generic cell rate: a small burst, then one request per interval) instead of
//! spent in a burst and then waited out. Requests in flight count as spent until answered, and
//! before the first answer says the limit only one request is in flight.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::header::HeaderMap;

/// How much of a token's rate limit a client spends, and how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetPolicy {
    /// The share of the limit left to the token's other users, in percent (default 20): once
    /// only this much of the window is left, requests wait for its reset.
    pub reserve_percent: u8,
    /// At most this many requests an hour, paced evenly (`None`: as the limit allows).
    pub max_rate: Option<u32>,
    /// Pace requests so that what is left of the window's share lasts until its reset, rather
    /// than spending it at once and waiting for the reset (what a long-running watch wants; a
    /// one-off sync is quicker without).
    pub even: bool,
}

impl Default for BudgetPolicy {
    fn default() -> BudgetPolicy {
        BudgetPolicy {
            reserve_percent: 20,
            max_rate: None,
            even: false,
        }
    }
}

/// What a client has spent of its budget and what is left, as told to
/// [`crate::Reporter::on_budget`] after each API answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetStatus {
    /// Requests GitHub counted against the limit (every answer but a `304`).
    pub spent: u64,
    /// Requests answered `304`, which GitHub does not count.
    pub free: u64,
    /// The token's limit per window, once an answer said it.
    pub limit: Option<u64>,
    /// What is left of this client's share of the window (the limit less the reserve, less
    /// what the token's users spent), once an answer said it.
    pub left: Option<u64>,
    /// When the window resets.
    pub resets_at: Option<Timestamp>,
}

/// What a request must wait for before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The window's share is spent: until this Unix second.
    Reset(i64),
    /// The pace, or the first answer: this long, then ask again.
    Pace(Duration),
}

/// One client's budget: what the headers last said, what it sent since, and its pace.
pub(crate) struct Budget {
    policy: BudgetPolicy,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    limit: Option<u64>,
    /// Left in the window, as the last answer said less what was in flight then and what was
    /// sent since: never more than GitHub will count.
    left: Option<u64>,
    reset: Option<i64>,
    in_flight: u64,
    /// Whether any answer came (one without rate headers means no limit is known).
    answered: bool,
    spent: u64,
    free: u64,
    /// The pace's theoretical time of the next request, and the interval it last added.
    next: Option<Instant>,
    interval: Duration,
    /// A pause until this second has been announced; others wait without announcing it again.
    pub(crate) announced: Option<i64>,
}

/// Before the first answer (of the client, or of a new window whose share is spent), how long
/// another request waits for it.
const FIRST_ANSWER_WAIT: Duration = Duration::from_millis(20);

impl Budget {
    pub(crate) fn new(policy: BudgetPolicy) -> Budget {
        Budget {
            policy,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("budget lock")
    }

    /// Takes one request's worth of the budget, or says what to wait for. The ticket must be
    /// given back with the answer ([`Ticket::answered`]); dropped, it counts as spent.
    pub(crate) fn take(&self, now: Instant, now_second: i64) -> Result<Ticket<'_>, Wait> {
        let mut s = self.lock();
        if let Some(reset) = s.reset
            && reset < now_second
        {
            // A new window: all of the limit, as far as we know, less what is in flight.
            s.left = s.limit.map(|limit| limit.saturating_sub(s.in_flight));
            s.reset = None;
        }
        if !s.answered && s.in_flight > 0 {
            return Err(Wait::Pace(FIRST_ANSWER_WAIT));
        }
        let mut share = None;
        if let (Some(limit), Some(left)) = (s.limit, s.left) {
            let reserve = self.reserve(limit);
            if left <= reserve {
                return Err(match s.reset {
                    Some(reset) => Wait::Reset(reset),
                    // A new window whose reset the answers in flight will say.
                    None if s.in_flight > 0 => Wait::Pace(FIRST_ANSWER_WAIT),
                    // No answer said it: a minute, as GitHub's windows go.
                    None => Wait::Reset(now_second + 60),
                });
            }
            share = Some(left - reserve);
        }
        if let Some(interval) = self.interval(share, s.reset, now_second) {
            let burst = self.burst(s.limit);
            let next = s.next.map_or(now, |next| next.max(now));
            let tolerance = interval.saturating_mul(burst.saturating_sub(1));
            let allowed = next.checked_sub(tolerance).unwrap_or(now);
            if now < allowed {
                return Err(Wait::Pace(allowed - now));
            }
            s.next = Some(next + interval);
            s.interval = interval;
        }
        s.in_flight += 1;
        s.left = s.left.map(|left| left.saturating_sub(1));
        Ok(Ticket {
            budget: self,
            done: false,
        })
    }

    /// The limit's share left to others.
    fn reserve(&self, limit: u64) -> u64 {
        limit * u64::from(self.policy.reserve_percent.min(100)) / 100
    }

    /// The pace's interval between requests, if it has one: `max_rate`'s, and with `even`
    /// what spreads the `share` of the window left (once known) over the time to its reset,
    /// whichever is longer.
    fn interval(
        &self,
        share: Option<u64>,
        reset: Option<i64>,
        now_second: i64,
    ) -> Option<Duration> {
        let by_rate = self
            .policy
            .max_rate
            .map(|per_hour| Duration::from_secs(3_600).div_f64(f64::from(per_hour.max(1))));
        let by_window = share.filter(|_| self.policy.even).map(|share| {
            let to_reset = reset.map_or(3_600, |reset| (reset - now_second).max(1)) as f64;
            Duration::from_secs_f64(to_reset / share.max(1) as f64)
        });
        by_rate.into_iter().chain(by_window).max()
    }

    /// Requests the pace lets go at once: a twentieth of an hour's worth (three minutes' of
    /// requests), at least one.
    fn burst(&self, limit: Option<u64>) -> u32 {
        let share = limit.map(|limit| limit - self.reserve(limit));
        let per_hour = match (self.policy.max_rate.map(u64::from), share) {
            (Some(rate), Some(share)) => rate.min(share),
            (Some(rate), None) => rate,
            (None, Some(share)) => share,
            (None, None) => 0,
        };
        u32::try_from(per_hour / 20).unwrap_or(u32::MAX).max(1)
    }

    /// What was spent and is left.
    pub(crate) fn status(&self) -> BudgetStatus {
        let s = self.lock();
        BudgetStatus {
            spent: s.spent,
            free: s.free,
            limit: s.limit,
            left: s
                .limit
                .zip(s.left)
                .map(|(limit, left)| left.saturating_sub(self.reserve(limit))),
            resets_at: s.reset.and_then(|r| Timestamp::from_second(r).ok()),
        }
    }

    /// Whether a pause until `reset` is still to be announced; it is from now on.
    pub(crate) fn announce(&self, reset: i64) -> bool {
        let mut s = self.lock();
        let new = s.announced != Some(reset);
        s.announced = Some(reset);
        new
    }
}

/// One request's share of the budget, from [`Budget::take`] until its answer.
pub(crate) struct Ticket<'a> {
    budget: &'a Budget,
    done: bool,
}

impl Ticket<'_> {
    /// The answer came: its rate headers say what is left (`free` for a `304`, which GitHub
    /// does not count).
    pub(crate) fn answered(mut self, headers: &HeaderMap, free: bool) {
        self.done = true;
        let number = |name: &str| headers.get(name)?.to_str().ok()?.parse::<i64>().ok();
        let mut s = self.budget.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.answered = true;
        if free {
            s.free += 1;
            s.left = s.left.map(|left| left + 1);
            // Not spent: the pace gives it back.
            let interval = s.interval;
            s.next = s.next.and_then(|next| next.checked_sub(interval));
        } else {
            s.spent += 1;
        }
        if let Some(limit) = number("x-ratelimit-limit") {
            s.limit = Some(limit.max(0) as u64);
        }
        let reset = number("x-ratelimit-reset");
        if let Some(remaining) = number("x-ratelimit-remaining") {
            let remaining = (remaining.max(0) as u64).saturating_sub(s.in_flight);
            // Answers come out of order: within a window, the least left is the truth.
            s.left = match (s.left, reset == s.reset) {
                (Some(left), true) => Some(left.min(remaining)),
                _ => Some(remaining),
            };
        }
        if reset.is_some() {
            s.reset = reset;
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.done {
            // No answer (a broken connection, a cancelled request): GitHub may have counted it.
            let mut s = self.budget.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            s.spent += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(limit: u64, remaining: u64, reset: i64) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ] {
            h.insert(name, value.parse().unwrap());
        }
        h
    }

    /// Sends requests as fast as the budget lets them go at `now`, answering each as a server
    /// with `limit` would; returns how many went.
    fn burst(budget: &Budget, now: Instant, second: i64, limit: u64, used: &mut u64) -> u64 {
        let mut sent = 0;
        // Each test's window resets at second 100, or 100 seconds after a reset it passed.
        let reset = if second <= 100 { 100 } else { second + 100 };
        while let Ok(ticket) = budget.take(now, second) {
            *used += 1;
            ticket.answered(&headers(limit, limit - *used, reset), false);
            sent += 1;
        }
        sent
    }

    #[test]
    fn the_reserve_is_never_spent_and_the_wait_is_for_the_reset() {
        let budget = Budget::new(BudgetPolicy::default());
        let now = Instant::now();
        let mut used = 0;
        assert_eq!(burst(&budget, now, 10, 100, &mut used), 80);
        assert_eq!(budget.take(now, 10).err(), Some(Wait::Reset(100)));
        let status = budget.status();
        assert_eq!(
            (status.spent, status.left, status.limit),
            (80, Some(0), Some(100))
        );
        // After the reset, a new window; its share spent by requests still in flight waits
        // for their answers, which say when it resets.
        let in_flight: Vec<_> = (0..80).map(|_| budget.take(now, 101).unwrap()).collect();
        assert_eq!(
            budget.take(now, 101).err(),
            Some(Wait::Pace(FIRST_ANSWER_WAIT))
        );
        for (n, ticket) in in_flight.into_iter().enumerate() {
            ticket.answered(&headers(100, 99 - n as u64, 201), false);
        }
        assert_eq!(budget.take(now, 101).err(), Some(Wait::Reset(201)));
        let mut used = 0;
        assert_eq!(burst(&budget, now, 202, 100, &mut used), 80);
    }

    #[test]
    fn before_the_first_answer_one_request_is_in_flight() {
        let budget = Budget::new(BudgetPolicy::default());
        let now = Instant::now();
        let first = budget.take(now, 0).unwrap();
        assert!(matches!(budget.take(now, 0), Err(Wait::Pace(_))));
        first.answered(&headers(10, 9, 100), false);
        let a = budget.take(now, 0).unwrap();
        let b = budget.take(now, 0).unwrap();
        // Requests in flight count as spent: 9 left, 2 in flight, a reserve of 2.
        for _ in 0..5 {
            budget
                .take(now, 0)
                .unwrap()
                .answered(&headers(10, 9, 100), false);
        }
        assert!(matches!(budget.take(now, 0), Err(Wait::Reset(100))));
        drop((a, b));
        // An answer without rate headers: nothing known to wait for.
        let open = Budget::new(BudgetPolicy::default());
        open.take(now, 0)
            .unwrap()
            .answered(&HeaderMap::new(), false);
        for _ in 0..100 {
            open.take(now, 0)
                .unwrap()
                .answered(&HeaderMap::new(), false);
        }
    }

    #[test]
    fn a_max_rate_paces_after_a_small_burst_and_304s_are_given_back() {
        let budget = Budget::new(BudgetPolicy {
            max_rate: Some(3_600),
            ..BudgetPolicy::default()
        });
        let start = Instant::now();
        let mut used = 0;
        // 3,600 an hour: a burst of 180, then one a second.
        assert_eq!(burst(&budget, start, 0, 5_000, &mut used), 180);
        let Err(Wait::Pace(wait)) = budget.take(start, 0) else {
            panic!("paced")
        };
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        let later = start + Duration::from_secs(10);
        assert_eq!(burst(&budget, later, 10, 5_000, &mut used), 10);
        // A 304 costs nothing: the next request may go at once.
        let ticket = budget.take(later + Duration::from_secs(1), 11).unwrap();
        ticket.answered(&headers(5_000, 5_000 - used, 100), true);
        assert!(budget.take(later + Duration::from_secs(1), 11).is_ok());
        assert_eq!(budget.status().free, 1);
    }

    #[test]
    fn even_pacing_spreads_what_is_left_over_the_time_to_the_reset() {
        let budget = Budget::new(BudgetPolicy {
            even: true,
            ..BudgetPolicy::default()
        });
        let start = Instant::now();
        let mut used = 0;
        // 1,000 an hour, 200 reserved: a burst of 40, then 760 over 100 s.
        let sent = burst(&budget, start, 0, 1_000, &mut used);
        assert!((38..=42).contains(&sent), "{sent}");
        let Err(Wait::Pace(wait)) = budget.take(start, 0) else {
            panic!("paced")
        };
        assert!(wait <= Duration::from_millis(200), "{wait:?}");
        // Over the window, never more than the share.
        let mut second = 0;
        let mut now = start;
        while second < 100 {
            now += Duration::from_millis(50);
            second = (now - start).as_secs() as i64;
            burst(&budget, now, second, 1_000, &mut used);
        }
        assert!(used <= 800, "{used}");
        assert!(used > 700, "{used}");
    }
}
