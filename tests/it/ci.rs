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

/// The commands of a CI example's steps, as its YAML holds them: each
/// `run:` of the GitHub workflow's steps (but the install), each line of
/// the GitLab job's `script:` (but the install).
fn ci_steps(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("the example is YAML");
    let doc = &docs[0];
    let mut steps = Vec::new();
    if let Some(jobs) = doc["jobs"].as_hash() {
        for job in jobs.values() {
            for step in job["steps"].as_vec().into_iter().flatten() {
                if let Some(run) = step["run"].as_str() {
                    steps.push(run.to_string());
                }
            }
        }
    }
    if let Some(job) = doc["kschema-plan"].as_hash() {
        let script = job
            .get(&yaml_rust2::Yaml::String("script".into()))
            .and_then(|s| s.as_vec())
            .expect("the job has a script");
        steps.extend(
            script
                .iter()
                .filter_map(|line| line.as_str().map(String::from)),
        );
    }
    assert!(!steps.is_empty(), "{file} has no steps");
    steps
        .into_iter()
        .filter(|step| !step.contains("cargo install"))
        .collect()
}

/// The CI examples run as written, on a project with a committed snapshot
/// (the CI platforms' variables stand for a pull request; the comment is a
/// dry run against a recorded response): the plan is made, the comment
/// would update the existing one, and the check fails on a blocked hazard.
#[tokio::test]
async fn the_ci_examples_run_as_written() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    // The committed snapshot the examples plan against.
    let snapshot = project.path().join("snapshots/prod.json");
    let snapshot = snapshot.display().to_string();
    let taken = kschema(&project, &db, &["snapshot", "--out", &snapshot]);
    assert_eq!(taken.code, 0, "{}", taken.snapshot());
    crate::support::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci"),
        &project.path().join("examples/ci"),
    );
    // A change that drops a column: a hazard apply refuses.
    let users = project.read("schema/tenant/users.sql");
    project.write(
        "schema/tenant/users.sql",
        &users.replace("job_title VARCHAR(100),", ""),
    );
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_kschema"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let recorded = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ci/testdata");
    for (file, recorded) in [
        (
            "examples/ci/github-workflow.yml",
            format!("{recorded}/comments.json"),
        ),
        (
            "examples/ci/gitlab-ci.yml",
            format!("{recorded}/gitlab-notes.json"),
        ),
    ] {
        let mut outcomes = Vec::new();
        for step in ci_steps(file) {
            let step = step
                .replace("${{ github.repository }}", "acme/app")
                .replace("${{ github.event.pull_request.number }}", "7")
                .replace(
                    "--body plan.md",
                    &format!("--dry-run --comments {recorded} --body plan.md"),
                );
            let output = Command::new("bash")
                .args(["-e", "-c", &step])
                .current_dir(project.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env("KSCHEMA_CACHE_DIR", crate::support::shared_cache_dir())
                .env("CI_PROJECT_ID", "acme/app")
                .env("CI_MERGE_REQUEST_IID", "7")
                .env("CI_API_V4_URL", "https://gitlab.example/api/v4")
                .env_remove("DATABASE_URL")
                .env_remove("GITHUB_TOKEN")
                .env_remove("GITLAB_TOKEN")
                .output()
                .expect("bash runs");
            outcomes.push((
                step,
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        let shown = format!("{outcomes:#?}");
        // The plan was made from the snapshot, in both formats.
        let markdown = project.read("plan.md");
        assert!(markdown.contains("users"), "{file}: {shown}");
        assert!(
            project.read("plan.json").starts_with('{'),
            "{file}: {shown}"
        );
        // The comment step would update the existing comment, then fail the
        // check on the blocked hazard.
        let comment = outcomes
            .iter()
            .find(|(step, ..)| step.contains("pr_comment.py"))
            .expect("a comment step");
        assert_eq!(comment.1, Some(1), "{file}: {shown}");
        assert!(
            comment.2.starts_with("PATCH ") || comment.2.starts_with("PUT "),
            "{file}: {shown}"
        );
        assert!(comment.3.contains("deletes-data"), "{file}: {shown}");
        // Every other step but lint (the shipped schema has warnings) passes.
        for (step, code, ..) in &outcomes {
            if !step.contains("pr_comment.py") && !step.contains("kschema lint") {
                assert_eq!(*code, Some(0), "{file}: {step}\n{shown}");
            }
        }
        std::fs::remove_file(project.path().join("plan.md")).unwrap();
        std::fs::remove_file(project.path().join("plan.json")).unwrap();
    }
}
