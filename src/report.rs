//! The HTML report (`rebound report --html FILE`): one self-contained page
//! (inline CSS and inline SVG, no scripts, fonts or network) drawn from the
//! ledger's [`Stats`]: the weekly trend of bounce rates (bounce counts when
//! no sends are imported), the reason distribution, soft bounces by
//! provider, and each campaign's rates against the health thresholds of
//! `docs/policy.md` ("Metrics": hard under 0.5% excellent, 0.5-2%
//! warning, over 2% critical; soft and overall over 5%), followed by the
//! tables behind the charts.
//!
//! Campaign ids, reasons and providers come from mail: every value is
//! HTML-escaped.

use std::fmt::Write;

use crate::ledger::stats::{
    HARD_CRITICAL, HARD_EXCELLENT, OVERALL_CRITICAL, Rates, SOFT_WARNING,
    Stats,
};

/// Hard bounces (weekly trend).
pub const HARD: &str = "#c0392b";
/// Soft bounces (weekly trend).
pub const SOFT: &str = "#e67e22";
/// Complaints (weekly trend, counts).
pub const COMPLAINT: &str = "#8e44ad";
/// Reason bars.
pub const REASON: &str = "#2471a3";
/// Provider bars (soft bounces).
pub const PROVIDER: &str = "#16a085";
/// Campaign hard-rate bars.
pub const CAMPAIGN_HARD: &str = "#34495e";
/// Campaign overall-rate bars.
pub const CAMPAIGN_OVERALL: &str = "#5dade2";

/// Weeks shown in the trend at most (the latest ones).
pub const MAX_WEEKS: usize = 52;
/// Bars shown at most in the reason, provider and campaign charts.
pub const MAX_BARS: usize = 12;

const W: f64 = 560.0;
const H: f64 = 340.0;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

fn pct(r: Option<f64>) -> String {
    crate::ledger::stats::percent(r, "–")
}

const CSS: &str = "*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:16px;color:#222;background:#fff}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 6px}\
.meta{color:#666;font-size:13px;margin-bottom:10px}\
.kpis{display:flex;gap:10px;margin-bottom:12px}\
.kpi{border:1px solid #ddd;border-radius:6px;padding:6px 10px;font-size:13px}\
.kpi b{display:block;font-size:18px}\
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}\
.chart{border:1px solid #ddd;border-radius:6px;padding:8px;height:400px;overflow:hidden}\
.chart svg{width:100%;height:auto;display:block}\
.note{color:#666;font-size:12px;margin:2px 0}\
table{border-collapse:collapse;font-size:12px;margin:8px 0 16px}.grid+h2{margin-top:16px}\
td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}\
td:first-child,th:first-child{text-align:left}\
.excellent,.ok{color:#1e8449}.warning{color:#b7950b}.critical{color:#c0392b}\
svg text.excellent,svg text.ok{fill:#1e8449}svg text.warning{fill:#b7950b}svg text.critical{fill:#c0392b}\
svg text{font-size:11px;fill:#333}";

/// Renders the report. `title` names the ledger (escaped here).
pub fn html(s: &Stats, title: &str) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>rebound report: {t}</title><style>{CSS}</style></head><body>\
         <h1>rebound report</h1><div class=\"meta\">ledger {t}",
        t = escape(title)
    );
    if let Some(c) = &s.campaign {
        let _ = write!(o, " · campaign {}", escape(c));
    }
    if let Some(since) = &s.since {
        let _ = write!(o, " · since {}", escape(since));
    }
    o.push_str("</div>");
    kpis(&mut o, &s.totals);
    o.push_str("<div class=\"grid\">");
    weekly(&mut o, s);
    reasons(&mut o, s);
    providers(&mut o, s);
    campaigns(&mut o, s);
    o.push_str("</div>");
    tables(&mut o, s);
    o.push_str("</body></html>\n");
    o
}

fn kpis(o: &mut String, t: &Rates) {
    let rated = |r: Option<f64>, rating: Option<&str>| match rating {
        Some(x) => format!("<span class=\"{x}\">{} {x}</span>", pct(r)),
        None => pct(r),
    };
    let _ = write!(
        o,
        "<div class=\"kpis\">\
         <div class=\"kpi\">sent<b>{}</b></div>\
         <div class=\"kpi\">hard bounces<b>{}</b></div>\
         <div class=\"kpi\">soft bounces<b>{}</b></div>\
         <div class=\"kpi\">complaints<b>{}</b></div>\
         <div class=\"kpi\">hard rate<b>{}</b></div>\
         <div class=\"kpi\">soft rate<b>{}</b></div>\
         <div class=\"kpi\">overall rate<b>{}</b></div></div>",
        t.sent,
        t.hard,
        t.soft,
        t.complaints,
        rated(t.hard_rate, t.hard_rating),
        rated(t.soft_rate, t.soft_rating),
        rated(t.bounce_rate, t.overall_rating),
    );
    if t.sent == 0 {
        o.push_str(
            "<p class=\"note\">No sends imported: rates need \
             <code>rebound import-sends</code>; the charts show counts.</p>",
        );
    }
}

