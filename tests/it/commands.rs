//! The small commands a CLI user expects: `init` starts a project that
//! plans, `lint` reports the desired state's warnings with exit codes and
//! allow lists (plan only counts them), `completions` and `man` describe
//! the command line.

use crate::support::{kschema, kschema_with, Project, TestDb};

#[tokio::test]
async fn init_writes_a_project_that_plans() {
    let project = Project::empty();
    std::fs::remove_dir_all(project.path().join("schema")).unwrap();
    let init = kschema_with(&project, None, &["init"]);
    assert_eq!(init.code, 0, "{}", init.snapshot());
    for file in ["tenants.toml", "kschema.toml", ".gitignore"] {
        assert!(project.path().join(file).exists(), "{file}");
    }
    assert!(project.read(".gitignore").contains(".kschema/"));
    assert!(project
        .read("kschema.toml")
        .contains("# heavy_concurrency = 2"));
    // A second init refuses to overwrite.
    let again = kschema_with(&project, None, &["init"]);
    assert_eq!(again.code, 1, "{}", again.snapshot());
    assert!(
        again.stderr.contains("kschema::init::exists"),
        "{}",
        again.stderr
    );

    // The empty project plans; with a table, it has a change.
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    project.write(
        "schema/public/notes.sql",
        "CREATE TABLE notes (id int PRIMARY KEY);\n",
    );
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("+ create table notes"),
        "{}",
        plan.stdout
    );
}

#[tokio::test]
async fn lint_reports_warnings_with_exit_codes_and_allow_lists() {
    let project = Project::shipped();
    let text = kschema_with(&project, None, &["lint"]);
    assert_eq!(text.code, 2, "{}", text.snapshot());
    assert!(
        text.stdout
            .contains("warning[redundant-index] schema/public/enterprises.sql:20:"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("17 warnings."), "{}", text.stdout);

    let json = kschema_with(&project, None, &["lint", "--format", "json"]);
    assert_eq!(json.code, 2, "{}", json.snapshot());
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["count"], 17);
    assert_eq!(report["warnings"][0]["kind"], "foreign-key-without-index");
    assert_eq!(report["warnings"][0]["object"], "admins_enterprise_id_fkey");

    // One object allowed, one rule off.
    let config = project.read("kschema.toml");
    project.write(
        "kschema.toml",
        &format!("{config}\n[lint.allow]\nredundant-index = [\"idx_enterprises_org_id\"]\nforeign-key-without-index = [\"*\"]\n"),
    );
    let allowed = kschema_with(&project, None, &["lint"]);
    assert_eq!(allowed.code, 2, "{}", allowed.snapshot());
    assert!(allowed.stdout.contains("3 warnings."), "{}", allowed.stdout);
    assert!(
        !allowed.stdout.contains("idx_enterprises_org_id"),
        "{}",
        allowed.stdout
    );
    project.write(
        "kschema.toml",
        &format!("{config}\n[lint.allow]\nredundant-index = [\"*\"]\nforeign-key-without-index = [\"*\"]\n"),
    );
    let clean = kschema_with(&project, None, &["lint"]);
    assert_eq!(clean.code, 0, "{}", clean.snapshot());
    assert!(clean.stdout.contains("No warnings"), "{}", clean.stdout);

    // A rule that does not exist allows nothing: refused, here and in plan.
    project.write(
        "kschema.toml",
        &format!("{config}\n[lint.allow]\nredundant-indexes = [\"*\"]\n"),
    );
    let db = TestDb::new().await;
    for args in [&["lint"][..], &["plan"][..]] {
        let typo = kschema(&project, &db, args);
        assert_eq!(typo.code, 1, "{}", typo.snapshot());
        assert!(
            typo.stderr.contains("which is not a rule"),
            "{}",
            typo.stderr
        );
    }
}

#[tokio::test]
async fn plan_counts_the_warnings_in_one_line() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("17 warnings about the desired state: kschema lint shows them."),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("warning["), "{}", plan.stdout);
}

#[test]
fn completions_and_the_manual_page_describe_the_commands() {
    let project = Project::empty();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = kschema_with(&project, None, &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.snapshot());
        assert!(run.stdout.contains("kschema"), "{shell}");
        assert!(run.stdout.contains("resume"), "{shell}: apply's flags");
    }
    let man = kschema_with(&project, None, &["man"]);
    assert_eq!(man.code, 0, "{}", man.snapshot());
    assert!(man.stdout.contains(".TH kschema 1"), "{}", man.stdout);
    let bad = kschema_with(&project, None, &["completions", "tcsh"]);
    assert_ne!(bad.code, 0, "{}", bad.snapshot());
    assert!(
        bad.stderr.contains("invalid value 'tcsh'"),
        "{}",
        bad.stderr
    );
}

/// The published JSON Schema holds the plans the suite makes (checked in
/// `support::kschema_with` for every `plan --format json` and `--out`),
/// and refuses what is not one.
#[tokio::test]
async fn json_plans_follow_the_published_schema() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    // Saved in the project (a relative --out is the working directory's).
    let saved = project.path().join("plan.json");
    let plan = kschema(
        &project,
        &db,
        &["plan", "--format", "json", "--out", saved.to_str().unwrap()],
    );
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(saved.exists(), "the plan is saved where --out says");
    crate::support::assert_plan_schema(&plan.stdout);
    let mut broken: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    broken["targets"][0]["steps"][0]["transaction"] = "sometimes".into();
    broken.as_object_mut().unwrap().remove("summary");
    let refused = std::panic::catch_unwind(|| {
        crate::support::assert_plan_schema(&broken.to_string());
    });
    let message = *refused
        .expect_err("a plan without a summary is refused")
        .downcast::<String>()
        .unwrap();
    assert!(message.contains("summary"), "{message}");
    assert!(message.contains("sometimes"), "{message}");
}

/// `-v` reports each phase's time on stderr (through `tracing`), `-q`
/// keeps apply to its summary and failures.
#[tokio::test]
async fn verbose_and_quiet() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    let verbose = kschema(&project, &db, &["plan", "-v"]);
    assert_eq!(verbose.code, 2, "{}", verbose.snapshot());
    assert!(
        verbose
            .stderr
            .contains("kschema trace: load desired state:"),
        "{}",
        verbose.stderr
    );
    let quiet = kschema(&project, &db, &["apply", "-q"]);
    assert_eq!(quiet.code, 0, "{}", quiet.snapshot());
    assert!(!quiet.stdout.contains("✓ tenant"), "{}", quiet.stdout);
    assert!(!quiet.stdout.contains("Applying…"), "{}", quiet.stdout);
    assert!(
        quiet.stdout.contains("Applied: 4 targets converged"),
        "{}",
        quiet.stdout
    );
    let both = kschema(&project, &db, &["plan", "-q", "-v"]);
    assert_eq!(both.code, 1, "{}", both.snapshot());
}
