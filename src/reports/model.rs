//! The published report (整改情况公布) in the fixture's structure: a summary
//! sentence computed from the ledger, then every category, aspect and
//! problem with its 整改情况. Pure code: a model, and three renderings.

use chinese_number::{ChineseCase, ChineseCountMethod, ChineseVariant, NumberToChinese};
use serde::{Deserialize, Serialize};

use crate::findings::model::FindingStatus;

/// What a report shows; stored as the snapshot when an inspection is published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportModel {
    pub title: String,
    pub inspecting_body: String,
    pub inspected_unit: String,
    pub categories: Vec<ReportSection>,
    /// Problems filed under no section.
    pub unsectioned: Vec<ReportFinding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSection {
    pub title: String,
    pub level: i32,
    pub children: Vec<ReportSection>,
    pub findings: Vec<ReportFinding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFinding {
    pub seq: i32,
    pub title: String,
    pub status: FindingStatus,
    pub outcome: Option<String>,
    pub blocked_reason: Option<String>,
    pub long_term: bool,
}

/// The output formats of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportFormat {
    #[default]
    Markdown,
    Html,
    Text,
}

impl ReportFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "markdown" | "md" => Some(Self::Markdown),
            "html" => Some(Self::Html),
            "text" | "txt" => Some(Self::Text),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
            Self::Text => "text/plain; charset=utf-8",
        }
    }
}

/// `1` → `一`, `12` → `十二`.
pub fn chinese(n: usize) -> String {
    (n as u64)
        .to_chinese(ChineseVariant::Simple, ChineseCase::Lower, ChineseCountMethod::TenThousand)
        .unwrap_or_else(|_| n.to_string())
}

impl ReportModel {
    fn all_findings(&self) -> Vec<&ReportFinding> {
        fn walk<'a>(s: &'a ReportSection, out: &mut Vec<&'a ReportFinding>) {
            out.extend(s.findings.iter());
            for c in &s.children {
                walk(c, out);
            }
        }
        let mut out: Vec<&ReportFinding> = Vec::new();
        for c in &self.categories {
            walk(c, &mut out);
        }
        out.extend(self.unsectioned.iter());
        out
    }

    fn count_sections(&self, level: i32) -> usize {
        fn walk(s: &ReportSection, level: i32) -> usize {
            usize::from(s.level == level) + s.children.iter().map(|c| walk(c, level)).sum::<usize>()
        }
        self.categories.iter().map(|c| walk(c, level)).sum()
    }

    /// "…反馈问题4大类8个方面26个问题，其中24个已整改到位，2个系政务系统问题，等待省上统一安排。"
    pub fn summary(&self) -> String {
        let findings = self.all_findings();
        let (categories, aspects) = (self.count_sections(1), self.count_sections(2));
        let mut s = format!("{}巡察整改反馈问题", self.inspected_unit);
        if categories > 0 {
            s.push_str(&format!("{categories}大类"));
        }
        if aspects > 0 {
            s.push_str(&format!("{aspects}个方面"));
        }
        s.push_str(&format!("{}个问题", findings.len()));
        let closed = findings.iter().filter(|f| f.status == FindingStatus::Closed).count();
        let mut parts = vec![format!("{closed}个已整改到位")];
        // Blocked problems are counted apart, grouped by their reason, in first-seen order.
        let mut reasons: Vec<(String, usize)> = Vec::new();
        for f in findings.iter().filter(|f| f.status == FindingStatus::Blocked) {
            let reason = f.blocked_reason.as_deref().unwrap_or("").trim().trim_end_matches('。').to_owned();
            let reason = if reason.is_empty() { "暂无法独立完成".to_owned() } else { reason };
            match reasons.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, n)) => *n += 1,
                None => reasons.push((reason, 1)),
            }
        }
        for (reason, n) in reasons {
            parts.push(format!("{n}个{reason}"));
        }
        let ongoing =
            findings.iter().filter(|f| !matches!(f.status, FindingStatus::Closed | FindingStatus::Blocked)).count();
        if ongoing > 0 {
            parts.push(format!("{ongoing}个正在整改中"));
        }
        format!("{s}，其中{}。", parts.join("，"))
    }

    /// The 整改情况 text of one problem.
    fn outcome_of(f: &ReportFinding) -> String {
        match (&f.outcome, f.status) {
            (Some(o), _) if !o.trim().is_empty() => o.trim().to_owned(),
            (_, FindingStatus::Blocked) => f.blocked_reason.clone().unwrap_or_default(),
            (_, FindingStatus::Closed) => "已整改到位。".to_owned(),
            _ => "正在整改中。".to_owned(),
        }
    }

    /// Walks the report in reading order, numbering as the fixture does:
    /// categories (一), aspects 1. counted across the whole report, problems (seq).
    fn blocks(&self) -> Vec<Block> {
        fn section(s: &ReportSection, aspect_no: &mut usize, category_no: &mut usize, out: &mut Vec<Block>) {
            if s.level == 1 {
                *category_no += 1;
                out.push(Block::Category(format!("({}){}", chinese(*category_no), s.title)));
            } else {
                *aspect_no += 1;
                out.push(Block::Aspect(format!("{}.{}", aspect_no, s.title)));
            }
            for f in &s.findings {
                problem(f, out);
            }
            for c in &s.children {
                section(c, aspect_no, category_no, out);
            }
        }
        fn problem(f: &ReportFinding, out: &mut Vec<Block>) {
            out.push(Block::Problem(format!("({}){}", f.seq, f.title)));
            out.push(Block::Outcome(ReportModel::outcome_of(f)));
        }
        let mut out = vec![Block::Summary(self.summary())];
        let (mut aspect_no, mut category_no) = (0, 0);
        for c in &self.categories {
            section(c, &mut aspect_no, &mut category_no, &mut out);
        }
        for f in &self.unsectioned {
            problem(f, &mut out);
        }
        out
    }

    pub fn render(&self, format: ReportFormat) -> String {
        let blocks = self.blocks();
        match format {
            ReportFormat::Text => {
                let mut out = format!("{}\n", self.title);
                for b in blocks {
                    match b {
                        Block::Outcome(t) => out.push_str(&format!("整改情况:{t}\n")),
                        Block::Summary(t) | Block::Category(t) | Block::Aspect(t) | Block::Problem(t) => {
                            out.push_str(&t);
                            out.push('\n');
                        }
                    }
                }
                out
            }
            ReportFormat::Markdown => {
                let mut out = format!("# {}\n\n", md(&self.title));
                for b in blocks {
                    let line = match b {
                        Block::Summary(t) => md(&t),
                        Block::Category(t) => format!("## {}", md(&t)),
                        Block::Aspect(t) => format!("### {}", md(&t)),
                        Block::Problem(t) => format!("**{}**", md(&t)),
                        Block::Outcome(t) => format!("整改情况：{}", md(&t)),
                    };
                    out.push_str(&line);
                    out.push_str("\n\n");
                }
                out
            }
            ReportFormat::Html => {
                let mut out = format!(
                    "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body>\n<h1>{}</h1>\n",
                    html(&self.title),
                    html(&self.title)
                );
                for b in blocks {
                    let line = match b {
                        Block::Summary(t) => format!("<p class=\"summary\">{}</p>", html(&t)),
                        Block::Category(t) => format!("<h2>{}</h2>", html(&t)),
                        Block::Aspect(t) => format!("<h3>{}</h3>", html(&t)),
                        Block::Problem(t) => format!("<h4>{}</h4>", html(&t)),
                        Block::Outcome(t) => format!("<p>整改情况：{}</p>", html(&t)),
                    };
                    out.push_str(&line);
                    out.push('\n');
                }
                out.push_str("</body>\n</html>\n");
                out
            }
        }
    }
}

