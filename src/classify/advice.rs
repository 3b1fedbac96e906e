//! Operator advice per reason: a short root cause and the next steps, as
//! data, for `rebound explain`. The texts follow the policy
//! (`docs/policy.md`: suppression and retry, sender-side failures) and the
//! RFCs behind each reason.

use crate::model::Reason;

/// What a reason means for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    /// The reason it applies to.
    pub reason: Reason,
    /// Why this happens, in one sentence.
    pub root_cause: &'static str,
    /// What to do, in order.
    pub next_steps: &'static [&'static str],
}

const SUPPRESS: &str = "Suppress the address: do not mail it again.";
const RETRY_1H: &str =
    "Retry after 1 h; 5 soft bounces over the retry schedule suppress it.";
const RETRY_4H: &str = "Slow down: lower the sending rate and connections \
     to this provider, then retry after 4 h.";
const BLOCKLISTS: &str = "Look the sending IP and domain up on the \
     blocklists: Spamhaus (ZEN, DBL), Barracuda (BRBL), SpamCop, SORBS, \
     UCEPROTECT, and the provider's own list named in the reply.";
const PAUSE: &str = "Pause sending to this provider until the cause is \
     fixed; keep the recipients (do not suppress them).";
const AUTH: &str = "Check the SPF TXT record of the envelope (Return-Path) \
     domain lists every sending IP, the DKIM selector record \
     (<selector>._domainkey.<domain>) publishes the signing key, and the \
     _dmarc.<domain> record exists.";
const ALIGN: &str = "Check alignment: the From domain must match the DKIM \
     d= domain or the SPF (Return-Path) domain for DMARC to pass.";

