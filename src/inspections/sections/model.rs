//! The section tree's rules (pure): where a section may move, and what moves with it.

use std::collections::HashMap;

use super::queries::SectionRow;
use super::MAX_LEVEL;
use crate::error::AppError;

/// Checks moving `section` below `new_parent` (None: to the top) among `all` the sections of
/// its inspection: the parent must exist there, the move must not put a section below itself,
/// and the subtree must stay within [`MAX_LEVEL`] levels. Returns the section's new level and
/// its descendants (whose levels shift with it).
pub fn plan_move(
    all: &[SectionRow],
    section: &SectionRow,
    new_parent: Option<i64>,
) -> Result<(i32, Vec<SectionRow>), AppError> {
    let by_id: HashMap<i64, &SectionRow> = all.iter().map(|s| (s.id, s)).collect();
    let new_level = match new_parent {
        None => 1,
        Some(p) => {
            let parent =
                by_id.get(&p).ok_or_else(|| AppError::invalid("parent_id", "no such section in this inspection"))?;
            // Walk up from the new parent: meeting the section itself would make a cycle.
            let mut cursor = Some(parent.id);
            while let Some(c) = cursor {
                if c == section.id {
                    return Err(AppError::invalid("parent_id", "a section cannot move below itself"));
                }
                cursor = by_id.get(&c).and_then(|s| s.parent_id);
            }
            parent.level + 1
        }
    };
    let descendants = subtree(all, section.id);
    let depth = descendants.iter().map(|s| s.level - section.level).max().unwrap_or(0);
    if new_level + depth > MAX_LEVEL {
        return Err(AppError::invalid("parent_id", format!("sections nest at most {MAX_LEVEL} levels deep")));
    }
    Ok((new_level, descendants))
}

/// Every section below `root` (not `root` itself).
fn subtree(all: &[SectionRow], root: i64) -> Vec<SectionRow> {
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for s in all.iter().filter(|s| s.parent_id == Some(parent)) {
            frontier.push(s.id);
            out.push(s.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, parent_id: Option<i64>, level: i32) -> SectionRow {
        let t = chrono::NaiveDateTime::default();
        SectionRow {
            id,
            inspection_id: 1,
            parent_id,
            position: 1,
            title: String::new(),
            level,
            version: 1,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn moves_keep_the_tree_a_tree_and_within_three_levels() {
        // 1 ─ 2 ─ 3, and 4 at the top.
        let all = [row(1, None, 1), row(2, Some(1), 2), row(3, Some(2), 3), row(4, None, 1)];
        let (level, moved) = plan_move(&all, &all[1], None).unwrap();
        assert_eq!((level, moved.iter().map(|s| s.id).collect::<Vec<_>>()), (1, vec![3]));
        assert!(plan_move(&all, &all[0], Some(3)).is_err(), "below itself");
        assert!(plan_move(&all, &all[1], Some(4)).is_ok(), "2 ─ 3 under 4 stays at three levels");
        assert!(plan_move(&all, &all[0], Some(4)).is_err(), "1 ─ 2 ─ 3 under 4 would be four levels");
        assert!(plan_move(&all, &all[3], Some(99)).is_err(), "unknown parent");
    }
}