fn open_chart(o: &mut String, id: &str, title: &str) {
    let _ = write!(
        o,
        "<div class=\"chart\" id=\"{id}\"><h2>{title}</h2>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" \
         height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\">"
    );
}

fn close_chart(o: &mut String, note: &str) {
    let _ = write!(o, "</svg><p class=\"note\">{note}</p></div>");
}

fn rect(o: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str) {
    if w > 0.0 && h > 0.0 {
        let _ = write!(
            o,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" \
             height=\"{h:.1}\" fill=\"{fill}\"/>"
        );
    }
}

fn text(o: &mut String, x: f64, y: f64, anchor: &str, s: &str) {
    let _ = write!(
        o,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{}</text>",
        escape(s)
    );
}

fn legend(o: &mut String, items: &[(&str, &str)]) {
    let mut x = 50.0;
    for (colour, name) in items {
        rect(o, x, 4.0, 12.0, 12.0, colour);
        text(o, x + 16.0, 14.0, "start", name);
        x += 24.0 + 7.0 * name.len() as f64;
    }
}

/// A "nice" axis maximum at or above `v`.
fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|m| *m >= v)
        .unwrap_or(10.0 * p)
}

/// Vertical axis from `top` to `bottom` with 4 gridlines.
fn y_axis(o: &mut String, max: f64, fmt: impl Fn(f64) -> String) {
    let (left, top, bottom) = (50.0, 24.0, H - 40.0);
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = bottom - (bottom - top) * f64::from(i) / 4.0;
        let _ = write!(
            o,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" \
             stroke=\"#e5e5e5\"/>",
            W - 10.0
        );
        text(o, left - 4.0, y + 4.0, "end", &fmt(v));
    }
}

fn weekly(o: &mut String, s: &Stats) {
    let skip = s.weekly.len().saturating_sub(MAX_WEEKS);
    let weeks = &s.weekly[skip..];
    let with_rates = weeks.iter().any(|w| w.rates.sent > 0);
    let title =
        if with_rates { "Bounce rates per week" } else { "Bounces per week" };
    open_chart(o, "weekly", title);
    let (left, top, bottom, right) = (50.0, 24.0, H - 40.0, W - 10.0);
    let n = weeks.len().max(1) as f64;
    let slot = (right - left) / n;
    let label_every = (n / 8.0).ceil().max(1.0) as usize;
    if with_rates {
        legend(o, &[(HARD, "hard rate"), (SOFT, "soft rate")]);
        let top_rate = weeks
            .iter()
            .flat_map(|w| [w.rates.hard_rate, w.rates.soft_rate])
            .flatten()
            .fold(OVERALL_CRITICAL * 1.1, f64::max);
        let max = nice(top_rate);
        y_axis(o, max, |v| format!("{:.1}%", v * 100.0));
        let y = |r: f64| bottom - (bottom - top) * r / max;
        for (i, w) in weeks.iter().enumerate() {
            let x = left + slot * i as f64;
            let bw = (slot * 0.4).max(1.0);
            for (k, (r, c)) in
                [(w.rates.hard_rate, HARD), (w.rates.soft_rate, SOFT)]
                    .into_iter()
                    .enumerate()
            {
                let r = r.unwrap_or(0.0);
                let bx = x + slot * 0.1 + bw * k as f64;
                rect(o, bx, y(r), bw, bottom - y(r), c);
            }
        }
        for (limit, name) in [
            (HARD_EXCELLENT, "hard 0.5%"),
            (HARD_CRITICAL, "hard 2%"),
            (SOFT_WARNING, "soft/overall 5%"),
        ] {
            let _ = write!(
                o,
                "<line x1=\"{left}\" x2=\"{right}\" y1=\"{v:.1}\" \
                 y2=\"{v:.1}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>",
                v = y(limit)
            );
            text(o, right, y(limit) - 2.0, "end", name);
        }
    } else {
        legend(
            o,
            &[(HARD, "hard"), (SOFT, "soft"), (COMPLAINT, "complaints")],
        );
        let top_count = weeks
            .iter()
            .map(|w| w.rates.hard + w.rates.soft + w.rates.complaints)
            .max()
            .unwrap_or(0);
        let max = nice(top_count as f64);
        y_axis(o, max, |v| format!("{v:.0}"));
        let h = |c: i64| (bottom - top) * c as f64 / max;
        for (i, w) in weeks.iter().enumerate() {
            let x = left + slot * i as f64 + slot * 0.1;
            let mut base = bottom;
            for (c, colour) in [
                (w.rates.hard, HARD),
                (w.rates.soft, SOFT),
                (w.rates.complaints, COMPLAINT),
            ] {
                rect(o, x, base - h(c), slot * 0.8, h(c), colour);
                base -= h(c);
            }
        }
    }
    for (i, w) in weeks.iter().enumerate() {
        if i % label_every == 0 {
            let x = left + slot * (i as f64 + 0.5);
            text(o, x, bottom + 14.0, "middle", &w.week);
        }
    }
    let note = if skip > 0 {
        format!(
            "The latest {} of {} weeks with events (weeks start on Monday).",
            weeks.len(),
            s.weekly.len()
        )
    } else {
        format!("{} weeks with events (weeks start on Monday).", weeks.len())
    };
    close_chart(o, &note);
}

