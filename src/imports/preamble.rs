//! Inspection facts in a document's opening paragraph: "…2024年5月24日至7月24日，
//! 区委第三巡察组对…进行了巡察，2024年9月10日反馈了巡察意见。"

use chrono::NaiveDate;

/// What the opening paragraph says, where it says it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Preamble {
    pub inspecting_body: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
}

/// A date written `2024年5月24日` (or `5月24日` with `year` known) at the start of `s`, and its length in chars.
fn date_at(s: &[char], year: Option<i32>) -> Option<(NaiveDate, usize)> {
    let mut i = 0;
    let number = |i: &mut usize| {
        let start = *i;
        while *i < s.len() && s[*i].is_ascii_digit() && *i - start < 4 {
            *i += 1;
        }
        (start < *i).then(|| s[start..*i].iter().collect::<String>().parse::<i32>().ok()).flatten()
    };
    let first = number(&mut i)?;
    let (y, m) = if s.get(i) == Some(&'年') {
        i += 1;
        let m = number(&mut i)?;
        (first, m)
    } else {
        (year?, first)
    };
    if s.get(i) != Some(&'月') {
        return None;
    }
    i += 1;
    let d = number(&mut i)?;
    if s.get(i) != Some(&'日') {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m as u32, d as u32).map(|date| (date, i + 1))
}

/// Reads the facts from the text before the first numbered part.
pub fn read(text: &str) -> Preamble {
    let opening: String = text.lines().take_while(|l| !l.trim_start().starts_with("一、")).collect::<Vec<_>>().join("");
    let chars: Vec<char> = opening.chars().collect();
    let mut p = Preamble::default();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            if let Some((date, len)) = date_at(&chars[i..], p.started_on.map(|d| chrono::Datelike::year(&d))) {
                let after: String = chars[i + len..].iter().take(3).collect();
                if p.started_on.is_none() && !after.starts_with("反馈") {
                    p.started_on = Some(date);
                } else if p.started_on.is_some() && p.ended_on.is_none() && chars[..i].ends_with(&['至']) {
                    p.ended_on = Some(date);
                } else if after.starts_with("反馈") && p.feedback_on.is_none() {
                    p.feedback_on = Some(date);
                }
                i += len;
                continue;
            }
        }
        i += 1;
    }
    if let Some(end) = opening.find("巡察组") {
        let before = &opening[..end];
        let start = before
            .rfind(['，', ',', '。', '；', ' '])
            .map(|j| j + before[j..].chars().next().map_or(1, char::len_utf8))
            .unwrap_or(0);
        let body = format!("{}巡察组", &opening[start..end]);
        if body.chars().count() <= 20 {
            p.inspecting_body = Some(body);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fixture_opening() {
        let p = read(include_str!("../../tests/fixtures/yangling-approval-bureau-2024.txt"));
        assert_eq!(p.inspecting_body.as_deref(), Some("区委第三巡察组"));
        assert_eq!(p.started_on, NaiveDate::from_ymd_opt(2024, 5, 24));
        assert_eq!(p.ended_on, NaiveDate::from_ymd_opt(2024, 7, 24));
        assert_eq!(p.feedback_on, NaiveDate::from_ymd_opt(2024, 9, 10));
    }

    #[test]
    fn tolerates_openings_without_facts() {
        assert_eq!(read("一、问题\n(1)某问题"), Preamble::default());
        assert_eq!(read("2024年13月40日至"), Preamble::default());
    }
}
