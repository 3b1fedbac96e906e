//! Mailbox names on the wire: IMAP4rev1 names mailboxes in "modified
//! UTF-7" (RFC 3501 section 5.1.3). Printable ASCII stands for itself
//! except `&`, which is written `&-`; every run of other characters is
//! written `&` + the modified base64 (alphabet `A-Za-z0-9+,`, no padding)
//! of its UTF-16BE code units + `-`. Configured names are Unicode
//! (`Zurückgewiesen`); the server gets `Zur&APw-ckgewiesen`.

/// The modified base64 alphabet (`,` instead of `/`).
const ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// The modified UTF-7 form of a mailbox name.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut units = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Writes a pending run of non-ASCII UTF-16 units as `&...-`.
fn flush(run: &mut Vec<u16>, out: &mut String) {
    if run.is_empty() {
        return;
    }
    let bytes: Vec<u8> = run.drain(..).flat_map(u16::to_be_bytes).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let sextets = [
            b[0] >> 2,
            (b[0] & 0x03) << 4 | b[1] >> 4,
            (b[1] & 0x0f) << 2 | b[2] >> 6,
            b[2] & 0x3f,
        ];
        // 1 byte gives 2 characters, 2 give 3, 3 give 4 (no padding).
        for s in &sextets[..=chunk.len()] {
            out.push(ALPHABET[usize::from(*s)] as char);
        }
    }
    out.push('-');
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn ascii_names_are_unchanged_but_ampersands() {
        assert_eq!(encode("INBOX"), "INBOX");
        assert_eq!(encode("Bounces/Processed 2026"), "Bounces/Processed 2026");
        assert_eq!(encode("Tom & Jerry"), "Tom &- Jerry");
    }

    #[test]
    fn the_examples_of_rfc_3501() {
        // RFC 3501 section 5.1.3.
        assert_eq!(
            encode("~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
    }

    #[test]
    fn runs_of_every_length_and_surrogate_pairs() {
        assert_eq!(encode("Zurückgewiesen"), "Zur&APw-ckgewiesen");
        assert_eq!(encode("Gelöschte Elemente"), "Gel&APY-schte Elemente");
        assert_eq!(encode("Возвраты"), "&BBIEPgQ3BDIEQAQwBEIESw-");
        assert_eq!(encode("Entwürfe/Ärger"), "Entw&APw-rfe/&AMQ-rger");
        // Outside the BMP: one surrogate pair (U+1F4E7 E-MAIL SYMBOL).
        assert_eq!(encode("\u{1f4e7}"), "&2D3c5w-");
    }
}
