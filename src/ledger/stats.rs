//! `rebound stats`: the metrics people watch (docs/policy.md, section
//! "Metrics"), each rate rated against the policy's health thresholds.
//!
//! - hard, soft and complaint rates per campaign (of the campaign's
//!   sends, the share that bounced or complained);
//! - soft-bounce rate by receiving provider;
//! - reason distribution;
//! - retry success rate: of the addresses that soft-bounced, the share
//!   with a later delivery;
//! - time to bounce (bounces tied to their send): immediate (< 1 h) vs
//!   delayed, in buckets;
//! - weekly trend (weeks start on Monday, UTC).
//!
//! A hard bounce is a bounce of category `hard`, whatever its action (the
//! sender-side `alert` ones are also counted apart); a soft bounce one of
//! category `soft`. A rate divides sends, never events: each bounce or
//! complaint is tied to the send it is about ([`Basis`]), and a rate is
//! the share of a group's sends with such an event, so it lies in 0-1 by
//! construction. Bounces tied to no send are counted (`outside`), not
//! rated; without sends (`rebound import-sends`) or MTA log outcomes the
//! counts are shown and the rates are `null`.
//!
//! The counts come from one pass over the events (in event_time range), so
//! the time grows linearly with the ledger. [`Ledger::size`] is the cheap
//! count of what the ledger holds (the gauges `rebound serve` exports).

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::ValueRef;
use serde::Serialize;

use super::sends::normalise_message_id;
use super::{Ledger, LedgerError};
use crate::classify::class_name;
use crate::time;

/// Which events to count.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this campaign.
    pub campaign: Option<String>,
    /// Only events (and sends) at or after this time (Unix seconds).
    pub since: Option<i64>,
}

/// Hard-bounce rate below this is excellent.
pub const HARD_EXCELLENT: f64 = 0.005;
/// Hard-bounce rate above this is critical (blocklist risk).
pub const HARD_CRITICAL: f64 = 0.02;
/// Soft-bounce rate above this points at infrastructure or reputation.
pub const SOFT_WARNING: f64 = 0.05;
/// Overall bounce rate above this gets accounts suspended.
pub const OVERALL_CRITICAL: f64 = 0.05;

/// A bounce below this many seconds after its send is immediate.
pub const IMMEDIATE_SECS: i64 = 3600;

/// Counts and rates of one campaign (or of everything, or one week).
///
/// The counts (`hard` ... `delays`) are the events of the group. The
/// rates divide sends, never events: of the `sent` sends of the group,
/// how many had a hard bounce (`hard_sends`), a soft bounce and no hard
/// one (`soft_sends`), a complaint (`complained_sends`). Each send is
/// counted once in `sent` and at most once in each of these, so every
/// rate lies in 0-1 by construction. A bounce that belongs to none of the
/// sends counted (see [`Basis`]) is counted in `outside`, never rated.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rates {
    /// The campaign (`null`: events with no campaign, or the totals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// Sends the rates divide (see [`Basis`]): imported sends, else the
    /// outcomes MTA logs recorded.
    pub sent: i64,
    /// Hard bounces (category hard).
    pub hard: i64,
    /// Soft bounces (category soft).
    pub soft: i64,
    /// Sender-side bounces (action alert; part of `hard`).
    pub alerts: i64,
    /// Complaints.
    pub complaints: i64,
    /// Unsubscribe requests.
    pub unsubscribes: i64,
    /// Delay warnings (not bounces).
    pub delays: i64,
    /// Of the `sent` sends, those with a hard bounce.
    pub hard_sends: i64,
    /// Of the `sent` sends, those with a soft bounce and no hard one.
    pub soft_sends: i64,
    /// Of the `sent` sends, those with a complaint.
    pub complained_sends: i64,
    /// Bounces (hard and soft) tied to none of the sends: counted, not
    /// rated.
    pub outside: i64,
    /// hard_sends / sent.
    pub hard_rate: Option<f64>,
    /// soft_sends / sent.
    pub soft_rate: Option<f64>,
    /// complained_sends / sent (`null` when the sends are MTA log
    /// outcomes, which no complaint is tied to).
    pub complaint_rate: Option<f64>,
    /// (hard_sends + soft_sends) / sent.
    pub bounce_rate: Option<f64>,
    /// excellent (< 0.5%), warning (0.5-2%) or critical (> 2%).
    pub hard_rating: Option<&'static str>,
    /// ok, or warning (> 5%).
    pub soft_rating: Option<&'static str>,
    /// ok, or critical (> 5%: platforms suspend accounts).
    pub overall_rating: Option<&'static str>,
}