/// A horizontal bar chart: (label, value, value text) rows.
fn hbars(o: &mut String, rows: &[(String, f64, String)], colour: &str) {
    let (left, right, top) = (170.0, W - 80.0, 8.0);
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let band = ((H - top) / MAX_BARS as f64).min(28.0);
    for (i, (label, v, shown)) in rows.iter().enumerate() {
        let y = top + band * i as f64;
        text(o, left - 6.0, y + band * 0.6, "end", &clip(label, 26));
        let w = (right - left) * v / max;
        rect(o, left, y + band * 0.15, w.max(1.0), band * 0.7, colour);
        text(o, left + w + 4.0, y + band * 0.6, "start", shown);
    }
}

fn reasons(o: &mut String, s: &Stats) {
    open_chart(o, "reasons", "Reason distribution");
    let rows: Vec<(String, f64, String)> = s
        .reasons
        .iter()
        .take(MAX_BARS)
        .map(|r| {
            (
                r.reason.clone(),
                r.count as f64,
                format!("{} · {:.1}%", r.count, r.share * 100.0),
            )
        })
        .collect();
    hbars(o, &rows, REASON);
    let more = s.reasons.len().saturating_sub(MAX_BARS);
    let note = if more > 0 {
        format!("{more} more reasons in the table below.")
    } else {
        "Bounces, complaints and unsubscribes by fine reason.".to_string()
    };
    close_chart(o, &note);
}

fn providers(o: &mut String, s: &Stats) {
    open_chart(o, "providers", "Soft bounces by provider");
    let mut list: Vec<_> = s.providers.iter().filter(|p| p.soft > 0).collect();
    list.truncate(MAX_BARS);
    let rows: Vec<(String, f64, String)> = list
        .iter()
        .map(|p| {
            let name = p.provider.as_deref().unwrap_or("(unknown)");
            let shown = match p.soft_rate {
                Some(r) => format!(
                    "{} · {} {}",
                    p.soft,
                    pct(Some(r)),
                    p.soft_rating.unwrap_or("")
                ),
                None => p.soft.to_string(),
            };
            (name.to_string(), p.soft as f64, shown)
        })
        .collect();
    hbars(o, &rows, PROVIDER);
    let note = if rows.is_empty() {
        "No soft bounces."
    } else {
        "Rate over its sends when imported (> 5% is a warning)."
    };
    close_chart(o, note);
}

