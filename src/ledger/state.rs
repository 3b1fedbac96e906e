//! The address state machine: an address's state is the fold of its events
//! in `event_time` order (ties by the order they were recorded).
//!
//! - `bounce` with action `suppress` (a permanent failure about the
//!   recipient): suppressed, reason `hard_bounce`;
//! - `bounce` with action `alert` (the sender's own setup is at fault):
//!   counted, the recipient stays mailable;
//! - `bounce` with action `retry` (temporary or unclear): `soft_bouncing`;
//!   after [`Policy::soft_attempts`] soft bounces with no delivery between
//!   them, the first and the last at least [`Policy::soft_span_secs`]
//!   apart, suppressed `soft_escalated`;
//! - `delivered` (a receipt or a delivery event) ends a soft-bounce streak;
//! - `complaint` and `unsubscribe`: suppressed `complaint` / `unsubscribed`;
//! - `delay` and `auto_reply`: counted only;
//! - `suppress` / `unsuppress` (an operator's manual events, or an
//!   imported list): suppressed for the event's reason (`manual` unless it
//!   names another) / back to `active` with a fresh streak.
//!
//! A suppressed address keeps the reason and time of its first suppression
//! until it is unsuppressed, or until the end a manual suppression was
//! given (`suppress --until`): from then on it is mailable again, before
//! any later event is applied, and a suppression for good that comes
//! during one with an end takes over. [`AddressState::apply`] is both the
//! incremental step (an event later than everything seen) and, from
//! [`AddressState::default`], the full recompute done when a report
//! arrives late.

use crate::model::{Action, EventType};

/// Where an address stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    /// Mailable.
    #[default]
    Active,
    /// Mailable, but soft-bouncing: the streak may escalate.
    SoftBouncing,
    /// Must not be mailed.
    Suppressed,
}

impl State {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::SoftBouncing => "soft_bouncing",
            State::Suppressed => "suppressed",
        }
    }

    /// Parses a stored name.
    pub fn from_name(s: &str) -> Option<State> {
        Some(match s {
            "active" => State::Active,
            "soft_bouncing" => State::SoftBouncing,
            "suppressed" => State::Suppressed,
            _ => return None,
        })
    }
}

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionReason {
    /// A permanent failure about the recipient (unknown user or domain...).
    HardBounce,
    /// Soft bounces that went on through the whole retry schedule.
    SoftEscalated,
    /// A spam complaint.
    Complaint,
    /// An unsubscribe request.
    Unsubscribed,
    /// An operator's decision.
    Manual,
}

impl SuppressionReason {
    /// Every reason, in documentation order.
    pub const ALL: [SuppressionReason; 5] = [
        SuppressionReason::HardBounce,
        SuppressionReason::SoftEscalated,
        SuppressionReason::Complaint,
        SuppressionReason::Unsubscribed,
        SuppressionReason::Manual,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::HardBounce => "hard_bounce",
            SuppressionReason::SoftEscalated => "soft_escalated",
            SuppressionReason::Complaint => "complaint",
            SuppressionReason::Unsubscribed => "unsubscribed",
            SuppressionReason::Manual => "manual",
        }
    }

    /// Parses a stored name.
    pub fn from_name(s: &str) -> Option<SuppressionReason> {
        SuppressionReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The kind of a ledger event: a reported event, or a manual one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// From a report or a webhook.
    Reported(EventType),
    /// An operator (or an imported list) suppressed the address, for
    /// this reason.
    Suppress(SuppressionReason),
    /// An operator lifted the suppression.
    Unsuppress,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reported(t) => t.as_str(),
            Kind::Suppress(_) => "suppress",
            Kind::Unsuppress => "unsuppress",
        }
    }

    /// Parses a stored name (a `suppress` event's reason is stored apart:
    /// `manual` here).
    pub fn from_name(s: &str) -> Option<Kind> {
        match s {
            "suppress" => Some(Kind::Suppress(SuppressionReason::Manual)),
            "unsuppress" => Some(Kind::Unsuppress),
            _ => EventType::from_name(s).map(Kind::Reported),
        }
    }
}

