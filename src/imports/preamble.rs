//! Inspection facts in a document's opening: "…2024年5月24日至7月24日，区委第三巡察组对…进行了
//! 巡察，2024年9月10日反馈了巡察意见。", its title line, and the totals it states
//! ("反馈问题4大类8个方面26个问题", "共25个问题").
//!
//! Dates come from the narrative only: a period is a date followed by 至/到/— and a second
//! date, the feedback date is a date in a sentence that speaks of 反馈. Metadata lines
//! ("发布时间：2024-10-15", "来源：", a date alone on its line, the publication date) are
//! skipped, so a page's publication date never becomes `started_on`.

use chinese_number::{ChineseCountMethod, ChineseToNumber};
use chrono::NaiveDate;

/// What the opening says, where it says it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Preamble {
    /// The document's own title (its first line, when that reads as a title).
    pub title: Option<String>,
    pub inspecting_body: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    /// The totals the document states, if it does.
    pub stated: Option<Stated>,
}

/// "N大类M个方面K个问题" or "共K个问题", and the line (from 1) that says it.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Stated {
    pub line: usize,
    pub categories: Option<u32>,
    pub aspects: Option<u32>,
    pub problems: u32,
}

/// Suffixes of the bodies that inspect, audit or supervise, longest first.
const BODIES: [&str; 12] = [
    "巡察组",
    "巡视组",
    "督察组",
    "督查组",
    "审计署",
    "审计厅",
    "审计局",
    "纪委监委",
    "检查组",
    "考核组",
    "督导组",
    "调研组",
];

/// Words of a metadata line: a web page's or a file's, not the narrative's.
const METADATA: [&str; 14] = [
    "发布时间",
    "发布日期",
    "成文日期",
    "来源",
    "浏览",
    "点击",
    "字号",
    "作者",
    "索引号",
    "文号",
    "发布机构",
    "时间:",
    "时间：",
    "日期",
];

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

/// Whether a line is metadata rather than narrative.
fn is_metadata(line: &str) -> bool {
    let line = line.trim();
    let chars: Vec<char> = line.chars().collect();
    let only_a_date = chars.len() <= 12 && date_at(&chars, None).is_some_and(|(_, len)| len == chars.len());
    only_a_date || (chars.len() <= 60 && METADATA.iter().any(|m| line.contains(m)))
}

/// Reads the facts from the text before the first numbered heading, the title from the first
/// line, and the stated totals from wherever the document states them first.
pub fn read(text: &str) -> Preamble {
    let lines: Vec<&str> = text.lines().collect();
    // The opening: the lines before the first heading, and the text of a "基本情况" part.
    let mut opening: Vec<&str> =
        lines.iter().copied().take_while(|l| !super::text::is_heading(l)).filter(|l| !is_metadata(l)).collect();
    if let Some(at) =
        lines.iter().position(|l| super::text::is_heading(l) && (l.contains("基本情况") || l.contains("总体情况")))
    {
        opening.extend(lines[at + 1..].iter().copied().take_while(|l| !super::text::is_heading(l)));
    }
    let mut p = Preamble { title: title(&lines), stated: stated(&lines), ..Preamble::default() };
    for sentence in opening.join("").split(['。', '；', ';']) {
        dates(sentence, &mut p);
    }
    // The most specific name wins: "县委第三巡察组" in the narrative over "县委巡察组" in a title.
    p.inspecting_body = opening.iter().flat_map(|l| bodies(l)).max_by_key(|b| b.chars().count());
    p
}

/// The period (a date, 至/到/—, a date) and the feedback date (in a sentence about 反馈) of one
/// sentence.
fn dates(sentence: &str, p: &mut Preamble) {
    let chars: Vec<char> = sentence.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit());
        // A date without its year takes the period's ("6月20日" after "2024年3月1日至5月10日").
        let year = p.started_on.map(|d| chrono::Datelike::year(&d));
        let Some((date, len)) = starts.then(|| date_at(&chars[i..], year)).flatten() else {
            i += 1;
            continue;
        };
        let after = i + len;
        let joined = chars.get(after).is_some_and(|c| "至到—–-~～".contains(*c));
        let second = if joined { date_at(&chars[after + 1..], Some(chrono::Datelike::year(&date))) } else { None };
        match second {
            Some((end, len2)) if p.started_on.is_none() && end >= date => {
                p.started_on = Some(date);
                p.ended_on = Some(end);
                i = after + 1 + len2;
            }
            _ => {
                if p.feedback_on.is_none() && sentence.contains("反馈") {
                    p.feedback_on = Some(date);
                }
                i = after;
            }
        }
    }
}

/// The inspecting bodies named in a line: runs of name characters ending in one of [`BODIES`].
fn bodies(line: &str) -> Vec<String> {
    BODIES
        .iter()
        .flat_map(|suffix| line.match_indices(suffix).filter_map(|(at, _)| body_at(line, at, suffix)))
        .collect()
}

/// The name that ends with `suffix` at byte `at` of `line`.
fn body_at(line: &str, at: usize, suffix: &str) -> Option<String> {
    let stop = |c: char| {
        c.is_ascii_digit()
            || c.is_whitespace()
            || c.is_ascii_punctuation()
            || "，。；：、（）“”《》年月日至到对于向在由经据照从".contains(c)
    };
    let before = &line[..at];
    let start = before.char_indices().rev().find(|&(_, c)| stop(c)).map_or(0, |(j, c)| j + c.len_utf8());
    let name = format!("{}{suffix}", &before[start..]);
    (name.chars().count() <= 24).then_some(name)
}

