//! The tag=value lists of DKIM key records (RFC 6376 section 3.2) and DMARC
//! records (RFC 7489 section 6.4, which uses the same syntax): tags
//! separated by `;`, white space around names and values ignored, a tag
//! name a letter followed by letters, digits and `_`, and a list with the
//! same tag twice invalid as a whole.

/// The tags of `text` in order, or why the list is malformed.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for spec in text.split(';') {
        if spec.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = spec.split_once('=') else {
            return Err(format!("{:?} is not tag=value", spec.trim()));
        };
        let name = name.trim();
        let valid_name =
            name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(format!("{name:?} is not a tag name"));
        }
        let value = value.trim();
        if let Some(bad) = value.chars().find(|c| {
            !(c.is_ascii_graphic() || c.is_ascii_whitespace()) || *c == ';'
        }) {
            return Err(format!("tag {name} holds the character {bad:?}"));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("tag {name} appears twice"));
        }
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

/// The value of tag `name` in `tags`; DKIM tag names are case-sensitive
/// (RFC 6376 section 3.2).
pub(crate) fn get<'a>(
    tags: &'a [(String, String)],
    name: &str,
) -> Option<&'a str> {
    tags.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The value of tag `name` in any case; DMARC's are not case-sensitive
/// (RFC 7489 section 6.4, ABNF literals).
pub(crate) fn get_any_case<'a>(
    tags: &'a [(String, String)],
    name: &str,
) -> Option<&'a str> {
    tags.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_in_order_with_white_space_ignored() {
        let t = parse(" v = DKIM1 ;k=rsa; p=MIGf MA0 ;").unwrap();
        assert_eq!(
            t,
            [
                ("v".to_string(), "DKIM1".to_string()),
                ("k".into(), "rsa".into()),
                ("p".into(), "MIGf MA0".into())
            ]
        );
        assert_eq!(get(&t, "P"), None);
        assert_eq!(get_any_case(&t, "P"), Some("MIGf MA0"));
        assert_eq!(get(&t, "t"), None);
    }

    #[test]
    fn malformed_lists_say_why() {
        assert!(parse("v=DKIM1; p").unwrap_err().contains("not tag=value"));
        assert!(parse("p=a; p=b").unwrap_err().contains("twice"));
        assert!(parse("1x=a").unwrap_err().contains("not a tag name"));
        assert!(parse("p=a\u{e9}").unwrap_err().contains("character"));
    }
}
