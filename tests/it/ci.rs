//! The pull-request loop: examples/ci/pr_comment.py posts the Markdown
//! plan as one comment (a GitHub PR's, a GitLab merge request's note) and
//! updates it on the next run (checked against recorded API responses),
//! and fails the check on blocked hazards.

use std::process::Command;

use crate::support::{kschema, Project, TestDb};

/// The script, dry-run on PR acme/app#7 with `body`, the PR's comments
/// read from `comments` (a recorded API response), and `extra`.
fn comment_dry_run(body: &str, comments: &str, extra: &[&str]) -> std::process::Output {
    script()
        .args([
            "--repo",
            "acme/app",
            "--pr",
            "7",
            "--body",
            body,
            "--dry-run",
        ])
        .args(["--comments", comments])
        .args(extra)
        .env_remove("GITHUB_TOKEN")
        .env("GITHUB_API_URL", "https://api.github.example")
        .output()
        .expect("python3 runs")
}

/// `python3 examples/ci/pr_comment.py`, outside any CI.
fn script() -> Command {
    let mut command = Command::new("python3");
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/ci/pr_comment.py"
        ))
        .env_remove("GITLAB_CI")
        .env_remove("GITLAB_TOKEN");
    command
}

/// The same on GitLab: merge request 7 of project acme/app, its notes read
/// from a recorded API response.
fn note_dry_run(body: &str, notes: &str) -> std::process::Output {
    script()
        .args([
            "--platform",
            "gitlab",
            "--repo",
            "acme/app",
            "--pr",
            "7",
            "--body",
            body,
            "--dry-run",
            "--comments",
            notes,
        ])
        .env("CI_API_V4_URL", "https://gitlab.example/api/v4")
        .output()
        .expect("python3 runs")
}

/// On GitLab the plan is one merge-request note: the one with the marker
/// is edited (never a system note), else one is created.
#[tokio::test]
async fn the_merge_request_note_is_updated_not_appended() {
    let project = Project::empty();
    project.write("plan.md", "## kschema plan\nnew plan\n");
    let body = project.path().join("plan.md");
    let body = body.to_str().unwrap();
    let recorded = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/ci/testdata/gitlab-notes.json"
    );
    let update = note_dry_run(body, recorded);
    let out = String::from_utf8_lossy(&update.stdout);
    assert!(
        update.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&update.stderr)
    );
    assert!(
        out.starts_with("PUT https://gitlab.example/api/v4/projects/acme%2Fapp/merge_requests/7/notes/305\n<!-- kschema-plan -->\n## kschema plan\nnew plan"),
        "{out}"
    );

    project.write(
        "notes.json",
        "[{\"id\": 1, \"body\": \"<!-- kschema-plan --> mentioned\", \"system\": true}]",
    );
    let none = project.path().join("notes.json");
    let create = note_dry_run(body, none.to_str().unwrap());
    let out = String::from_utf8_lossy(&create.stdout);
    assert!(
        out.starts_with(
            "POST https://gitlab.example/api/v4/projects/acme%2Fapp/merge_requests/7/notes\n"
        ),
        "{out}"
    );

    // Without a token and without a recorded response, it says what is
    // missing instead of calling the API.
    let missing = script()
        .args([
            "--platform",
            "gitlab",
            "--repo",
            "1",
            "--pr",
            "7",
            "--body",
            body,
        ])
        .output()
        .expect("python3 runs");
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("GITLAB_TOKEN is not set"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

#[tokio::test]
async fn the_plan_comment_is_updated_not_appended_and_blocks_on_hazards() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    let markdown = kschema(&project, &db, &["plan", "--format", "markdown"]);
    assert_eq!(markdown.code, 2, "{}", markdown.snapshot());
    project.write("plan.md", &markdown.stdout);
    let body = project.path().join("plan.md");
    let body = body.to_str().unwrap();
    let recorded = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/ci/testdata/comments.json"
    );

    // The PR already has the plan comment (id 42): it is edited.
    let update = comment_dry_run(body, recorded, &[]);
    let out = String::from_utf8_lossy(&update.stdout);
    assert!(
        update.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&update.stderr)
    );
    assert!(
        out.starts_with("PATCH https://api.github.example/repos/acme/app/issues/comments/42\n<!-- kschema-plan -->\n"),
        "{out}"
    );
    assert!(out.contains(markdown.stdout.trim_end()), "{out}");

    // No plan comment yet: one is created.
    project.write(
        "none.json",
        "[{\"id\": 17, \"body\": \"Looks fine to me.\"}]",
    );
    let none = project.path().join("none.json");
    let create = comment_dry_run(body, none.to_str().unwrap(), &[]);
    let out = String::from_utf8_lossy(&create.stdout);
    assert!(
        out.starts_with("POST https://api.github.example/repos/acme/app/issues/7/comments\n"),
        "{out}"
    );

    // A plan whose hazards apply refuses fails the check.
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let users = project.read("schema/tenant/users.sql");
    project.write(
        "schema/tenant/users.sql",
        &users.replace("job_title VARCHAR(100),", ""),
    );
    let json = kschema(&project, &db, &["plan", "--format", "json"]);
    assert_eq!(json.code, 2, "{}", json.snapshot());
    project.write("plan.json", &json.stdout);
    let plan = project.path().join("plan.json");
    let blocked = comment_dry_run(body, recorded, &["--plan", plan.to_str().unwrap()]);
    assert_eq!(blocked.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&blocked.stderr).contains("deletes-data"),
        "{}",
        String::from_utf8_lossy(&blocked.stderr)
    );
}