impl Rates {
    fn rate(&mut self, basis: Basis) {
        if self.sent <= 0 {
            return;
        }
        let r = |n: i64| n as f64 / self.sent as f64;
        let (hard, soft) = (r(self.hard_sends), r(self.soft_sends));
        let all = r(self.hard_sends + self.soft_sends);
        self.hard_rate = Some(hard);
        self.soft_rate = Some(soft);
        self.complaint_rate =
            (basis == Basis::Sends).then(|| r(self.complained_sends));
        self.bounce_rate = Some(all);
        self.hard_rating = Some(hard_rating(hard));
        self.soft_rating =
            Some(if soft > SOFT_WARNING { "warning" } else { "ok" });
        self.overall_rating =
            Some(if all > OVERALL_CRITICAL { "critical" } else { "ok" });
    }

    /// Counts one send and what became of it.
    fn add_send(&mut self, fate: Fate) {
        self.sent += 1;
        self.hard_sends += i64::from(fate.hard);
        self.soft_sends += i64::from(fate.soft && !fate.hard);
        self.complained_sends += i64::from(fate.complaint);
    }
}

/// What the rates divide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Imported sends (`rebound import-sends`). A bounce or complaint
    /// belongs to a send when it names the send's Message-ID (the returned
    /// copy's), or else when it is about the send's recipient, in the
    /// send's campaign (or names none), and happened at most
    /// [`ATTRIBUTION_WINDOW`] after the send.
    Sends,
    /// No sends imported: the deliveries and bounces MTA logs recorded,
    /// each its own send. Bounces read from mail are not tied to them.
    Logs,
    /// Neither: counts only, no rates.
    None,
}

/// How long after a send a bounce about its recipient (naming no
/// Message-ID) is still taken to be about that send.
pub const ATTRIBUTION_WINDOW: i64 = 7 * 86400;

/// What became of one send.
#[derive(Debug, Clone, Copy, Default)]
struct Fate {
    hard: bool,
    soft: bool,
    complaint: bool,
}

/// One imported send, as the rates see it.
struct SendRow {
    campaign: Option<String>,
    provider: Option<String>,
    sent_at: i64,
    fate: Fate,
}

/// A rate as a percentage with two decimals (`0.0125` → `1.25%`);
/// `None` (nothing sent) is written as `none`.
pub fn percent(rate: Option<f64>, none: &str) -> String {
    rate.map_or_else(|| none.to_string(), |r| format!("{:.2}%", r * 100.0))
}

/// The rating of a hard-bounce rate.
pub fn hard_rating(rate: f64) -> &'static str {
    if rate < HARD_EXCELLENT {
        "excellent"
    } else if rate <= HARD_CRITICAL {
        "warning"
    } else {
        "critical"
    }
}

/// Soft bounces at one receiving provider.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProviderRates {
    /// The provider (`null`: not identified).
    pub provider: Option<String>,
    /// Sends to its recipients (see [`Basis`]).
    pub sent: i64,
    /// All bounces.
    pub bounces: i64,
    /// Soft bounces.
    pub soft: i64,
    /// Of the `sent` sends, those with a soft bounce and no hard one.
    pub soft_sends: i64,
    /// soft_sends / sent.
    pub soft_rate: Option<f64>,
    /// ok, or warning (> 5%).
    pub soft_rating: Option<&'static str>,
}

