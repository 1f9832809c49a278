//! The desired state as it was at a git revision: the project folder's
//! files at that commit, extracted to a temporary folder (`git archive`),
//! so every loader works on them unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;

use kschema_core::Problem;

/// A project folder extracted from git; removed when dropped.
pub struct ProjectAtRevision {
    /// The project folder inside the extraction.
    pub path: PathBuf,
    /// The full commit id the revision named.
    pub commit: String,
    _dir: tempfile::TempDir,
}

/// Extracts `project` (a folder inside a git work tree) as of `revision`.
pub fn project_at(project: &Path, revision: &str) -> Result<ProjectAtRevision, Problem> {
    let project = std::fs::canonicalize(project).map_err(|e| {
        Problem::new(
            "kschema::git::project",
            format!("cannot open {}: {e}", project.display()),
        )
    })?;
    let top = git(&project, &["rev-parse", "--show-toplevel"]).map_err(|reason| {
        Problem::new(
            "kschema::git::repository",
            format!("{} is not in a git repository", project.display()),
        )
        .with_help(format!(
            "--desired-rev reads the desired state from git history ({reason})"
        ))
    })?;
    let top = PathBuf::from(top.trim());
    let commit = git(
        &project,
        &["rev-parse", "--verify", &format!("{revision}^{{commit}}")],
    )
    .map_err(|_| {
        Problem::new(
            "kschema::git::revision",
            format!("unknown revision `{revision}`"),
        )
        .with_help("give a commit, branch or tag of this repository (e.g. HEAD~1, main, v1.2)")
    })?
    .trim()
    .to_string();
    let relative = project
        .strip_prefix(&top)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let dir = tempfile::Builder::new()
        .prefix("kschema-rev-")
        .tempdir()
        .map_err(|e| {
            Problem::new(
                "kschema::git::extract",
                format!("cannot create a temporary folder: {e}"),
            )
        })?;
    let mut archive = vec![
        "archive".to_string(),
        "--format=tar".to_string(),
        commit.clone(),
    ];
    if !relative.as_os_str().is_empty() {
        archive.push("--".into());
        archive.push(relative.display().to_string());
    }
    let tar = Command::new("git")
        .current_dir(&top)
        .args(&archive)
        .output()
        .map_err(|e| {
            Problem::new(
                "kschema::git::extract",
                format!("running git archive failed: {e}"),
            )
        })?;
    if !tar.status.success() {
        return Err(Problem::new(
            "kschema::git::extract",
            format!(
                "the project folder does not exist at {revision}: {}",
                String::from_utf8_lossy(&tar.stderr).trim()
            ),
        )
        .with_help("pick a revision where the project folder has schema/"));
    }
    let mut untar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Problem::new("kschema::git::extract", format!("running tar failed: {e}")))?;
    if let Some(mut stdin) = untar.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(&tar.stdout);
    }
    let status = untar
        .wait()
        .map_err(|e| Problem::new("kschema::git::extract", format!("tar failed: {e}")))?;
    if !status.success() {
        return Err(Problem::new(
            "kschema::git::extract",
            "extracting the revision failed",
        ));
    }
    Ok(ProjectAtRevision {
        path: dir.path().join(relative),
        commit,
        _dir: dir,
    })
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}