/// One row per reason, in [`Reason::ALL`] order.
#[rustfmt::skip]
pub const ADVICE: &[Advice] = &[
    Advice { reason: Reason::UserUnknown,
        root_cause: "The mailbox does not exist at the receiving domain \
            (RFC 3463 5.1.1): a typo, a deleted account or an old list.",
        next_steps: &[SUPPRESS, "Check how the address was collected \
            (confirmed opt-in catches typos at sign-up)."] },
    Advice { reason: Reason::HasMoved,
        root_cause: "The recipient has moved or closed the account \
            (5.1.6); the address is gone.",
        next_steps: &[SUPPRESS, "Ask the subscriber for a new address \
            through another channel if the contact matters."] },
    Advice { reason: Reason::HostUnknown,
        root_cause: "The recipient domain does not exist or has no mail \
            host (5.1.2, 5.4.4): a typo in the domain or an expired \
            domain.",
        next_steps: &[SUPPRESS, "Look for a typo in the domain \
            (`rebound scrub` suggests the likely one)."] },
    Advice { reason: Reason::NotAccept,
        root_cause: "The recipient domain publishes a null MX \
            (RFC 7505, \"0 .\"): it accepts no mail at all.",
        next_steps: &[SUPPRESS] },
    Advice { reason: Reason::Suspended,
        root_cause: "The mailbox exists but is disabled or suspended \
            (often inactive for a long time).",
        next_steps: &[RETRY_1H, "Treat repeated suspensions as a dead \
            address."] },
    Advice { reason: Reason::NetworkError,
        root_cause: "DNS or network failure between your server and the \
            recipient's (class 21).",
        next_steps: &["Retry after 1 h.", "If it persists for one domain, \
            check its MX and your resolver; for all domains, check your \
            outbound network and DNS."] },
    Advice { reason: Reason::MailboxFull,
        root_cause: "The recipient's mailbox is over quota (5.2.2); it \
            often empties again.",
        next_steps: &["Retry after 24 h.", "Repeated over-quota bounces \
            mean an abandoned mailbox: the escalation policy suppresses \
            it."] },
    Advice { reason: Reason::SystemFull,
        root_cause: "The receiving system is out of storage (4.3.1, \
            452).",
        next_steps: &["Retry after 24 h."] },
    Advice { reason: Reason::MessageTooBig,
        root_cause: "The message is larger than the recipient accepts \
            (5.3.4, 5.2.3).",
        next_steps: &["Shrink the message: link to large attachments \
            instead of attaching them, compress images.", "Retry after \
            1 h with the smaller message."] },
    Advice { reason: Reason::ExceedLimit,
        root_cause: "A size or count limit of the recipient was exceeded \
            (too many recipients, 552).",
        next_steps: &["Send fewer recipients per message (one per \
            message for bulk mail).", "Retry after 1 h."] },
    Advice { reason: Reason::Expired,
        root_cause: "The message stayed in the queue until its lifetime \
            ran out (4.4.7): the receiver kept deferring or was \
            unreachable.",
        next_steps: &["Retry after 1 h.", "Look at the earlier delay \
            warnings for the real cause (rate limit, greylisting, \
            network)."] },
    Advice { reason: Reason::Suppressed,
        root_cause: "Your own sending platform refused the recipient \
            because it is already on its suppression list.",
        next_steps: &[SUPPRESS, "Remove it from the list before sending \
            (`rebound scrub`)."] },
    Advice { reason: Reason::BlockedIp,
        root_cause: "The receiver blocks the sending IP address (local \
            block or reputation, 5.7.1 / 554).",
        next_steps: &[BLOCKLISTS, PAUSE, "Request delisting from the \
            provider's postmaster page once the cause is fixed."] },
    Advice { reason: Reason::Blocklisted,
        root_cause: "The sending IP or domain is listed on a DNS \
            blocklist (DNSBL/RBL) that the receiver queries.",
        next_steps: &[BLOCKLISTS, PAUSE, "Find and stop what caused the \
            listing (compromised account, purchased list, spam traps), \
            then request delisting."] },
    Advice { reason: Reason::BadReputation,
        root_cause: "The receiver rates the sender's reputation too low: \
            complaints, spam-trap hits or bounce rates.",
        next_steps: &[PAUSE, "Check complaint and hard-bounce rates \
            (`rebound stats`) and the provider's postmaster tools; mail \
            only engaged recipients while reputation recovers."] },
    Advice { reason: Reason::RequirePtr,
        root_cause: "The sending IP has no reverse DNS (PTR) or it does \
            not match the HELO name and its forward (A) record.",
        next_steps: &["Set a PTR record for the sending IP whose name \
            resolves back to the same IP, and use it as the HELO name.",
            PAUSE] },
    Advice { reason: Reason::AuthFailure,
        root_cause: "SPF, DKIM or DMARC failed for the sending domain \
            (5.7.26, 5.7.1 \"unauthenticated\"): the receiver cannot \
            prove the mail is yours.",
        next_steps: &[AUTH, ALIGN, PAUSE] },
    Advice { reason: Reason::SenderRejected,
        root_cause: "The receiver refused the envelope sender \
            (MAIL FROM): unknown, unresolvable or blocked sender domain.",
        next_steps: &["Check the Return-Path domain resolves (MX or A) \
            and accepts bounces.", AUTH] },
    Advice { reason: Reason::Policy,
        root_cause: "The receiver's policy refused the message (5.7.1 \
            delivery not authorised): a local rule, not the address.",
        next_steps: &["Read the diagnostic for the provider's rule and its \
            help URL.", "Contact the receiving postmaster if the mail is \
            wanted; keep the recipient."] },
    Advice { reason: Reason::SecurityError,
        root_cause: "A security requirement failed (TLS version, \
            certificate, encryption policy).",
        next_steps: &["Check your outbound TLS: a current protocol \
            version, a valid certificate chain, the receiver's MTA-STS \
            or DANE policy."] },
    Advice { reason: Reason::FailedStarttls,
        root_cause: "The receiver requires STARTTLS and the TLS \
            handshake failed or was not offered.",
        next_steps: &["Enable STARTTLS on the sending MTA and check its \
            TLS settings against the receiver."] },
    Advice { reason: Reason::SpamContent,
        root_cause: "The receiver's filter judged the content spam.",
        next_steps: &["Check the content: links to listed domains, URL \
            shorteners, image-only mail, missing List-Unsubscribe \
            header.", "Test with a content checker before the next \
            send; keep the recipients."] },
    Advice { reason: Reason::ContentError,
        root_cause: "The content broke a rule of the receiver (headers, \
            encoding, a forbidden construct).",
        next_steps: &["Check the message against RFC 5322 (headers, \
            line length, encoding) and the rule named in the reply."] },
    Advice { reason: Reason::Virus,
        root_cause: "A virus or a forbidden attachment type was found.",
        next_steps: &["Scan the template and its attachments; send \
            links instead of executable or archive attachments."] },
    Advice { reason: Reason::RelayingDenied,
        root_cause: "The receiving server refused to relay: it is not \
            the mail host of the recipient domain, or your server is not \
            allowed to use it.",
        next_steps: &["Check the recipient domain's MX records and your \
            smarthost / relay authentication."] },
    Advice { reason: Reason::RateLimited,
        root_cause: "You sent faster than the receiver accepts \
            (4.7.0, 4.2.1 \"rate\").",
        next_steps: &[RETRY_4H, "Warm up new IPs gradually."] },
    Advice { reason: Reason::TooManyConnections,
        root_cause: "Too many parallel connections to the receiver.",
        next_steps: &[RETRY_4H] },
    Advice { reason: Reason::Greylisted,
        root_cause: "Greylisting: the receiver defers the first attempt \
            from an unknown sender on purpose.",
        next_steps: &["Retry after 1 h from the same IP (any compliant \
            MTA does this); nothing to fix."] },
    Advice { reason: Reason::Transient,
        root_cause: "A temporary failure with no more specific reason \
            (4xx).",
        next_steps: &[RETRY_1H] },
    Advice { reason: Reason::Filtered,
        root_cause: "The recipient's own filter rejected the message.",
        next_steps: &[RETRY_1H] },
    Advice { reason: Reason::MailerError,
        root_cause: "The receiving program (delivery agent) failed.",
        next_steps: &[RETRY_1H] },
    Advice { reason: Reason::SystemError,
        root_cause: "The receiving system failed (configuration or \
            internal error).",
        next_steps: &[RETRY_1H] },
    Advice { reason: Reason::SyntaxError,
        root_cause: "The receiver rejected an SMTP command or address as \
            malformed (5.5.x, 501).",
        next_steps: &["Check the address syntax and the MTA's SMTP \
            dialogue (`rebound scrub` checks addresses).", RETRY_1H] },
    Advice { reason: Reason::NotCompliant,
        root_cause: "The message is not RFC 5322 compliant (missing \
            Date or Message-ID, duplicate headers, bare LF).",
        next_steps: &["Fix the generated headers (one From, Date, \
            Message-ID; CRLF line ends).", RETRY_1H] },
    Advice { reason: Reason::Failed,
        root_cause: "A permanent failure the receiver did not explain \
            (bare 5xx).",
        next_steps: &[RETRY_1H, "Read the diagnostic; if it repeats, the \
            escalation policy suppresses the address."] },
    Advice { reason: Reason::Undetermined,
        root_cause: "The report could not be understood well enough to \
            classify.",
        next_steps: &[RETRY_1H, concat!("Send the message (anonymised) \
            to the rebound maintainers so a rule can be added: open an \
            issue at ", env!("CARGO_PKG_REPOSITORY"), "/issues.")] },
    Advice { reason: Reason::NoRecipient,
        root_cause: "The bounce names no recipient that can be \
            recovered.",
        next_steps: &["Add VERP (per-recipient Return-Path) or a \
            campaign header to outgoing mail so bounces can be matched."] },
    Advice { reason: Reason::Vacation,
        root_cause: "An out-of-office or vacation auto-reply \
            (RFC 3834), not a failure.",
        next_steps: &["Nothing: the address is fine."] },
    Advice { reason: Reason::Unsubscribe,
        root_cause: "The recipient asked to be unsubscribed.",
        next_steps: &["Suppress the address at once (legal requirement in \
            most countries)."] },
    Advice { reason: Reason::Complaint,
        root_cause: "The recipient marked the mail as spam \
            (ARF report, RFC 5965).",
        next_steps: &[SUPPRESS, "Watch the complaint rate: above 0.1% \
            harms reputation; check consent and frequency."] },
    Advice { reason: Reason::Delivered,
        root_cause: "A success receipt: the message was delivered.",
        next_steps: &["Nothing: it resets the soft-bounce count."] },
];

/// The advice for `reason`.
pub fn advice(reason: Reason) -> Option<&'static Advice> {
    ADVICE.iter().find(|a| a.reason == reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_one_advice_in_order() {
        let reasons: Vec<Reason> = ADVICE.iter().map(|a| a.reason).collect();
        assert_eq!(reasons, Reason::ALL);
        for a in ADVICE {
            assert!(!a.root_cause.is_empty() && !a.next_steps.is_empty());
        }
    }

    #[test]
    fn advice_follows_the_retry_policy() {
        let steps = |r| advice(r).unwrap().next_steps.join(" ");
        assert!(steps(Reason::MailboxFull).contains("24 h"));
        assert!(steps(Reason::RateLimited).contains("4 h"));
        assert!(steps(Reason::UserUnknown).contains("Suppress"));
        let auth = steps(Reason::AuthFailure);
        for w in ["SPF", "_domainkey", "_dmarc", "alignment"] {
            assert!(auth.contains(w), "{w}");
        }
        assert!(steps(Reason::Blocklisted).contains("Spamhaus"));
    }
}