fn campaigns(o: &mut String, s: &Stats) {
    open_chart(o, "campaigns", "Campaigns against the health thresholds");
    let mut list: Vec<&Rates> =
        s.campaigns.iter().filter(|c| c.sent > 0).collect();
    list.sort_by(|a, b| {
        b.bounce_rate
            .partial_cmp(&a.bounce_rate)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    list.truncate(MAX_BARS);
    let (left, right, top, bottom) = (150.0, W - 100.0, 36.0, H - 24.0);
    let top_rate = list
        .iter()
        .filter_map(|c| c.bounce_rate)
        .fold(OVERALL_CRITICAL * 1.2, f64::max);
    let max = nice(top_rate);
    let x = |r: f64| left + (right - left) * (r / max).min(1.0);
    // Hard-rate bands: excellent, warning, critical.
    rect(o, x(0.0), top, x(HARD_EXCELLENT) - x(0.0), bottom - top, "#d5f5e3");
    rect(
        o,
        x(HARD_EXCELLENT),
        top,
        x(HARD_CRITICAL) - x(HARD_EXCELLENT),
        bottom - top,
        "#fcf3cf",
    );
    rect(
        o,
        x(HARD_CRITICAL),
        top,
        x(max) - x(HARD_CRITICAL),
        bottom - top,
        "#fadbd8",
    );
    let _ = write!(
        o,
        "<line x1=\"{v:.1}\" x2=\"{v:.1}\" y1=\"{top}\" y2=\"{bottom}\" \
         stroke=\"#555\" stroke-dasharray=\"4 3\"/>",
        v = x(OVERALL_CRITICAL)
    );
    text(o, x(OVERALL_CRITICAL), bottom + 14.0, "middle", "5% soft/overall");
    text(o, x(HARD_EXCELLENT), top - 4.0, "end", "0.5%");
    text(o, x(HARD_CRITICAL), top - 4.0, "start", "2%");
    text(o, right, bottom + 14.0, "start", &format!("{:.0}%", max * 100.0));
    legend(
        o,
        &[(CAMPAIGN_HARD, "hard rate"), (CAMPAIGN_OVERALL, "overall rate")],
    );
    let band = ((bottom - top) / MAX_BARS as f64).min(26.0);
    for (i, c) in list.iter().enumerate() {
        let y = top + band * i as f64;
        let name = c.campaign.as_deref().unwrap_or("(none)");
        text(o, left - 6.0, y + band * 0.6, "end", &clip(name, 22));
        let (hard, all) =
            (c.hard_rate.unwrap_or(0.0), c.bounce_rate.unwrap_or(0.0));
        rect(
            o,
            left,
            y + band * 0.1,
            (x(all) - left).max(1.0),
            band * 0.38,
            CAMPAIGN_OVERALL,
        );
        rect(
            o,
            left,
            y + band * 0.5,
            (x(hard) - left).max(1.0),
            band * 0.38,
            CAMPAIGN_HARD,
        );
        let rating = c.hard_rating.unwrap_or("");
        let worst = if c.overall_rating == Some("critical") {
            "critical"
        } else {
            rating
        };
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"{worst}\">{} {}</text>",
            right + 4.0,
            y + band * 0.6,
            pct(c.hard_rate),
            escape(rating)
        );
    }
    let note = if list.is_empty() {
        "No campaign with imported sends: rates need `rebound import-sends`."
    } else {
        "Hard rate bands: < 0.5% excellent, 0.5-2% warning, > 2% critical; dashed: 5% limit."
    };
    close_chart(o, note);
}

fn rates_row(o: &mut String, name: &str, r: &Rates) {
    let rated = |v: Option<f64>, rating: Option<&str>| match rating {
        Some(x) => format!("<td class=\"{x}\">{} {x}</td>", pct(v)),
        None => format!("<td>{}</td>", pct(v)),
    };
    let _ = write!(
        o,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}{}{}<td>{}</td></tr>",
        escape(name),
        r.sent,
        r.hard,
        r.soft,
        r.complaints,
        rated(r.hard_rate, r.hard_rating),
        rated(r.soft_rate, r.soft_rating),
        rated(r.bounce_rate, r.overall_rating),
        pct(r.complaint_rate),
    );
}

const RATES_HEAD: &str = "<th>sent</th><th>hard</th><th>soft</th>\
<th>complaints</th><th>hard rate</th><th>soft rate</th><th>overall</th><th>complaint rate</th></tr>";

fn tables(o: &mut String, s: &Stats) {
    let _ = write!(
        o,
        "<h2>Campaigns</h2><table><tr><th>campaign</th>{RATES_HEAD}"
    );
    for c in &s.campaigns {
        rates_row(o, c.campaign.as_deref().unwrap_or("(none)"), c);
    }
    rates_row(o, "TOTAL", &s.totals);
    o.push_str("</table><h2>Soft bounces by provider</h2><table><tr><th>provider</th><th>soft</th><th>bounces</th><th>sent</th><th>soft rate</th></tr>");
    for p in &s.providers {
        let rating = p.soft_rating.unwrap_or("");
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{rating}\">{} {rating}</td></tr>",
            escape(p.provider.as_deref().unwrap_or("(unknown)")),
            p.soft,
            p.bounces,
            p.sent,
            pct(p.soft_rate),
        );
    }
    o.push_str("</table><h2>Reasons</h2><table><tr><th>reason</th><th>class</th><th>count</th><th>share</th></tr>");
    for r in &s.reasons {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}%</td></tr>",
            escape(&r.reason),
            escape(r.class_name),
            r.count,
            r.share * 100.0
        );
    }
    let _ = write!(
        o,
        "</table><h2>Weekly trend</h2><table><tr><th>week</th>{RATES_HEAD}"
    );
    for w in &s.weekly {
        rates_row(o, &w.week, &w.rates);
    }
    let r = &s.retry;
    let t = &s.time_to_bounce;
    let _ = write!(
        o,
        "</table><p class=\"note\">Retry: {} addresses soft-bounced, {} delivered later ({}), {} escalated to suppression. \
         Time to bounce ({} bounces tied to a send): {} immediate (&lt; 1 h), {} delayed.</p>",
        r.soft_bounced,
        r.recovered,
        pct(r.success_rate),
        r.escalated,
        t.linked,
        t.immediate,
        t.delayed
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(nice(0.061), 0.1);
        assert_eq!(nice(7.0), 10.0);
    }
}
