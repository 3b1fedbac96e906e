//! Text for people: counts with their noun in the right number, and
//! tables with a header line and columns as wide as their widest cell.

use std::fmt::Display;
use std::io::Write;

/// `n` and its noun, singular for 1 (`1 report`, `2 reports`); `noun` is
/// the singular, its plural takes an `s` (`es` after s, x, ch and sh).
pub fn count<N: Display + TryInto<i64> + Copy>(n: N, noun: &str) -> String {
    if n.try_into().ok() == Some(1) {
        return format!("1 {noun}");
    }
    let es = ["s", "x", "ch", "sh"].iter().any(|e| noun.ends_with(e));
    format!("{n} {noun}{}", if es { "es" } else { "s" })
}

/// How many messages were not bounces (`1 not a bounce`, `2 not
/// bounces`).
pub fn not_bounces<N: Display + TryInto<i64> + Copy>(n: N) -> String {
    if n.try_into().ok() == Some(1) {
        return "1 not a bounce".into();
    }
    format!("{n} not bounces")
}

/// A table: a header line, then one line per row, the columns separated
/// by two spaces; numbers (and the other right-aligned columns) to the
/// right.
pub struct Table {
    head: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns; a column whose name starts with `>`
    /// is right-aligned (the `>` is not shown).
    pub fn new(columns: &[&'static str]) -> Table {
        Table {
            head: columns.iter().map(|c| c.trim_start_matches('>')).collect(),
            right: columns.iter().map(|c| c.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (one cell per column).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut widths: Vec<usize> =
            self.head.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut s = String::new();
            for (i, c) in cells.enumerate() {
                let w = widths[i];
                if i > 0 {
                    s.push_str("  ");
                }
                if self.right[i] {
                    s.push_str(&format!("{c:>w$}"));
                } else {
                    s.push_str(&format!("{c:<w$}"));
                }
            }
            s.trim_end().to_string()
        };
        writeln!(out, "{}", line(&mut self.head.iter().copied()))?;
        for row in &self.rows {
            writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_right_number() {
        assert_eq!(count(1, "report"), "1 report");
        assert_eq!(count(0, "report"), "0 reports");
        assert_eq!(count(2, "address"), "2 addresses");
        assert_eq!(count(1, "address"), "1 address");
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let mut t = Table::new(&["NAME", ">N"]);
        t.row(vec!["a-very-long-campaign-id".into(), "7".into()]);
        t.row(vec!["b".into(), "1234".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let ends: Vec<usize> = text.lines().map(str::len).collect();
        assert_eq!(ends, [ends[0]; 3], "{text}");
        assert!(text.starts_with("NAME "), "{text}");
    }
}