/// The first non-blank line, when it reads as the document's title: short, no sentence in
/// it, no heading number, and about rectification.
fn title(lines: &[&str]) -> Option<String> {
    let first =
        lines.iter().map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')).find(|l| !l.is_empty())?;
    let short = first.chars().count() <= 80;
    let sentence = first.contains(['。', '，', ',', '；']);
    (short && !sentence && !super::text::is_heading(first) && first.contains("整改")).then(|| first.to_owned())
}

/// A number written in digits or Chinese numerals ending just before byte `end` of `s`.
fn number_before(s: &str, end: usize) -> Option<u32> {
    let before = &s[..end];
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_ascii_digit() || "〇零一二三四五六七八九十百两".contains(c))
        .last()
        .map(|(i, _)| i)?;
    let raw = &before[start..];
    if raw.chars().all(|c| c.is_ascii_digit()) {
        return raw.parse().ok();
    }
    let raw = raw.replace('两', "二");
    ChineseToNumber::<u32>::to_number(&raw, ChineseCountMethod::TenThousand).ok()
}

/// The first statement of the totals: a problem count (`K个问题`, `K项问题`, `K条问题`) said
/// with categories or aspects, or after 共 or 反馈.
fn stated(lines: &[&str]) -> Option<Stated> {
    lines.iter().enumerate().find_map(|(index, line)| {
        let (at, _) = ["个问题", "项问题", "条问题"].iter().filter_map(|m| line.find(m).map(|i| (i, *m))).min()?;
        let problems = number_before(line, at)?;
        let count_of = |marker: &str| line[..at].find(marker).and_then(|i| number_before(line, i));
        let (categories, aspects) = (count_of("大类"), count_of("个方面"));
        let before = &line[..at];
        let said = categories.is_some() || aspects.is_some() || before.contains('共') || before.contains("反馈");
        said.then_some(Stated { line: index + 1, categories, aspects, problems })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn reads_the_fixture_opening() {
        let p = read(include_str!("../../tests/fixtures/yangling-approval-bureau-2024.txt"));
        assert_eq!(p.inspecting_body.as_deref(), Some("区委第三巡察组"));
        assert_eq!(p.started_on, date(2024, 5, 24));
        assert_eq!(p.ended_on, date(2024, 7, 24));
        assert_eq!(p.feedback_on, date(2024, 9, 10));
        assert_eq!(p.stated, Some(Stated { line: 4, categories: Some(4), aspects: Some(8), problems: 26 }));
        assert_eq!(p.title, None, "the fixture has no title line");
    }

    #[test]
    fn tolerates_openings_without_facts() {
        assert_eq!(read("一、问题\n(1)某问题"), Preamble::default());
        assert_eq!(read("2024年13月40日至"), Preamble::default());
    }

    #[test]
    fn metadata_dates_are_not_the_inspection_period() {
        let text = "关于巡视反馈意见整改进展情况的通报\n发布时间：2024年10月15日  来源：区纪委\n2024年10月15日\n\
                    根据省委统一部署，2024年3月1日至5月10日，省委第二巡视组对我县进行了常规巡视。\
                    6月20日，省委第二巡视组向我县反馈了巡视意见，共反馈问题三十二个问题。\n一、整改工作情况\n";
        let p = read(text);
        assert_eq!(p.started_on, date(2024, 3, 1));
        assert_eq!(p.ended_on, date(2024, 5, 10));
        assert_eq!(p.feedback_on, date(2024, 6, 20), "the year is the period's");
        assert_eq!(p.inspecting_body.as_deref(), Some("省委第二巡视组"));
        assert_eq!(p.title.as_deref(), Some("关于巡视反馈意见整改进展情况的通报"));
        assert_eq!(p.stated.map(|s| (s.line, s.problems)), Some((4, 32)));
    }

    #[test]
    fn feedback_dates_within_the_sentence_and_other_bodies() {
        let p = read(
            "2023年4月10日至6月30日区审计局对区农业农村局进行了审计。2023年8月2日，区审计局向该局反馈了审计发现的问题。\n1.问题",
        );
        assert_eq!(p.inspecting_body.as_deref(), Some("区审计局"));
        assert_eq!((p.started_on, p.ended_on), (date(2023, 4, 10), date(2023, 6, 30)));
        assert_eq!(p.feedback_on, date(2023, 8, 2));
        let p = read("中央第三生态环境保护督察组于2023年11月20日至12月20日进驻我省。\n一、问题");
        assert_eq!(p.inspecting_body.as_deref(), Some("中央第三生态环境保护督察组"));
        assert_eq!(p.started_on, date(2023, 11, 20));
    }

    #[test]
    fn stated_totals_in_digits_and_numerals() {
        let s = |t: &str| stated(&t.lines().collect::<Vec<_>>());
        assert_eq!(
            s("反馈意见四大类十二个方面三十五个问题").map(|s| (s.categories, s.aspects, s.problems)),
            Some((Some(4), Some(12), 35))
        );
        assert_eq!(s("一、基本情况\n共25个问题，已整改23个").map(|s| (s.line, s.problems)), Some((2, 25)));
        assert_eq!(s("发现3个问题"), None, "a count said in passing is not the document's total");
    }
}
