//! What every format says about the objects kschema does not manage: a
//! heading, one line per group of targets with the same objects, and a
//! clause for the summary, so "up to date" never stands alone.

use super::text::targets_title;
use crate::escape::printable;
use crate::plan::{Target, UnmanagedGroup};
use crate::unmanaged::by_kind;

/// How many names of one kind a line lists before "and N more".
const LISTED_NAMES: usize = 5;

/// What was left out: plan and check did not compare the objects, inspect
/// did not write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftOut {
    NotCompared,
    NotWritten,
}

impl LeftOut {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            LeftOut::NotCompared => ("Not compared", "compared"),
            LeftOut::NotWritten => ("Not written", "written"),
        }
    }
}

/// `Not compared — kschema does not manage these yet (3 objects):`, or
/// `None` when nothing was left out.
pub fn heading(groups: &[UnmanagedGroup], left_out: LeftOut) -> Option<String> {
    let count = UnmanagedGroup::total(groups);
    (count > 0).then(|| {
        format!(
            "{} — kschema does not manage these yet ({count} object{}):",
            left_out.words().0,
            if count == 1 { "" } else { "s" }
        )
    })
}

/// How many kinds fit on the group's own line; more get a line each.
const KINDS_ON_ONE_LINE: usize = 3;

/// The report's lines, without prefix or escaping (each format adds its
/// own): per group of targets, its title and `2 views (a, b), 1 policy (p
/// on t)`, or the title alone followed by one indented line per kind.
pub fn lines(groups: &[UnmanagedGroup]) -> Vec<String> {
    let mut lines = Vec::new();
    for group in groups {
        let targets: Vec<&Target> = group.targets.iter().collect();
        let shared = matches!(targets.as_slice(), [only] if only.is_shared());
        let title = targets_title(shared, &targets);
        let kinds: Vec<String> = by_kind(&group.objects)
            .iter()
            .map(|(kind, names)| {
                let shown: Vec<&str> = names.iter().take(LISTED_NAMES).copied().collect();
                let more = names.len().saturating_sub(LISTED_NAMES);
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("{} ({}{tail})", kind.counted(names.len()), shown.join(", "))
            })
            .collect();
        if kinds.len() <= KINDS_ON_ONE_LINE {
            lines.push(format!("{title}: {}", kinds.join(", ")));
        } else {
            lines.push(format!("{title}:"));
            lines.extend(kinds.into_iter().map(|kind| format!("  {kind}")));
        }
    }
    lines
}

/// The heading and its lines indented under it, each line after `prefix`
/// (`-- ` in SQL), printable; empty when nothing was left out.
pub fn block(groups: &[UnmanagedGroup], left_out: LeftOut, prefix: &str) -> String {
    let Some(heading) = heading(groups, left_out) else {
        return String::new();
    };
    let mut out = format!("{prefix}{heading}\n");
    for line in lines(groups) {
        out.push_str(&format!("{prefix}  {}\n", printable(&line)));
    }
    out
}

/// `` in what kschema manages; 3 objects it does not manage were not
/// compared (listed above)``, or nothing; `listed` says where the list is.
pub fn summary(groups: &[UnmanagedGroup], left_out: LeftOut, listed: &str) -> String {
    match UnmanagedGroup::total(groups) {
        0 => String::new(),
        count => format!(
            " in what kschema manages; {count} object{} it does not manage {} not {} (listed {listed})",
            if count == 1 { "" } else { "s" },
            if count == 1 { "was" } else { "were" },
            left_out.words().1
        ),
    }
}
