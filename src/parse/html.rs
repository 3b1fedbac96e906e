//! HTML-only reports (some webmail and appliance notices) turned into the
//! plain text the detectors read.

/// A crude HTML-to-text conversion: tags dropped (block tags become line
/// breaks), common entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let closing = rest[lt + 1..].starts_with('/');
        let tag = rest[lt + 1..lt + gt].trim_start_matches('/');
        let name = &tag[..tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len())];
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if ["br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"]
            .into_iter()
            .any(is)
        {
            out.push('\n');
        } else if is("td") {
            out.push(' ');
        }
        rest = &rest[lt + gt + 1..];
        if !closing && (is("style") || is("script")) {
            // Skip to the closing tag; an unclosed one hides the rest (as
            // in a browser), so the text is scanned once whatever the
            // number of tags.
            rest = find_close(rest, name).map_or("", |e| &rest[e..]);
        }
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Where the closing tag `</name` (any case) starts in `html`.
fn find_close(html: &str, name: &str) -> Option<usize> {
    let b = html.as_bytes();
    memchr::memmem::find_iter(b, b"</").find(|&i| {
        b.get(i + 2..i + 2 + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text("<p>a&amp;b</p><style>x{}</style>c"),
            "\na&b\nc"
        );
    }
}