enum Block {
    Summary(String),
    Category(String),
    Aspect(String),
    Problem(String),
    Outcome(String),
}

/// HTML text escaping.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Markdown escaping of the characters that would start markup.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(seq: i32, status: FindingStatus, outcome: Option<&str>, reason: Option<&str>) -> ReportFinding {
        ReportFinding {
            seq,
            title: format!("问题{seq}"),
            status,
            outcome: outcome.map(str::to_owned),
            blocked_reason: reason.map(str::to_owned),
            long_term: false,
        }
    }

    fn model() -> ReportModel {
        let aspect =
            |title: &str, findings| ReportSection { title: title.into(), level: 2, children: vec![], findings };
        ReportModel {
            title: "巡察整改情况".into(),
            inspecting_body: "区委第三巡察组".into(),
            inspected_unit: "区行政审批局党组".into(),
            categories: vec![
                ReportSection {
                    title: "聚焦政治站位方面".into(),
                    level: 1,
                    children: vec![aspect(
                        "学习情况",
                        vec![finding(1, FindingStatus::Closed, Some("坚持每周学习。"), None)],
                    )],
                    findings: vec![],
                },
                ReportSection {
                    title: "聚焦诚信建设方面".into(),
                    level: 1,
                    children: vec![aspect(
                        "系统建设",
                        vec![
                            finding(2, FindingStatus::Blocked, None, Some("系政务系统问题，等待省上统一安排")),
                            finding(3, FindingStatus::Blocked, None, Some("系政务系统问题，等待省上统一安排。")),
                            finding(4, FindingStatus::InProgress, None, None),
                        ],
                    )],
                    findings: vec![],
                },
            ],
            unsectioned: vec![],
        }
    }

    #[test]
    fn summary_counts_like_the_fixture() {
        assert_eq!(
            model().summary(),
            "区行政审批局党组巡察整改反馈问题2大类2个方面4个问题，其中1个已整改到位，2个系政务系统问题，等待省上统一安排，1个正在整改中。"
        );
    }

    #[test]
    fn text_numbers_categories_aspects_and_problems() {
        let text = model().render(ReportFormat::Text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "(一)聚焦政治站位方面");
        assert_eq!(lines[3], "1.学习情况");
        assert_eq!(lines[4], "(1)问题1");
        assert_eq!(lines[5], "整改情况:坚持每周学习。");
        assert_eq!(lines[6], "(二)聚焦诚信建设方面");
        assert_eq!(lines[7], "2.系统建设", "aspects are numbered across the report");
        assert_eq!(lines[9], "整改情况:系政务系统问题，等待省上统一安排");
    }

    #[test]
    fn html_is_escaped() {
        let mut m = model();
        m.title = "<script>alert('x')</script> & co".into();
        m.categories[0].children[0].findings[0].outcome = Some("a<b>\"c\"".into());
        let page = m.render(ReportFormat::Html);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
        assert!(page.contains("a&lt;b&gt;&quot;c&quot;"));
    }

    #[test]
    fn markdown_escapes_markup() {
        let mut m = model();
        m.categories[0].children[0].findings[0].title = "*粗体* [链接](x)".into();
        let md = m.render(ReportFormat::Markdown);
        assert!(md.contains("**(1)\\*粗体\\* \\[链接\\](x)**"));
        assert!(md.contains("## (一)聚焦政治站位方面"));
    }

    #[test]
    fn chinese_ordinals() {
        assert_eq!(chinese(1), "一");
        assert_eq!(chinese(10), "十");
        assert_eq!(chinese(12), "十二");
        assert_eq!(chinese(21), "二十一");
    }
}
