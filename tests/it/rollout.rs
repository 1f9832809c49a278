//! Rollouts in waves: canaries, then shares of the fleet, with the health
//! gates checked while each wave runs and after it; a gate that fails
//! halts the rollout with its evidence, and `apply --resume` continues
//! from the wave it halted in.

use crate::support::{kschema, Project, TestDb};

const ITEMS_V1: &str = "CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL);\n";

const ITEMS_V2: &str = "CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, sku TEXT);
CREATE INDEX items_name ON items (name);
";

fn registry(count: usize) -> String {
    (0..count)
        .map(|i| format!("[[tenant]]\nid = \"t{i:03}\"\n\n"))
        .collect()
}

async fn fleet(count: usize, rollout: &str) -> (Project, TestDb) {
    let project = Project::empty();
    project
        .write("schema/tenant/items.sql", ITEMS_V1)
        .write("tenants.toml", &registry(count));
    let db = TestDb::new().await;
    let first = kschema(&project, &db, &["apply", "--all-at-once"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    project.write("kschema.toml", rollout);
    (project, db)
}

async fn has_sku(db: &TestDb, tenant: &str) -> bool {
    db.client()
        .await
        .query_one(
            "SELECT count(*) = 1 FROM information_schema.columns
              WHERE table_schema = $1 AND table_name = 'items' AND column_name = 'sku'",
            &[&format!("org_{tenant}")],
        )
        .await
        .unwrap()
        .get(0)
}

/// 200 tenants; the probe fails in one tenant of wave 2: the rollout halts
/// there, the third wave never starts, and after the fix `--resume`
/// finishes the fleet from wave 2.
#[tokio::test]
async fn a_failed_probe_halts_the_rollout_and_resume_finishes_it() {
    let (project, db) = fleet(
        200,
        "[rollout]
canary = [\"t000\"]
waves = [\"5%\", \"100%\"]
probe = \"SELECT NOT EXISTS (SELECT 1 FROM items WHERE name = 'broken')\"
",
    )
    .await;
    db.execute("INSERT INTO org_t005.items (name) VALUES ('broken')")
        .await;
    project.write("schema/tenant/items.sql", ITEMS_V2);

    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    for expected in [
        "Wave 1 of 3 (canary): 1 tenant, 1 to change",
        "Wave 1 passed its gates.",
        "Wave 2 of 3 (5%): 10 tenants, 10 to change",
    ] {
        assert!(
            apply.stdout.contains(expected),
            "{expected}\n{}",
            apply.stdout
        );
    }
    assert!(!apply.stdout.contains("Wave 3 of 3"), "{}", apply.stdout);
    for expected in [
        "the rollout halted in wave 2 of 3: the probe gate",
        "the probe did not return true in 1 tenant:",
        "t005 (false)",
        "189 tenants in later waves did not start",
        "kschema apply --resume",
    ] {
        assert!(
            apply.stderr.contains(expected),
            "{expected}\n{}",
            apply.stderr
        );
    }
    // Waves 1 and 2 converged; wave 3 (t011 on) was not touched.
    for (tenant, changed) in [
        ("t000", true),
        ("t005", true),
        ("t010", true),
        ("t011", false),
        ("t199", false),
    ] {
        assert_eq!(has_sku(&db, tenant).await, changed, "{tenant}");
    }
    // The run left wave 3 on record as not reached: --only-failed sees it.
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(plan.stdout.contains("189 tenants"), "{}", plan.stdout);

    // Fixed: the rollout continues from wave 2 (its gates again), then 3.
    db.execute("DELETE FROM org_t005.items WHERE name = 'broken'")
        .await;
    let resume = kschema(&project, &db, &["apply", "--resume"]);
    assert_eq!(resume.code, 0, "{}", resume.snapshot());
    for expected in [
        "from wave 2 of 3, where the probe gate halted it",
        "Wave 2 of 3 (5%): 10 tenants, 0 to change",
        "Wave 3 of 3 (100%): 189 tenants, 189 to change",
        "Wave 3 passed its gates.",
        "189 targets converged",
    ] {
        assert!(
            resume.stdout.contains(expected),
            "{expected}\n{}",
            resume.stdout
        );
    }
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());

    // Nothing left to resume.
    let again = kschema(&project, &db, &["apply", "--resume"]);
    assert_eq!(again.code, 1, "{}", again.snapshot());
    assert!(
        again.stderr.contains("there is no rollout to resume"),
        "{}",
        again.stderr
    );
}

/// A wave that loses more tenants than it may halts before the next; one
/// within its share goes on.
#[tokio::test]
async fn the_failure_rate_gate_halts_between_waves() {
    let (project, db) = fleet(6, "[rollout]\nwaves = [\"2\"]\n").await;
    // t001's duplicate names make a unique index impossible.
    db.execute("INSERT INTO org_t001.items (name) VALUES ('a'), ('a')")
        .await;
    let unique = ITEMS_V2.replace("CREATE INDEX", "CREATE UNIQUE INDEX");
    project.write("schema/tenant/items.sql", &unique);
    let apply = kschema(&project, &db, &["apply", "--no-online"]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    for expected in [
        "the rollout halted in wave 1 of 2: the max_failure_percent gate",
        "1 of 2 tenants failed",
        "(50.0%; at most 0% may)",
    ] {
        assert!(
            apply.stderr.contains(expected),
            "{expected}\n{}",
            apply.stderr
        );
    }
    assert!(!has_sku(&db, "t002").await);

    // Half of a wave may fail: the rollout goes on and says who failed.
    project.write(
        "kschema.toml",
        "[rollout]\nwaves = [\"2\"]\nmax_failure_percent = 50\n",
    );
    let apply = kschema(&project, &db, &["apply", "--no-online"]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    assert!(apply.stdout.contains("Wave 2 of 2"), "{}", apply.stdout);
    assert!(
        apply.stderr.contains("kschema apply --tenant t001"),
        "{}",
        apply.stderr
    );
    assert!(has_sku(&db, "t005").await);
}

/// `--format json`: one event per line on stdout as the rollout goes —
/// each wave, each target, the halt with its gate and evidence, the
/// summary — and the text on stderr.
#[tokio::test]
async fn json_events_follow_the_rollout_as_it_goes() {
    let (project, db) = fleet(6, "[rollout]\nwaves = [\"2\", \"2\"]\n").await;
    db.execute("INSERT INTO org_t003.items (name) VALUES ('a'), ('a')")
        .await;
    let unique = ITEMS_V2.replace("CREATE INDEX", "CREATE UNIQUE INDEX");
    project.write("schema/tenant/items.sql", &unique);
    let apply = kschema(&project, &db, &["apply", "--no-online", "--format", "json"]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    let events: Vec<serde_json::Value> = apply
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let waves: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "wave").collect();
    assert_eq!(waves.len(), 2, "{kinds:?}");
    assert_eq!(waves[0]["wave"], 1);
    assert_eq!(waves[0]["waves"], 3);
    assert_eq!(waves[0]["tenants"], 2);
    assert_eq!(waves[0]["changing"], 2);
    assert!(kinds.contains(&"wave_passed"), "{kinds:?}");
    let failed = events
        .iter()
        .find(|e| e["event"] == "target" && e["outcome"] == "failed")
        .unwrap_or_else(|| panic!("{kinds:?}"));
    assert_eq!(failed["tenant"], "t003");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("could not create unique index"),
        "{failed}"
    );
    let halted = events.iter().find(|e| e["event"] == "halted").unwrap();
    assert_eq!(halted["wave"], 2);
    assert_eq!(halted["gate"], "max_failure_percent");
    assert_eq!(halted["not_started"], 2);
    assert_eq!(halted["resume"], "kschema apply --resume");
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary", "{kinds:?}");
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["converged"], 3);
    // The text is on stderr.
    assert!(apply.stderr.contains("Wave 2 of 3"), "{}", apply.stderr);

    // Without waves: the batch, its targets, the summary.
    db.execute("DELETE FROM org_t003.items").await;
    let apply = kschema(
        &project,
        &db,
        &["apply", "--all-at-once", "--no-online", "--format", "json"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let events: Vec<serde_json::Value> = apply
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(events[0]["event"], "started", "{events:?}");
    assert_eq!(events[0]["targets"], 3, "{events:?}");
    let converged = events
        .iter()
        .filter(|e| e["event"] == "target" && e["outcome"] == "converged")
        .count();
    assert_eq!(converged, 3, "{events:?}");
    assert_eq!(events.last().unwrap()["event"], "summary", "{events:?}");
}

/// A statement waiting on a lock past the limit, seen while the wave
/// runs, halts it with the waiting query as evidence.
#[tokio::test]
async fn a_long_lock_wait_halts_the_wave_it_is_seen_in() {
    let (project, db) = fleet(
        4,
        "[rollout]\nwaves = [\"50%\"]\nmax_lock_wait = 1\n[apply]\nlock_timeout = 1\nlock_attempts = 3\n",
    )
    .await;
    // The application's query queues behind a lock someone holds.
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE org_t000.items IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let waiter = db.client().await;
    let waiting = tokio::spawn(async move {
        let _ = waiter
            .simple_query("SELECT count(*) AS app_query FROM org_t000.items")
            .await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    project.write("schema/tenant/items.sql", ITEMS_V2);
    // Plain statements: an online index build would wait for the holder's
    // transaction to end, which this test ends only afterwards.
    let apply = kschema(&project, &db, &["apply", "--no-online"]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    assert!(
        apply.stderr.contains("the max_lock_wait gate"),
        "{}",
        apply.stderr
    );
    assert!(apply.stderr.contains("app_query"), "{}", apply.stderr);
    assert!(apply.stderr.contains("wave 1 of 2"), "{}", apply.stderr);
    holder.batch_execute("ROLLBACK").await.unwrap();
    waiting.await.unwrap();
    // The second wave never started.
    assert!(!has_sku(&db, "t003").await);
}

#[tokio::test]
async fn bad_rollout_settings_are_refused() {
    let project = Project::empty();
    project
        .write("schema/tenant/items.sql", ITEMS_V1)
        .write("tenants.toml", &registry(2))
        .write("kschema.toml", "[rollout]\nwaves = [\"0%\"]\n");
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["apply"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("kschema::config::value"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("wave \"0%\""), "{}", plan.stderr);
    project.write("kschema.toml", "");
    let flags = kschema(&project, &db, &["apply", "--waves", "ten"]);
    assert_eq!(flags.code, 1, "{}", flags.snapshot());
    assert!(
        flags.stderr.contains("kschema::apply::waves"),
        "{}",
        flags.stderr
    );
    // Nothing was applied.
    assert!(!has_sku(&db, "t000").await);
    let schemas: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'org_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(schemas, 0);
}

/// The most heavy statements seen running at once while `apply --heavy-concurrency
/// HEAVY` builds an index in 12 tenants over 8 connections — in the main
/// database, or (`shard`: its settings in tenants.toml) in a shard holding
/// them.
async fn peak_index_builds(heavy: &str, shard: Option<&str>) -> i64 {
    let project = Project::empty();
    let tenants = match shard {
        None => registry(12),
        Some(settings) => format!(
            "[databases.eu]\nurl_env = \"KSCHEMA_TEST_EU_URL\"\n{settings}\n\n{}",
            registry(12).replace("\"\n\n", "\"\ndatabase = \"eu\"\n\n")
        ),
    };
    project
        .write(
            "schema/public/slow.sql",
            // Each index entry takes 0.2s: builds overlap when allowed to.
            "CREATE FUNCTION slow(n int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
             BEGIN PERFORM pg_sleep(0.2); RETURN n; END $$;\n",
        )
        .write("schema/tenant/items.sql", ITEMS_V1)
        .write("tenants.toml", &tenants);
    let main = TestDb::new().await;
    let eu = TestDb::new().await;
    let db = if shard.is_some() { &eu } else { &main };
    let apply = |args: &[&str]| {
        let mut command = crate::support::command(&project, Some(&main.url()), args);
        command.env("KSCHEMA_TEST_EU_URL", eu.url());
        command
    };
    let first = crate::support::run(&mut apply(&["apply"]));
    assert_eq!(first.code, 0, "{}", first.snapshot());
    for i in 0..12 {
        db.execute(&format!(
            "INSERT INTO org_t{i:03}.items (name) VALUES ('x')"
        ))
        .await;
    }
    project.write(
        "schema/tenant/items.sql",
        &format!("{ITEMS_V1}CREATE INDEX items_slow ON items ((slow(id)));\n"),
    );
    let sampler = db.client().await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampling = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = 0i64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let now: i64 = sampler
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity
                          WHERE datname = current_database() AND query LIKE 'CREATE INDEX%'
                            AND state = 'active'",
                        &[],
                    )
                    .await
                    .unwrap()
                    .get(0);
                peak = peak.max(now);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let mut command = apply(&["apply", "--concurrency", "8", "--heavy-concurrency", heavy]);
    let applied = tokio::task::spawn_blocking(move || crate::support::run(&mut command))
        .await
        .unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(applied.code, 0, "{}", applied.snapshot());
    sampling.await.unwrap()
}

#[tokio::test]
async fn heavy_statements_keep_to_their_own_limit() {
    let one = peak_index_builds("1", None).await;
    assert_eq!(one, 1, "one build at a time, over 8 connections");
    let three = peak_index_builds("3", None).await;
    assert!((2..=3).contains(&three), "{three} builds at once");
    // A shard's own limit wins over the run's.
    let shard = peak_index_builds("3", Some("heavy_concurrency = 1")).await;
    assert_eq!(shard, 1, "the shard allows one build at a time");
}

/// Canaries by tag: the tenants tenants.toml tags so go first.
#[tokio::test]
async fn canaries_can_be_chosen_by_tag() {
    let (project, db) = fleet(5, "[rollout]\ncanary = [\"tag:beta\"]\n").await;
    project.write(
        "tenants.toml",
        &registry(5).replace("id = \"t003\"\n", "id = \"t003\"\ntags = [\"beta\"]\n"),
    );
    project.write("schema/tenant/items.sql", ITEMS_V2);
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let canary = apply
        .stdout
        .find("Wave 1 of 2 (canary): 1 tenant, 1 to change")
        .unwrap();
    let t003 = apply.stdout.find("tenant t003").unwrap();
    let rest = apply.stdout.find("Wave 2 of 2 (all): 4 tenants").unwrap();
    assert!(canary < t003 && t003 < rest, "{}", apply.stdout);

    project.write("kschema.toml", "[rollout]\ncanary = [\"tag:gamma\"]\n");
    project.write("schema/tenant/items.sql", ITEMS_V1);
    let unknown = kschema(&project, &db, &["apply", "--allow-destructive"]);
    assert_eq!(unknown.code, 1, "{}", unknown.snapshot());
    assert!(
        unknown
            .stderr
            .contains("no tenant in tenants.toml has that tag"),
        "{}",
        unknown.stderr
    );
}

/// A change to public alone still applies under [rollout]: public goes
/// first, whatever the waves hold.
#[tokio::test]
async fn public_goes_first_even_with_no_tenant_to_change() {
    let (project, db) = fleet(3, "[rollout]\nwaves = [\"50%\"]\n").await;
    project.write(
        "schema/public/plans.sql",
        "CREATE TABLE plans (id int PRIMARY KEY);\n",
    );
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert!(apply.stdout.contains("public first…"), "{}", apply.stdout);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// `waves = ["shard"]`: after the canaries, one wave per database, in
/// tenants.toml's order; a gate that fails in one database's wave keeps
/// the next database untouched.
#[tokio::test]
async fn waves_per_shard_go_one_database_at_a_time() {
    let project = Project::empty();
    let tenants = "[databases.eu]\nurl_env = \"KSCHEMA_TEST_EU_URL\"\n\n\
        [databases.us]\nurl_env = \"KSCHEMA_TEST_US_URL\"\n\n\
        [[tenant]]\nid = \"m1\"\n\n[[tenant]]\nid = \"m2\"\n\n\
        [[tenant]]\nid = \"e1\"\ndatabase = \"eu\"\n\n[[tenant]]\nid = \"e2\"\ndatabase = \"eu\"\n\n\
        [[tenant]]\nid = \"u1\"\ndatabase = \"us\"\n";
    project
        .write("schema/tenant/items.sql", ITEMS_V1)
        .write("tenants.toml", tenants);
    let (main, eu, us) = (
        TestDb::new().await,
        TestDb::new().await,
        TestDb::new().await,
    );
    let apply = |args: &[&str]| {
        let mut command = crate::support::command(&project, Some(&main.url()), args);
        command.env("KSCHEMA_TEST_EU_URL", eu.url());
        command.env("KSCHEMA_TEST_US_URL", us.url());
        crate::support::run(&mut command)
    };
    let first = apply(&["apply"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());

    // e2 breaks the probe: the eu wave halts, us is not reached.
    eu.execute("INSERT INTO org_e2.items (name) VALUES ('broken')")
        .await;
    project.write("schema/tenant/items.sql", ITEMS_V2).write(
        "kschema.toml",
        "[rollout]\ncanary = [\"m1\"]\nwaves = [\"shard\"]\nprobe = \"SELECT NOT EXISTS (SELECT 1 FROM items WHERE name = 'broken')\"\n",
    );
    let halted = apply(&["apply"]);
    assert_eq!(halted.code, 1, "{}", halted.snapshot());
    for expected in [
        "Wave 1 of 4 (canary): 1 tenant",
        "Wave 2 of 4 (main database): 1 tenant",
        "Wave 3 of 4 (database eu): 2 tenants",
    ] {
        assert!(
            halted.stdout.contains(expected),
            "{expected}\n{}",
            halted.stdout
        );
    }
    assert!(!halted.stdout.contains("Wave 4 of 4"), "{}", halted.stdout);
    assert!(
        halted
            .stderr
            .contains("the rollout halted in wave 3 of 4: the probe gate"),
        "{}",
        halted.stderr
    );
    assert!(has_sku(&eu, "e1").await);
    assert!(!has_sku(&us, "u1").await);

    // Fixed: resume reaches us.
    eu.execute("DELETE FROM org_e2.items WHERE name = 'broken'")
        .await;
    let resumed = apply(&["apply", "--resume"]);
    assert_eq!(resumed.code, 0, "{}", resumed.snapshot());
    assert!(
        resumed
            .stdout
            .contains("Wave 4 of 4 (database us): 1 tenant"),
        "{}",
        resumed.stdout
    );
    assert!(has_sku(&us, "u1").await);

    // "shard" stands alone.
    let refused = apply(&["apply", "--waves", "shard,50%"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stderr.contains("stands alone"),
        "{}",
        refused.stderr
    );
}

/// An application query queued behind a lock (in a schema kschema does
/// not manage) for longer than `[apply] backoff_lock_wait`: no new tenant
/// starts until it clears — or, past `backoff_max_pause`, the tenants left
/// do not start at all and say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_tenants_wait_while_the_server_is_under_pressure() {
    let (project, db) = fleet(6, "[apply]\nbackoff_lock_wait = 1\nbackoff_max_pause = 2\n").await;
    db.execute("CREATE SCHEMA app; CREATE TABLE app.hold (id int)")
        .await;
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE app.hold IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let waiter = db.client().await;
    let waiting = tokio::spawn(async move {
        let _ = waiter
            .simple_query("SELECT count(*) AS app_query FROM app.hold")
            .await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    project.write("schema/tenant/items.sql", ITEMS_V2);
    let args = ["apply", "--all-at-once", "--concurrency", "1"];

    // The pressure outlasts the pause: nothing starts, and it says why.
    let gave_up = kschema(&project, &db, &args);
    assert_eq!(gave_up.code, 1, "{}", gave_up.snapshot());
    for expected in [
        "backing off: 1 statement waiting for a lock over 1s",
        "giving up: the server stayed under pressure for 2s",
        "6 not started",
    ] {
        assert!(
            gave_up.stdout.contains(expected),
            "{expected}\n{}",
            gave_up.snapshot()
        );
    }
    assert!(!has_sku(&db, "t000").await);

    // It clears while apply waits: the tenants start then.
    project.write("kschema.toml", "[apply]\nbackoff_lock_wait = 1\n");
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    let mut command = crate::support::command(&project, Some(&db.url()), &args);
    let waited = tokio::task::spawn_blocking(move || crate::support::run(&mut command))
        .await
        .unwrap();
    assert_eq!(waited.code, 0, "{}", waited.snapshot());
    for expected in [
        "backing off: 1 statement waiting for a lock over 1s",
        "pressure cleared after",
        "6 targets converged",
    ] {
        assert!(
            waited.stdout.contains(expected),
            "{expected}\n{}",
            waited.snapshot()
        );
    }
    release.await.unwrap();
    waiting.await.unwrap();
    assert!(has_sku(&db, "t005").await);
}

/// A saved plan goes in the waves kschema.toml asks for, gates and all;
/// `apply --resume` continues it from the project.
#[tokio::test]
async fn a_saved_plan_rolls_out_in_waves_too() {
    let (project, db) = fleet(
        6,
        "[rollout]\nwaves = [\"2\"]\nprobe = \"SELECT NOT EXISTS (SELECT 1 FROM items WHERE name = 'broken')\"\n",
    )
    .await;
    db.execute("INSERT INTO org_t004.items (name) VALUES ('broken')")
        .await;
    project.write("schema/tenant/items.sql", ITEMS_V2);
    let saved = project.path().join("plan.json");
    let saved = saved.to_str().unwrap();
    let plan = kschema(&project, &db, &["plan", "--out", saved]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    let apply = kschema(&project, &db, &["apply", saved]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    for expected in [
        "Wave 1 of 2 (2): 2 tenants, 2 to change",
        "Wave 1 passed its gates.",
        "Wave 2 of 2 (rest): 4 tenants, 4 to change",
    ] {
        assert!(
            apply.stdout.contains(expected),
            "{expected}\n{}",
            apply.stdout
        );
    }
    assert!(
        apply
            .stderr
            .contains("the rollout halted in wave 2 of 2: the probe gate"),
        "{}",
        apply.stderr
    );
    db.execute("DELETE FROM org_t004.items WHERE name = 'broken'")
        .await;
    let resume = kschema(&project, &db, &["apply", "--resume"]);
    assert_eq!(resume.code, 0, "{}", resume.snapshot());
    assert!(
        resume.stdout.contains("Wave 2 passed its gates."),
        "{}",
        resume.stdout
    );
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// The replication-lag gate against a real standby: a primary of its own,
/// a streaming standby made with `pg_basebackup -R` whose replay is
/// paused, so `pg_stat_replication` reports it falling behind. The
/// rollout halts in its first wave, naming the gate; the second wave
/// never starts.
#[tokio::test]
async fn a_lagging_standby_halts_the_rollout() {
    use kschema::db::local::{find_bin_dir, running_as_root, LocalCluster};
    let Some(bin) = find_bin_dir() else {
        eprintln!("skipped: needs PostgreSQL's server programs for a primary and a standby");
        return;
    };
    let as_root = running_as_root();
    let pg = |program: &str, args: &[&str]| {
        let program = bin.join(program);
        let mut command = match as_root {
            true => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&program);
                c
            }
            false => std::process::Command::new(&program),
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let root = tempfile::Builder::new()
        .prefix("kst-lag-")
        .tempdir_in("/tmp")
        .unwrap();
    let primary = LocalCluster::at(root.path().join("primary")).unwrap();
    primary.ensure_running().unwrap();
    primary
        .remove_when_process_exits(std::process::id())
        .unwrap();
    let standby = LocalCluster::at(root.path().join("standby")).unwrap();
    std::fs::create_dir_all(standby.socket_dir()).unwrap();
    if as_root {
        let chown = std::process::Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(root.path())
            .status()
            .unwrap();
        assert!(chown.success());
    }
    let port = primary.port().to_string();
    pg(
        "pg_basebackup",
        &[
            "-h",
            &primary.socket_dir().to_string_lossy(),
            "-p",
            &port,
            "-U",
            "postgres",
            "-D",
            &standby.data_dir().to_string_lossy(),
            "-R",
            "-X",
            "stream",
        ],
    );
    standby.ensure_running().unwrap();
    standby
        .remove_when_process_exits(std::process::id())
        .unwrap();
    let url = |cluster: &LocalCluster, db: &str| {
        format!(
            "host={} port={} user=postgres dbname={db}",
            cluster.socket_dir().display(),
            cluster.port()
        )
    };
    let connect = |url: String| async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    };

    let project = Project::empty();
    project
        .write("schema/tenant/items.sql", ITEMS_V1)
        .write("tenants.toml", &registry(4));
    let primary_url = url(&primary, "postgres");
    let first =
        crate::support::kschema_with(&project, Some(&primary_url), &["apply", "--all-at-once"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());

    // The standby stops replaying; what the primary writes piles up.
    let replica = connect(url(&standby, "postgres")).await;
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    // Written in a database of its own: kschema's is left as it was.
    connect(primary_url.clone())
        .await
        .batch_execute("CREATE DATABASE filler")
        .await
        .unwrap();
    let writer = connect(url(&primary, "filler")).await;
    let mut lagging = false;
    for _ in 0..100 {
        writer
            .batch_execute("CREATE TABLE IF NOT EXISTS lag_filler (x int); INSERT INTO lag_filler SELECT generate_series(1, 1000)")
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let lag: Option<f64> = writer
            .query_one(
                "SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if lag.is_some_and(|l| l > 1.0) {
            lagging = true;
            break;
        }
    }
    assert!(lagging, "the paused standby never showed replay lag");

    project.write("schema/tenant/items.sql", ITEMS_V2).write(
        "kschema.toml",
        "[rollout]\nwaves = [\"25%\"]\nmax_replication_lag = 0.5\n",
    );
    let apply = crate::support::kschema_with(&project, Some(&primary_url), &["apply"]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    assert!(
        apply.stderr.contains("max_replication_lag"),
        "{}",
        apply.snapshot()
    );
    assert!(apply.stderr.contains("wave 1 of"), "{}", apply.snapshot());
    // Not every tenant got the change: the rollout stopped in wave 1.
    let fleet = connect(primary_url.clone()).await;
    let changed: i64 = fleet
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'sku'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(changed < 4, "{changed} of 4 tenants changed");

    // Replay resumes, the lag goes, and the rollout finishes.
    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    let mut caught_up = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let lag: Option<f64> = writer
            .query_one(
                "SELECT max(extract(epoch FROM coalesce(replay_lag, interval '0')))::float8 FROM pg_stat_replication",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if lag.is_some_and(|l| l < 0.5) {
            caught_up = true;
            break;
        }
    }
    assert!(caught_up, "the standby did not catch up");
    let resumed =
        crate::support::kschema_with(&project, Some(&primary_url), &["apply", "--resume"]);
    assert_eq!(resumed.code, 0, "{}", resumed.snapshot());
    primary.destroy();
    standby.destroy();
}

/// The application's connections leave fewer free slots than the floor
/// (here the role's `CONNECTION LIMIT`, as the shared test server's own
/// slots are the whole suite's): apply gives its connections back as their
/// tenants finish, takes them again as slots come free, and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_gives_connections_back_while_slots_run_short() {
    let db = TestDb::new().await;
    let role = format!("slots_{}", db.name);
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN CREATEDB CONNECTION LIMIT 10; \
         ALTER DATABASE {} OWNER TO {role}; ALTER SCHEMA public OWNER TO {role}",
        db.name
    ))
    .await;
    let url = format!("{} user={role}", db.url().replace("user=postgres", ""));
    let project = Project::empty();
    project
        .write("schema/tenant/items.sql", ITEMS_V1)
        .write("tenants.toml", &registry(6));

    // The application holds 6 of the role's 10 slots.
    let mut application = Vec::new();
    for _ in 0..6 {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        application.push(client);
    }
    // The default floor never holds apply up by itself: it keeps to what
    // giving back all but one connection leaves free.
    let first = crate::support::kschema_with(&project, Some(&url), &["apply", "--all-at-once"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    assert!(
        !first.stdout.contains("backing off"),
        "{}",
        first.snapshot()
    );

    // A floor of 3, which the application's connections leave no room
    // for until it lets them go 3 seconds in.
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        drop(application);
    });
    project
        .write(
            "kschema.toml",
            "[apply]\nbackoff_min_free_connections = 3\nbackoff_max_pause = 60\n",
        )
        .write("schema/tenant/items.sql", ITEMS_V2);
    let args = ["apply", "--all-at-once", "--concurrency", "4"];
    let mut command = crate::support::command(&project, Some(&url), &args);
    let applied = tokio::task::spawn_blocking(move || crate::support::run(&mut command))
        .await
        .unwrap();
    release.await.unwrap();
    assert_eq!(applied.code, 0, "{}", applied.snapshot());
    for expected in [
        "connections applying (was",
        "free connection slots (fewer than 3 kept for others); new tenants wait until it clears",
        "pressure cleared after",
        "6 targets converged",
    ] {
        assert!(
            applied.stdout.contains(expected),
            "{expected}\n{}",
            applied.snapshot()
        );
    }
    assert!(has_sku(&db, "t005").await);
}