/// The soft-bounce escalation policy (docs/policy.md, section "Soft-bounce
/// escalation": attempt 1 immediate, then +1h, +4h, +24h, +48h; still
/// soft-bouncing after 5 attempts means suppress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Soft bounces in a row (no delivery between) that escalate.
    pub soft_attempts: u32,
    /// The least time between the first and the last of them: the retry
    /// schedule must have run its course, so five bounces of one burst do
    /// not condemn an address.
    pub soft_span_secs: i64,
}

impl Default for Policy {
    /// 5 attempts, the last at least 48 h after the first (the last step of
    /// the retry schedule; met whether its delays are read as offsets from
    /// the first attempt or as gaps between attempts).
    fn default() -> Self {
        Policy { soft_attempts: 5, soft_span_secs: 48 * 3600 }
    }
}

/// What the state machine needs of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// Ledger row id (ties in time are broken by it).
    pub id: i64,
    /// Kind.
    pub kind: Kind,
    /// Recommended action of a bounce.
    pub action: Option<Action>,
    /// When it happened.
    pub time: i64,
    /// When the suppression it makes ends (a manual one given an end).
    pub until: Option<i64>,
}

/// Event counters of an address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Bounces with action `suppress`.
    pub hard: i64,
    /// Bounces with action `retry`.
    pub soft: i64,
    /// Bounces with action `alert` (sender-side).
    pub alert: i64,
    /// Delay warnings.
    pub delay: i64,
    /// Complaints.
    pub complaint: i64,
    /// Unsubscribe requests.
    pub unsubscribe: i64,
    /// Auto-replies.
    pub auto_reply: i64,
    /// Deliveries / success receipts.
    pub delivered: i64,
}

/// The folded state of one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressState {
    /// Current state.
    pub state: State,
    /// Why it is suppressed.
    pub reason: Option<SuppressionReason>,
    /// When it was suppressed.
    pub suppressed_at: Option<i64>,
    /// The event that suppressed it.
    pub suppressed_by: Option<i64>,
    /// When the suppression ends (a manual one given an end); `None`:
    /// never.
    pub suppressed_until: Option<i64>,
    /// Soft bounces since the last delivery or unsuppress.
    pub soft_streak: i64,
    /// Time of the streak's first soft bounce.
    pub streak_start: Option<i64>,
    /// Counters over the whole history.
    pub counts: Counts,
    /// Time of the first event.
    pub first_event: Option<i64>,
    /// Time of the last event (in event time).
    pub last_event: Option<i64>,
}

impl AddressState {
    /// True when `time` comes at or after every event folded so far, so
    /// the event can be applied on top instead of recomputing.
    pub fn in_order(&self, time: i64) -> bool {
        self.last_event.is_none_or(|last| time >= last)
    }

    /// Applies the next event in time order.
    pub fn apply(&mut self, e: &Fact, policy: &Policy) {
        if self.ended_by(e.time) {
            self.lift();
        }
        self.first_event =
            Some(self.first_event.map_or(e.time, |t| t.min(e.time)));
        self.last_event =
            Some(self.last_event.map_or(e.time, |t| t.max(e.time)));
        let c = &mut self.counts;
        match e.kind {
            Kind::Reported(EventType::Bounce) => match e.action {
                Some(Action::Suppress) => {
                    c.hard += 1;
                    self.suppress(SuppressionReason::HardBounce, e);
                }
                Some(Action::Alert) => c.alert += 1,
                Some(Action::Ignore) => {}
                Some(Action::Retry) | None => {
                    c.soft += 1;
                    self.soft_bounce(e, policy);
                }
            },
            Kind::Reported(EventType::Delay) => c.delay += 1,
            Kind::Reported(EventType::AutoReply) => c.auto_reply += 1,
            Kind::Reported(EventType::Complaint) => match e.action {
                // A feedback report about the sender's own setup (an
                // authentication failure, a virus), not a complaint.
                Some(Action::Alert) => c.alert += 1,
                Some(Action::Ignore) => {}
                Some(Action::Suppress | Action::Retry) | None => {
                    c.complaint += 1;
                    self.suppress(SuppressionReason::Complaint, e);
                }
            },
            Kind::Reported(EventType::Unsubscribe) => {
                c.unsubscribe += 1;
                self.suppress(SuppressionReason::Unsubscribed, e);
            }
            Kind::Reported(EventType::Delivered) => {
                c.delivered += 1;
                self.end_streak();
            }
            Kind::Suppress(reason) => self.suppress(reason, e),
            Kind::Unsuppress => self.lift(),
        }
    }