/// How often one reason occurs.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    /// Fine reason.
    pub reason: String,
    /// Its class code.
    pub class: Option<i64>,
    /// The class name (for a complaint, which has no class:
    /// `Complaint`).
    pub class_name: &'static str,
    /// Events.
    pub count: i64,
    /// Share of all bounces, complaints and unsubscribes counted.
    pub share: f64,
}

/// Whether retrying soft-bounced addresses paid off.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Retry {
    /// Addresses with a soft bounce.
    pub soft_bounced: i64,
    /// Of them, addresses with a delivery after their first soft bounce.
    pub recovered: i64,
    /// Of them, addresses suppressed `soft_escalated`.
    pub escalated: i64,
    /// recovered / soft_bounced.
    pub success_rate: Option<f64>,
}

/// Time from send to bounce.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TimeToBounce {
    /// Bounces tied to a send.
    pub linked: i64,
    /// Under an hour.
    pub immediate: i64,
    /// An hour or more.
    pub delayed: i64,
    /// Buckets: `<1h`, `1h-24h`, `1d-3d`, `3d-7d`, `>7d`.
    pub buckets: BTreeMap<&'static str, i64>,
}

/// One week of the trend.
#[derive(Debug, Clone, Serialize)]
pub struct Week {
    /// Monday of the week (YYYY-MM-DD).
    pub week: String,
    /// Its counts and rates.
    #[serde(flatten)]
    pub rates: Rates,
}

/// Everything `rebound stats` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Campaign filter.
    pub campaign: Option<String>,
    /// Since filter (RFC 3339).
    pub since: Option<String>,
    /// What the rates divide.
    pub basis: Basis,
    /// All events counted.
    pub totals: Rates,
    /// Per campaign.
    pub campaigns: Vec<Rates>,
    /// Per receiving provider.
    pub providers: Vec<ProviderRates>,
    /// Reason distribution, most frequent first.
    pub reasons: Vec<ReasonCount>,
    /// Retry success.
    pub retry: Retry,
    /// Time to bounce.
    pub time_to_bounce: TimeToBounce,
    /// Weekly trend, oldest first.
    pub weekly: Vec<Week>,
    /// Events of unknown time (their report gave none): counted, but in
    /// no week.
    pub undated: i64,
}

const WEEK: i64 = 7 * 86400;
/// 1970-01-05, the first Monday after the epoch.
const MONDAY: i64 = 4 * 86400;

fn week_of(t: i64) -> i64 {
    (t - MONDAY).div_euclid(WEEK) * WEEK + MONDAY
}

fn bucket(secs: i64) -> &'static str {
    match secs {
        ..3600 => "<1h",
        3600..86400 => "1h-24h",
        86400..259200 => "1d-3d",
        259200..604800 => "3d-7d",
        _ => ">7d",
    }
}

/// The name of an event kind that has no class.
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "complaint" => "Complaint",
        "unsubscribe" => "Unsubscribe",
        _ => "Bounce",
    }
}

fn text(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

fn entry<'m, T: Default>(
    m: &'m mut HashMap<Option<String>, T>,
    k: Option<&str>,
) -> &'m mut T {
    let key = k.map(str::to_string);
    m.entry(key).or_default()
}

/// The imported sends the rates divide, and how a bounce finds its own.
#[derive(Default)]
struct Sends {
    rows: Vec<SendRow>,
    /// Message-ID → row.
    by_id: HashMap<String, usize>,
    /// Recipient's address id → rows, in send order.
    by_address: HashMap<i64, Vec<usize>>,
}

impl Sends {
    /// The sends the filter keeps.
    fn load(c: &rusqlite::Connection, f: &Filter) -> rusqlite::Result<Sends> {
        let mut st = c.prepare(
            "SELECT s.message_id, s.campaign_id, s.provider, s.sent_at, a.id
             FROM sends s LEFT JOIN addresses a ON a.address = s.recipient
             WHERE (?1 IS NULL OR s.campaign_id = ?1)
               AND (?2 IS NULL OR s.sent_at >= ?2)
             ORDER BY s.sent_at",
        )?;
        let mut rows = st.query(rusqlite::params![f.campaign, f.since])?;
        let mut sends = Sends::default();
        while let Some(r) = rows.next()? {
            let i = sends.rows.len();
            sends.by_id.insert(r.get(0)?, i);
            if let Some(a) = r.get::<_, Option<i64>>(4)? {
                sends.by_address.entry(a).or_default().push(i);
            }
            sends.rows.push(SendRow {
                campaign: r.get(1)?,
                provider: r.get(2)?,
                sent_at: r.get(3)?,
                fate: Fate::default(),
            });
        }
        Ok(sends)
    }

