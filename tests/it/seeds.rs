//! Seed rows on a real PostgreSQL: the shipped default roles and
//! permissions, insert / update / prune against real rows, tenant-scoped
//! seeds in foreign-key order, and values that do not convert.

use crate::support::{assert_cli_snapshot, kschema, Project, TestDb};

#[tokio::test]
async fn shipped_roles_and_permissions_are_seeded() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let rows = db
        .client()
        .await
        .query(
            "SELECT r.id::text, r.name, string_agg(p.name, ',' ORDER BY p.name)
               FROM default_roles r JOIN default_permissions p ON p.default_role_id = r.id
              GROUP BY 1, 2 ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let roles: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(roles.len(), 4);
    assert_eq!(roles[0].0, "5b1e0c2a-9f3d-4c1b-8e7a-000000000001");
    assert_eq!(roles[0].1, "Admin");
    assert_eq!(roles[3].1, "Viewer");
    assert!(
        roles[3].2.split(',').all(|p| p.ends_with(":read")),
        "Viewer is read-only: {}",
        roles[3].2
    );
    let admin: Vec<&str> = roles[0].2.split(',').collect();
    for other in &roles[1..] {
        assert!(
            other.2.split(',').all(|p| admin.contains(&p)),
            "Admin can do everything {} can",
            other.1
        );
    }
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

#[tokio::test]
async fn rows_are_inserted_updated_and_pruned_by_key() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute(
        "UPDATE default_roles SET description = 'changed by hand' WHERE name = 'Manager';
         DELETE FROM default_permissions WHERE name = 'trials:share' AND default_role_id = '5b1e0c2a-9f3d-4c1b-8e7a-000000000002';
         INSERT INTO default_permissions (id, default_role_id, name) VALUES ('00000000-0000-4000-8000-0000000000b1', '5b1e0c2a-9f3d-4c1b-8e7a-000000000004', 'billing:read');
         INSERT INTO default_roles (name, description) VALUES ('Auditor', 'left alone: roles do not prune');",
    )
    .await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!("seed_drift_plan", plan);
    assert!(
        plan.stdout
            .contains("description \"changed by hand\" → \"Manage projects and users\""),
        "{}",
        plan.stdout
    );

    let refused = kschema(&project, &db, &["apply"]);
    assert_eq!(
        refused.code,
        1,
        "the prune deletes data: {}",
        refused.snapshot()
    );
    let apply = kschema(&project, &db, &["apply", "--allow-destructive"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let client = db.client().await;
    let auditor: i64 = client
        .query_one(
            "SELECT count(*) FROM default_roles WHERE name = 'Auditor'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        auditor, 1,
        "rows of a table that does not prune are left alone"
    );
    let billing: i64 = client
        .query_one(
            "SELECT count(*) FROM default_permissions WHERE name = 'billing:read'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(billing, 0, "pruned");
}

#[tokio::test]
async fn tenant_seeds_follow_foreign_keys_and_leave_other_columns_alone() {
    let project = Project::empty();
    project
        .write(
            "schema/tenant/settings.sql",
            "CREATE TABLE categories (id INT PRIMARY KEY, label TEXT NOT NULL, note TEXT);
             CREATE TABLE tags (code TEXT PRIMARY KEY, category_id INT NOT NULL REFERENCES categories (id), weight NUMERIC(6,2), meta JSONB, since DATE, active BOOLEAN DEFAULT true);",
        )
        // tags (the child) sorts first by name; the parent must still go first.
        .write(
            "schema/seeds/a_tags.toml",
            "table = \"tags\"\nscope = \"tenant\"\nkey = [\"code\"]\n\n[[row]]\ncode = \"urgent\"\ncategory_id = 1\nweight = 1.5\nmeta = { color = \"red\", \"it's\" = [1, 2] }\nsince = 2024-02-29\n",
        )
        .write(
            "schema/seeds/b_categories.toml",
            "table = \"categories\"\nscope = \"tenant\"\nkey = [\"id\"]\n\n[[row]]\nid = 1\nlabel = \"Priority \\\\ 'quoted'\"\n",
        )
        .write("tenants.toml", "[[tenant]]\nid = \"a\"\n\n[[tenant]]\nid = \"b\"\n");
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(
        kschema(&project, &db, &["plan"]).code,
        0,
        "seed values compare equal after apply"
    );
    let client = db.client().await;
    let row = client
        .query_one("SELECT label, t.meta::text, t.weight::text FROM org_b.categories c JOIN org_b.tags t ON t.category_id = c.id", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Priority \\ 'quoted'");
    assert_eq!(
        row.get::<_, String>(1),
        "{\"it's\": [1, 2], \"color\": \"red\"}"
    );
    assert_eq!(row.get::<_, String>(2), "1.50");
    // A column the seed does not name is never touched.
    db.execute("UPDATE org_a.categories SET note = 'mine'; UPDATE org_a.tags SET active = false")
        .await;
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

async fn bad_seed(snapshot: &str, seed: &str) {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let before = db.catalog("public").await;
    project.write("schema/seeds/default_roles.toml", seed);
    let run = kschema(&project, &db, &["apply"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert_cli_snapshot!(snapshot, run);
    assert_eq!(db.catalog("public").await, before);
    let count: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM default_roles", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 4, "nothing changed");
}

#[tokio::test]
async fn a_value_that_is_not_a_uuid() {
    bad_seed(
        "seed_bad_uuid",
        "table = \"default_roles\"\nscope = \"public\"\nkey = [\"id\"]\n\n[[row]]\nid = \"admin-role\"\nname = \"Admin\"\n",
    )
    .await;
}

#[tokio::test]
async fn a_value_too_long_and_an_unknown_column() {
    bad_seed(
        "seed_bad_values",
        &format!(
            "table = \"default_roles\"\nscope = \"public\"\nkey = [\"id\"]\n\n[[row]]\nid = \"5b1e0c2a-9f3d-4c1b-8e7a-000000000001\"\nname = \"{}\"\ncolour = \"red\"\n",
            "A".repeat(101)
        ),
    )
    .await;
}

#[tokio::test]
async fn seed_toml_that_does_not_parse() {
    bad_seed(
        "seed_bad_toml",
        "table = \"default_roles\"\nscope = \"public\"\nkey = [\"id\"\n",
    )
    .await;
}

#[tokio::test]
async fn a_key_that_identifies_nothing() {
    bad_seed(
        "seed_bad_key",
        "table = \"default_roles\"\nscope = \"public\"\nkey = [\"description\"]\n\n[[row]]\nid = \"5b1e0c2a-9f3d-4c1b-8e7a-000000000001\"\ndescription = \"x\"\nname = \"Admin\"\n",
    )
    .await;
}