    /// Whether the suppression in force has an end at or before `time`.
    pub fn ended_by(&self, time: i64) -> bool {
        self.state == State::Suppressed
            && self.suppressed_until.is_some_and(|u| u <= time)
    }

    fn lift(&mut self) {
        self.state = State::Active;
        self.reason = None;
        self.suppressed_at = None;
        self.suppressed_by = None;
        self.suppressed_until = None;
        self.end_streak();
    }

    fn soft_bounce(&mut self, e: &Fact, policy: &Policy) {
        let start = *self.streak_start.get_or_insert(e.time);
        self.soft_streak += 1;
        if self.state == State::Suppressed {
            return;
        }
        self.state = State::SoftBouncing;
        if self.soft_streak >= i64::from(policy.soft_attempts)
            && e.time - start >= policy.soft_span_secs
        {
            self.suppress(SuppressionReason::SoftEscalated, e);
        }
    }

    fn end_streak(&mut self) {
        self.soft_streak = 0;
        self.streak_start = None;
        if self.state == State::SoftBouncing {
            self.state = State::Active;
        }
    }

    fn suppress(&mut self, reason: SuppressionReason, e: &Fact) {
        // A suppression with an end gives way to one lasting longer.
        let longer = match (self.suppressed_until, e.until) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(now), Some(new)) => new > now,
        };
        if self.state != State::Suppressed || longer {
            self.state = State::Suppressed;
            self.reason = Some(reason);
            self.suppressed_at = Some(e.time);
            self.suppressed_by = Some(e.id);
            self.suppressed_until = e.until;
        }
    }

    /// Folds a history already in (time, id) order.
    pub fn fold(history: &[Fact], policy: &Policy) -> AddressState {
        let mut s = AddressState::default();
        for e in history {
            s.apply(e, policy);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    fn bounce(id: i64, time: i64, action: Action) -> Fact {
        Fact {
            id,
            kind: Kind::Reported(EventType::Bounce),
            action: Some(action),
            time,
            until: None,
        }
    }

    fn event(id: i64, time: i64, t: EventType) -> Fact {
        Fact { id, kind: Kind::Reported(t), action: None, time, until: None }
    }

    fn sorted(mut v: Vec<Fact>) -> Vec<Fact> {
        v.sort_by_key(|e| (e.time, e.id));
        v
    }

    #[test]
    fn five_soft_bounces_over_the_schedule_escalate() {
        let p = Policy::default();
        let times = [0, H, 5 * H, 29 * H, 77 * H];
        let h: Vec<Fact> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| bounce(i as i64, t, Action::Retry))
            .collect();
        let s = AddressState::fold(&h[..4], &p);
        assert_eq!((s.state, s.soft_streak), (State::SoftBouncing, 4));
        let s = AddressState::fold(&h, &p);
        assert_eq!(s.state, State::Suppressed);
        assert_eq!(s.reason, Some(SuppressionReason::SoftEscalated));
        assert_eq!(s.suppressed_at, Some(77 * H));
    }

    #[test]
    fn a_burst_of_soft_bounces_does_not_escalate() {
        let h: Vec<Fact> =
            (0..8).map(|i| bounce(i, i * 60, Action::Retry)).collect();
        let s = AddressState::fold(&h, &Policy::default());
        assert_eq!((s.state, s.soft_streak), (State::SoftBouncing, 8));
    }

    #[test]
    fn delivery_resets_the_streak() {
        let mut h: Vec<Fact> =
            (0..4).map(|i| bounce(i, i * 20 * H, Action::Retry)).collect();
        h.push(event(4, 61 * H, EventType::Delivered));
        h.push(bounce(5, 80 * H, Action::Retry));
        let s = AddressState::fold(&h, &Policy::default());
        assert_eq!((s.state, s.soft_streak), (State::SoftBouncing, 1));
        assert_eq!(s.counts.soft, 5);
    }

    #[test]
    fn alerts_delays_and_auto_replies_change_no_state() {
        let h = vec![
            bounce(1, 0, Action::Alert),
            event(2, 1, EventType::Delay),
            event(3, 2, EventType::AutoReply),
        ];
        let s = AddressState::fold(&h, &Policy::default());
        assert_eq!(s.state, State::Active);
        assert_eq!((s.counts.alert, s.counts.delay), (1, 1));
    }

    #[test]
    fn first_suppression_is_kept_until_unsuppressed() {
        let p = Policy::default();
        let h = vec![
            bounce(1, 10, Action::Suppress),
            event(2, 20, EventType::Complaint),
        ];
        let s = AddressState::fold(&h, &p);
        assert_eq!(s.reason, Some(SuppressionReason::HardBounce));
        assert_eq!(s.suppressed_by, Some(1));
        let mut h = h;
        h.push(Fact {
            id: 3,
            kind: Kind::Unsuppress,
            action: None,
            time: 30,
            until: None,
        });
        let s = AddressState::fold(&h, &p);
        assert_eq!((s.state, s.reason), (State::Active, None));
        // A late hard bounce from before the unsuppress stays lifted.
        h.push(bounce(4, 25, Action::Suppress));
        let s = AddressState::fold(&sorted(h), &p);
        assert_eq!(s.state, State::Active);
        assert_eq!(s.counts.hard, 2);
    }

    #[test]
    fn incremental_application_matches_a_full_fold() {
        let p = Policy::default();
        let h = sorted(vec![
            bounce(1, 0, Action::Retry),
            bounce(2, 30 * H, Action::Retry),
            event(3, 31 * H, EventType::Delay),
            bounce(4, 40 * H, Action::Retry),
            bounce(5, 45 * H, Action::Retry),
            bounce(6, 50 * H, Action::Retry),
            event(7, 60 * H, EventType::Complaint),
        ]);
        let mut s = AddressState::default();
        for e in &h {
            assert!(s.in_order(e.time));
            s.apply(e, &p);
        }
        assert_eq!(s, AddressState::fold(&h, &p));
        assert_eq!(s.reason, Some(SuppressionReason::SoftEscalated));
        assert!(!s.in_order(0 - 1));
    }

    #[test]
    fn a_manual_suppression_with_an_end_lifts_then_gives_way() {
        let p = Policy::default();
        let manual = |id, time, until| Fact {
            id,
            kind: Kind::Suppress(SuppressionReason::Complaint),
            action: None,
            time,
            until,
        };
        let h =
            vec![manual(1, 10, Some(100)), event(2, 150, EventType::Delay)];
        let s = AddressState::fold(&h[..1], &p);
        assert_eq!(s.reason, Some(SuppressionReason::Complaint));
        assert!(!s.ended_by(99) && s.ended_by(100));
        let s = AddressState::fold(&h, &p);
        assert_eq!((s.state, s.suppressed_until), (State::Active, None));
        // A hard bounce during it takes over, for good.
        let h =
            vec![manual(1, 10, Some(100)), bounce(2, 50, Action::Suppress)];
        let s = AddressState::fold(&h, &p);
        assert_eq!(s.reason, Some(SuppressionReason::HardBounce));
        assert!(!s.ended_by(i64::MAX));
    }
}