    /// The send an event is about (see [`Basis::Sends`]): the one whose
    /// Message-ID it names; when it names none, the latest send to its
    /// recipient in its campaign (any, when it names none) at most
    /// [`ATTRIBUTION_WINDOW`] before it.
    fn find(
        &self,
        original: Option<&str>,
        address: Option<i64>,
        campaign: Option<&str>,
        time: i64,
    ) -> Option<usize> {
        if let Some(m) = original {
            return self.by_id.get(normalise_message_id(m)).copied();
        }
        self.by_address.get(&address?)?.iter().rev().copied().find(|&i| {
            let s = &self.rows[i];
            (s.sent_at..=s.sent_at + ATTRIBUTION_WINDOW).contains(&time)
                && (campaign.is_none() || s.campaign.as_deref() == campaign)
        })
    }
}

/// How much the ledger holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Size {
    /// Addresses known.
    pub addresses: i64,
    /// Of them, suppressed.
    pub suppressed: i64,
    /// Events recorded (the highest event id: events are never deleted).
    pub events: i64,
}

impl Ledger {
    /// Counts the addresses (one pass over the smallest index), the
    /// suppressed ones (their partial index) and the events.
    pub fn size(&self) -> Result<Size, LedgerError> {
        let c = self.conn();
        let one = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
        let run = || -> rusqlite::Result<Size> {
            Ok(Size {
                addresses: one("SELECT count(*) FROM addresses")?,
                suppressed: one(
                    "SELECT count(*) FROM addresses WHERE state = 'suppressed'",
                )?,
                events: one("SELECT coalesce(max(id), 0) FROM events")?,
            })
        };
        run().map_err(|e| self.error(e))
    }

    /// Computes the statistics.
    pub fn stats(&self, f: &Filter) -> Result<Stats, LedgerError> {
        self.compute_stats(f).map_err(|e| self.error(e))
    }

