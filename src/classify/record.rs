//! Writing a decision into a record: the memo that classifies recipients
//! sharing the same evidence once, and what a record without an address
//! becomes.

use super::refine::echoes_recipient;
use super::{Decision, Input, Rules, class_name, decide};
use crate::model::{Action, EventType, Reason, Record, Row};

/// Classifies a row and writes the verdict into its record, with the
/// operator's `local` rules ([`Rules::default`] for none).
pub fn apply(row: &Row, rec: &mut Record, local: &Rules, explain: bool) {
    let input = input_of(row, rec);
    let (d, explained) = settle(decide(&input, local), &input, explain);
    write(d, explained, rec);
}

/// The classifier's input from a row and its record.
fn input_of<'a>(row: &'a Row, rec: &'a Record) -> Input<'a> {
    Input {
        kind: rec.kind,
        status: rec.status.as_deref(),
        reply_code: rec.reply_code.as_deref(),
        diagnostic: rec.diagnostic.as_deref(),
        remote_mta: rec.remote_mta.as_deref(),
        recipient: rec.recipient.as_deref(),
        command: row.command.as_deref(),
        hint: row.reason,
        feedback_type: rec.feedback_type.as_deref(),
    }
}

/// What a decision depends on: the classifier's input, with the recipient
/// reduced to its domain and whether the reply names it first.
type MemoKey = (Option<EventType>, [Option<String>; 7], Option<Reason>, bool);

/// The decisions already made for one message: recipients that share
/// codes, text, command, remote host and domain are classified once.
#[derive(Default)]
pub struct Memo(Vec<(MemoKey, Decision)>);

impl Memo {
    fn key(input: &Input<'_>) -> MemoKey {
        let domain = input.recipient.and_then(|r| r.rsplit_once('@'));
        let own = |v: Option<&str>| v.map(str::to_string);
        (
            input.kind,
            [
                own(input.status),
                own(input.reply_code),
                own(input.diagnostic),
                own(input.remote_mta),
                own(input.command),
                domain.map(|(_, d)| d.to_ascii_lowercase()),
                own(input.feedback_type),
            ],
            input.hint,
            echoes_recipient(input.diagnostic, input.recipient),
        )
    }
}

/// [`apply`], reusing a decision of `memo` made for the same input (and
/// the same `local` rules).
pub fn apply_with(
    row: &Row,
    rec: &mut Record,
    local: &Rules,
    explain: bool,
    memo: &mut Memo,
) {
    let input = input_of(row, rec);
    let key = Memo::key(&input);
    let d = match memo.0.iter().find(|(k, _)| *k == key) {
        Some((_, d)) => d.clone(),
        None => {
            let d = decide(&input, local);
            memo.0.push((key, d.clone()));
            d
        }
    };
    let (d, explained) = settle(d, &input, explain);
    write(d, explained, rec);
}

/// Decision `d` about `input` as it applies to the record, and the
/// explanation of it when asked for.
fn settle(
    mut d: Decision,
    input: &Input<'_>,
    explain: bool,
) -> (Decision, Option<String>) {
    // Without an address there is nothing to suppress or retry: a bounce
    // becomes class 30, a complaint or unsubscribe request is kept (it is
    // counted) but its action is `ignore`.
    if input.recipient.is_none() {
        match input.kind {
            Some(EventType::Bounce) => {
                d.rule = format!("{}+no_recipient", d.rule);
                d.reason = Reason::NoRecipient;
                d.meaning = Reason::NoRecipient.meaning();
            }
            _ if d.meaning.action == Action::Suppress => {
                d.rule = format!("{}+no_recipient", d.rule);
                d.meaning.action = Action::Ignore;
            }
            _ => {}
        }
    }
    let explained = explain.then(|| d.explain(input));
    (d, explained)
}

/// Writes a settled decision into its record.
fn write(d: Decision, explained: Option<String>, rec: &mut Record) {
    if explained.is_some() {
        rec.explain = explained;
    }
    rec.class = d.meaning.class;
    rec.class_name = d.meaning.class.map(|c| class_name(c).to_string());
    rec.category = Some(d.meaning.category);
    rec.reason = Some(d.reason.name().to_string());
    rec.action = Some(d.meaning.action);
    rec.retry_after_secs = d.meaning.retry_after_secs;
    rec.provider = d.provider.map(str::to_string);
    rec.rule = Some(d.rule);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complaint_without_an_address_suppresses_nothing() {
        let row = Row::default();
        let mut rec =
            Record { kind: Some(EventType::Complaint), ..Record::default() };
        apply(&row, &mut rec, &Rules::default(), false);
        assert_eq!(rec.action, Some(Action::Ignore));
        assert_eq!(rec.reason.as_deref(), Some("complaint"));
        rec.recipient = Some("a@example.org".into());
        apply(&row, &mut rec, &Rules::default(), false);
        assert_eq!(rec.action, Some(Action::Suppress));
    }

    #[test]
    fn a_bounce_without_an_address_is_class_30() {
        let mut rec = Record {
            kind: Some(EventType::Bounce),
            status: Some("5.1.1".into()),
            ..Record::default()
        };
        apply(&Row::default(), &mut rec, &Rules::default(), false);
        assert_eq!(
            (rec.class, rec.rule.as_deref()),
            (Some(30), Some("status:5.1.1+no_recipient"))
        );
    }
}