    fn compute_stats(&self, f: &Filter) -> rusqlite::Result<Stats> {
        let c = self.conn();
        let args = rusqlite::params![f.campaign, f.since];
        let mut totals = Rates::default();
        let mut campaigns: HashMap<Option<String>, Rates> = HashMap::new();
        let mut providers: HashMap<Option<String>, ProviderRates> =
            HashMap::new();
        let mut weeks: BTreeMap<i64, Rates> = BTreeMap::new();
        let mut reasons: HashMap<(String, Option<i64>, &'static str), i64> =
            HashMap::new();
        let mut ttb = TimeToBounce::default();
        let mut undated = 0;

        let imported: bool =
            c.query_row("SELECT EXISTS (SELECT 1 FROM sends)", [], |r| {
                r.get(0)
            })?;
        let mut sends =
            if imported { Sends::load(c, f)? } else { Sends::default() };
        // Events naming no campaign are read under a campaign filter too:
        // the send they belong to may be in that campaign.
        let mut st = c.prepare(
            "SELECT kind, category, action, campaign_id, provider, reason,
               class, event_time, sent_at, detector, original_message_id,
               address_id, time_unknown
             FROM events
             WHERE (?1 IS NULL OR campaign_id = ?1 OR campaign_id IS NULL)
               AND (?2 IS NULL OR event_time >= ?2)",
        )?;
        let mut rows = st.query(args)?;
        while let Some(r) = rows.next()? {
            let kind = text(r.get_ref(0)?).unwrap_or("");
            let category = text(r.get_ref(1)?);
            let alert = text(r.get_ref(2)?) == Some("alert");
            let time: i64 = r.get(7)?;
            let fate = Fate {
                hard: kind == "bounce" && category == Some("hard"),
                soft: kind == "bounce" && category != Some("hard"),
                complaint: kind == "complaint" && !alert,
            };
            let send = if fate.hard || fate.soft || fate.complaint {
                sends.find(
                    text(r.get_ref(10)?),
                    r.get(11)?,
                    text(r.get_ref(3)?),
                    time,
                )
            } else {
                None
            };
            let campaign = text(r.get_ref(3)?).or_else(|| {
                send.and_then(|i| sends.rows[i].campaign.as_deref())
            });
            if f.campaign.is_some() && campaign != f.campaign.as_deref() {
                continue;
            }
            // An event of unknown time has no week.
            let undated_event = r.get::<_, Option<i64>>(12)?.is_some();
            undated += i64::from(undated_event);
            let week = (!undated_event)
                .then(|| weeks.entry(week_of(time)).or_default());
            let camp = entry(&mut campaigns, campaign);
            // Without imported sends, an outcome the MTA logged is one.
            let logged_send = !imported
                && matches!(kind, "bounce" | "delivered")
                && text(r.get_ref(9)?).is_some_and(|d| d.starts_with("log:"));
            let outside = kind == "bounce" && send.is_none() && !logged_send;
            for x in [Some(&mut totals), Some(&mut *camp), week]
                .into_iter()
                .flatten()
            {
                if logged_send {
                    x.add_send(fate);
                }
                x.outside += i64::from(outside);
                match (kind, category) {
                    ("bounce", Some("hard")) => {
                        x.hard += 1;
                        x.alerts += i64::from(alert);
                    }
                    ("bounce", _) => x.soft += 1,
                    // A feedback report about the sender's setup (an
                    // authentication-failure report) is no complaint; it
                    // shows under its reason.
                    ("complaint", _) if !alert => x.complaints += 1,
                    ("unsubscribe", _) => x.unsubscribes += 1,
                    ("delay", _) => x.delays += 1,
                    _ => {}
                }
            }
            if let Some(i) = send {
                let f = &mut sends.rows[i].fate;
                f.hard |= fate.hard;
                f.soft |= fate.soft;
                f.complaint |= fate.complaint;
            }
            if logged_send {
                let p = entry(&mut providers, text(r.get_ref(4)?));
                p.sent += 1;
                p.soft_sends += i64::from(fate.soft);
            }
            if kind == "bounce" {
                let p = entry(&mut providers, text(r.get_ref(4)?));
                p.bounces += 1;
                p.soft += i64::from(category != Some("hard"));
                if let Some(sent) = r.get::<_, Option<i64>>(8)? {
                    ttb.linked += 1;
                    let d = time - sent;
                    if d < IMMEDIATE_SECS {
                        ttb.immediate += 1;
                    } else {
                        ttb.delayed += 1;
                    }
                    *ttb.buckets.entry(bucket(d)).or_default() += 1;
                }
            }
            if matches!(kind, "bounce" | "complaint" | "unsubscribe") {
                let reason = text(r.get_ref(5)?).unwrap_or(kind);
                let class: Option<i64> = r.get(6)?;
                let name = match class.and_then(|c| u16::try_from(c).ok()) {
                    Some(c) => class_name(c),
                    // Complaints have no class: their kind names them.
                    None => kind_name(kind),
                };
                *reasons
                    .entry((reason.to_string(), class, name))
                    .or_default() += 1;
            }
        }
        // Each send counts in the group of its own campaign, provider and
        // week, with what became of it.
        for s in &sends.rows {
            totals.add_send(s.fate);
            entry(&mut campaigns, s.campaign.as_deref()).add_send(s.fate);
            weeks.entry(week_of(s.sent_at)).or_default().add_send(s.fate);
            let p = entry(&mut providers, s.provider.as_deref());
            p.sent += 1;
            p.soft_sends += i64::from(s.fate.soft && !s.fate.hard);
        }
        let basis = if imported {
            Basis::Sends
        } else if totals.sent > 0 {
            Basis::Logs
        } else {
            Basis::None
        };
        if basis == Basis::None {
            // Nothing to be outside of.
            for x in std::iter::once(&mut totals)
                .chain(campaigns.values_mut())
                .chain(weeks.values_mut())
            {
                x.outside = 0;
            }
        }

        let retry = c.query_row(
            "WITH per AS (
               SELECT address_id,
                 min(CASE WHEN kind = 'bounce'
                   AND (?1 IS NULL OR campaign_id = ?1)
                   AND (?2 IS NULL OR event_time >= ?2)
                   THEN event_time END) AS t,
                 max(CASE WHEN kind = 'delivered' THEN event_time END) AS d
               FROM events
               WHERE address_id IS NOT NULL AND (kind = 'delivered'
                 OR (kind = 'bounce' AND category = 'soft'))
               GROUP BY address_id)
             SELECT count(*), coalesce(sum(d > t), 0),
               coalesce(sum(EXISTS (SELECT 1 FROM addresses a
                 WHERE a.id = per.address_id
                   AND a.suppression_reason = 'soft_escalated')), 0)
             FROM per WHERE t IS NOT NULL",
            args,
            |r| {
                let (n, ok): (i64, i64) = (r.get(0)?, r.get(1)?);
                Ok(Retry {
                    soft_bounced: n,
                    recovered: ok,
                    escalated: r.get(2)?,
                    success_rate: (n > 0).then(|| ok as f64 / n as f64),
                })
            },
        )?;

        totals.rate(basis);
        let mut campaigns: Vec<Rates> = campaigns
            .into_iter()
            .map(|(k, mut v)| {
                v.campaign = k;
                v.rate(basis);
                v
            })
            .collect();
        campaigns.sort_by(|a, b| a.campaign.cmp(&b.campaign));
        let mut providers: Vec<ProviderRates> = providers
            .into_iter()
            .map(|(k, mut v)| {
                v.provider = k;
                if v.sent > 0 {
                    let r = v.soft_sends as f64 / v.sent as f64;
                    v.soft_rate = Some(r);
                    v.soft_rating =
                        Some(if r > SOFT_WARNING { "warning" } else { "ok" });
                }
                v
            })
            .collect();
        providers.sort_by(|a, b| {
            b.soft.cmp(&a.soft).then(a.provider.cmp(&b.provider))
        });
        let all: i64 = reasons.values().sum();
        let mut reasons: Vec<ReasonCount> = reasons
            .into_iter()
            .map(|((reason, class, name), count)| ReasonCount {
                class_name: name,
                reason,
                class,
                count,
                share: count as f64 / all.max(1) as f64,
            })
            .collect();
        reasons.sort_by(|a, b| {
            b.count.cmp(&a.count).then(a.reason.cmp(&b.reason))
        });
        let weekly = weeks
            .into_iter()
            .map(|(w, mut rates)| {
                rates.rate(basis);
                let day = time::format_rfc3339(w);
                Week { week: day[..10].to_string(), rates }
            })
            .collect();
        Ok(Stats {
            campaign: f.campaign.clone(),
            since: f.since.map(time::format_rfc3339),
            basis,
            undated,
            totals,
            campaigns,
            providers,
            reasons,
            retry,
            time_to_bounce: ttb,
            weekly,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_policy() {
        assert_eq!(hard_rating(0.004), "excellent");
        assert_eq!(hard_rating(0.005), "warning");
        assert_eq!(hard_rating(0.02), "warning");
        assert_eq!(hard_rating(0.021), "critical");
        let mut r = Rates { sent: 100, soft_sends: 6, ..Rates::default() };
        r.rate(Basis::Sends);
        assert_eq!(r.soft_rating, Some("warning"));
        assert_eq!(r.overall_rating, Some("critical"));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2024-01-03 is a Wednesday; its week starts on 2024-01-01.
        let t = time::parse_rfc3339("2024-01-03T12:00:00Z").unwrap();
        assert_eq!(time::format_rfc3339(week_of(t)), "2024-01-01T00:00:00Z");
        assert_eq!(bucket(59), "<1h");
        assert_eq!(bucket(2 * 86400), "1d-3d");
    }
}
