//! Changes → an ordered, hazard-annotated plan per target.
//!
//! A plan is computed once per distinct live shape: tenants whose schemas
//! have the same fingerprint share one list of steps, rendered for each
//! tenant's schema only when SQL is needed.
//!
//! Over ~600 lines: the plan's types (steps, targets, groups of alike
//! tenants), building per live shape and the annotation allowances; the
//! per-kind statements live in the kinds' files beside it.

mod clash;
mod column;
mod composite;
mod convert;
pub mod ddl;
pub mod depends;
mod domain;
mod enum_dependents;
mod enum_type;
mod extension;
mod foreign_types;
mod generated;
pub mod materialize;
pub mod order;
pub(crate) mod privilege;
pub mod replay;
mod routine;
mod shared_enums;
mod shared_readers;
mod shared_type_refusals;
mod type_users;
pub use shared_readers::takes_tenants_along;
mod view;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::catalog::{Fingerprint, LiveState};
use crate::diff::{diff, diff_seeds, possible_renames, Change, ColumnChange, Renames};
use crate::hazard::{Hazard, HazardKind, HazardPolicy};
use crate::ident::Ident;
use crate::lint::{lint, Lint};
use crate::load::{DesiredState, LoadedScope, ObjectKey, TenantId};
use crate::model::{ConstraintKind, SchemaModel, SchemaName};
use crate::sql::Sql;
use crate::unmanaged::{UnmanagedKind, UnmanagedList, UnmanagedObject};
use type_users::unrecorded_type_users;

/// A schema kschema converges: a shared one (`public`, `audit`) or one
/// tenant's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Target {
    pub schema: SchemaName,
    pub tenant: Option<TenantId>,
}

impl Target {
    pub fn public() -> Self {
        Target {
            schema: SchemaName::public(),
            tenant: None,
        }
    }

    /// A shared schema's target (`schema/audit/` is `audit`).
    pub fn shared(schema: SchemaName) -> Self {
        Target {
            schema,
            tenant: None,
        }
    }

    pub fn is_public(&self) -> bool {
        self.tenant.is_none() && self.schema.as_str() == "public"
    }

    /// public or another shared schema: converged once per database,
    /// before the tenants.
    pub fn is_shared(&self) -> bool {
        self.tenant.is_none()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tenant {
            None if self.is_public() => write!(f, "public"),
            None => write!(f, "schema {}", self.schema),
            Some(id) => write!(f, "tenant {id} ({})", self.schema),
        }
    }
}

/// A run's targets and their desired state (here, not in `load`: a target
/// is the plan's notion).
impl DesiredState {
    /// A target per shared schema, public first.
    pub fn shared_targets(&self) -> Vec<Target> {
        self.shared_schemas()
            .into_iter()
            .map(Target::shared)
            .collect()
    }

    /// The desired state of one target: its shared schema's, or the
    /// tenant template's.
    pub fn scope_of(&self, target: &Target) -> &LoadedScope {
        match &target.tenant {
            Some(_) => &self.tenant,
            None => self.shared_scope(&target.schema).unwrap_or(&self.tenant),
        }
    }
}

/// Whether a step runs inside the target's transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxMode {
    /// In a transaction of its own, committed before the target's: an
    /// enum label a later statement uses (PostgreSQL refuses a label in the
    /// transaction that adds it). Additive and written `IF NOT EXISTS`, so
    /// it stays harmlessly if the target's transaction then rolls back.
    BeforeTransaction,
    /// With the target's other statements, all or nothing.
    Transactional,
    /// After the transaction commits, one statement at a time
    /// (`CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`): each is safe to
    /// run again if interrupted, and the next plan finishes what is left.
    NonTransactional,
}

impl TxMode {
    /// Where the mode's steps run in a target: first, in the transaction,
    /// after its commit.
    pub fn run_order(self) -> u8 {
        match self {
            TxMode::BeforeTransaction => 0,
            TxMode::Transactional => 1,
            TxMode::NonTransactional => 2,
        }
    }
}

/// One reviewable unit of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub change: Change,
    /// For a change done in two steps (online forms): what this one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    #[serde(skip)]
    pub statements: Vec<Sql>,
    pub hazards: Vec<Hazard>,
    pub transaction: TxMode,
    /// Run before retrying the step after a lock timeout, so it can run
    /// again: a `CREATE INDEX CONCURRENTLY` that gave up leaves an invalid
    /// index behind.
    #[serde(skip)]
    pub before_retry: Option<Sql>,
    /// A `CONCURRENTLY` index build or drop: it waits, by design, for every
    /// transaction older than itself, so it gets the index lock budget
    /// (`--index-lock-timeout`) instead of the short `lock_timeout` that
    /// guards the exclusive locks.
    #[serde(skip)]
    pub index_build: bool,
    /// Hazards a `-- kschema:allow-hazard` annotation allows for this step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_by_annotation: Vec<HazardKind>,
    /// A `public` drop that runs once the tenant schemas have converged:
    /// their foreign keys may still point at what it drops.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub after_tenants: bool,
}

impl Step {
    pub fn render(&self, schema: &SchemaName) -> Vec<String> {
        self.statements.iter().map(|s| s.render(schema)).collect()
    }

    /// What follows the change's description: its part, and whether it
    /// waits for the tenants.
    pub fn suffix(&self) -> String {
        let mut suffix = self
            .part
            .as_ref()
            .map(|p| format!(" — {p}"))
            .unwrap_or_default();
        if self.after_tenants {
            suffix.push_str(" — after the tenant schemas");
        }
        suffix
    }
}

/// The steps for one target.
#[derive(Clone, Debug)]
pub struct TargetPlan {
    pub target: Target,
    /// The live schema's fingerprint when the plan was made.
    pub live_fingerprint: Fingerprint,
    /// Shared between targets of the same shape.
    pub steps: Arc<Vec<Step>>,
    /// Things the reviewer should know (e.g. a drop and an add that may be
    /// an undeclared rename).
    pub notes: Arc<Vec<String>>,
}

impl TargetPlan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every statement, by where it runs.
    pub fn statements(&self) -> StatementsByTransaction {
        statements_by_transaction(self.steps.iter(), &self.target.schema)
    }
}

/// The first step of each change: a change done in parts (an online
/// form, an index built partition by partition) is one change, listed
/// once in counts and drift reports.
pub fn first_steps(steps: &[Step]) -> impl Iterator<Item = &Step> {
    let mut seen: Vec<&Change> = Vec::new();
    steps.iter().filter(move |step| {
        // A step without a part is its change's only one.
        if step.part.is_none() {
            return true;
        }
        if seen.contains(&&step.change) {
            return false;
        }
        seen.push(&step.change);
        true
    })
}

/// The steps' statements for `schema`, by where they run.
#[derive(Debug, Default)]
pub struct StatementsByTransaction {
    /// Committed on their own before the target's transaction.
    pub before: Vec<String>,
    pub transactional: Vec<String>,
    /// One at a time after the commit.
    pub after: Vec<String>,
}

/// `SET [LOCAL] search_path TO org_x, public` (public alone for public):
/// what unqualified names in the desired-state files mean, set for every
/// target's statements — kschema's own are qualified, the author's text
/// (defaults, checks, function bodies, triggers) resolves as it did when
/// the desired state was built.
pub fn search_path(local: bool) -> Sql {
    Sql::new()
        .text(if local {
            "SET LOCAL search_path TO "
        } else {
            "SET search_path TO "
        })
        .search_path()
}

pub fn statements_by_transaction<'a>(
    steps: impl Iterator<Item = &'a Step>,
    schema: &SchemaName,
) -> StatementsByTransaction {
    let mut by = StatementsByTransaction::default();
    for step in steps {
        let rendered = step.render(schema);
        match step.transaction {
            TxMode::BeforeTransaction => by.before.extend(rendered),
            TxMode::Transactional => by.transactional.extend(rendered),
            TxMode::NonTransactional => by.after.extend(rendered),
        }
    }
    by
}

/// A plan for several targets, `public` first.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub targets: Vec<TargetPlan>,
    /// Warnings about the desired state (never block).
    pub lints: Vec<Lint>,
    /// What the targets hold that kschema does not manage, so did not
    /// compare: targets with the same list share a group, `public` first.
    pub unmanaged: Vec<UnmanagedGroup>,
}

/// Targets that hold the same objects kschema does not manage.
#[derive(Clone, Debug)]
pub struct UnmanagedGroup {
    pub targets: Vec<Target>,
    pub objects: UnmanagedList,
}

impl UnmanagedGroup {
    /// How many objects the groups hold over all their targets.
    pub fn total(groups: &[UnmanagedGroup]) -> usize {
        groups
            .iter()
            .map(|g| g.targets.len() * g.objects.len())
            .sum()
    }
}

/// The unmanaged objects of `targets`, grouped by identical lists: the
/// kinds kschema does not manage, and the privileges of roles it does not
/// manage (`managed`: the roles whose privileges the files declare).
pub fn unmanaged_groups(
    live: &LiveState,
    targets: &[Target],
    managed: &[Ident],
) -> Vec<UnmanagedGroup> {
    // Identical tenants share their model and their list: one merge each.
    let mut merged: HashMap<(usize, usize), UnmanagedList> = HashMap::new();
    let mut groups: Vec<UnmanagedGroup> = Vec::new();
    for target in targets {
        let listed = live.unmanaged.get(&target.schema);
        let model = live.get(&target.schema).map(|s| &s.model);
        let key = (
            listed.map_or(0, |l| Arc::as_ptr(l) as usize),
            model.map_or(0, |m| Arc::as_ptr(m) as usize),
        );
        let objects = merged
            .entry(key)
            .or_insert_with(|| {
                let mut objects: Vec<UnmanagedObject> =
                    listed.map(|l| l.as_ref().clone()).unwrap_or_default();
                if let Some(model) = model {
                    objects.extend(others_privileges(model, managed));
                }
                Arc::new(objects)
            })
            .clone();
        if objects.is_empty() {
            continue;
        }
        let same = groups.iter_mut().find(|g| {
            !target.is_shared()
                && !g.targets[0].is_shared()
                && (Arc::ptr_eq(&g.objects, &objects) || g.objects == objects)
        });
        match same {
            Some(group) => group.targets.push(target.clone()),
            None => groups.push(UnmanagedGroup {
                targets: vec![target.clone()],
                objects,
            }),
        }
    }
    groups
}

/// Privileges granted to roles the files do not speak for, and default
/// privileges for what other roles create: one entry per object and role
/// (`table users (readonly: SELECT)`).
fn others_privileges(model: &SchemaModel, managed: &[Ident]) -> Vec<UnmanagedObject> {
    let mut by_object: BTreeMap<(String, &Ident), Vec<&str>> = BTreeMap::new();
    for grant in &model.privileges.grants {
        if !managed.contains(&grant.role) || grant.object.is_others_defaults() {
            by_object
                .entry((grant.object.to_string(), &grant.role))
                .or_default()
                .push(&grant.privilege);
        }
    }
    by_object
        .into_iter()
        .map(|((object, role), privileges)| UnmanagedObject {
            kind: UnmanagedKind::Privileges,
            name: format!("{object} ({role}: {})", privileges.join(", ")),
        })
        .collect()
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.targets.iter().all(|t| t.is_empty())
    }

    pub fn change_count(&self) -> usize {
        self.targets
            .iter()
            .map(|t| first_steps(&t.steps).count())
            .sum()
    }

    /// How many objects, over all targets, were not compared.
    pub fn unmanaged_count(&self) -> usize {
        UnmanagedGroup::total(&self.unmanaged)
    }

    /// Targets whose steps carry hazards the policy does not allow, with
    /// those hazards.
    pub fn blocked(&self, policy: &HazardPolicy) -> Vec<(&TargetPlan, Vec<&Hazard>)> {
        self.targets
            .iter()
            .filter_map(|t| {
                let hazards: Vec<&Hazard> = t
                    .steps
                    .iter()
                    .flat_map(|s| {
                        s.hazards
                            .iter()
                            .filter(|h| !s.allowed_by_annotation.contains(&h.kind))
                    })
                    .filter(|h| !policy.allows(h.kind))
                    .collect();
                (!hazards.is_empty()).then_some((t, hazards))
            })
            .collect()
    }

    /// Groups targets with identical steps, in plan order: for output that
    /// says "998 tenants up to date" instead of 998 blocks.
    pub fn groups(&self) -> Vec<PlanGroup<'_>> {
        let mut groups: Vec<PlanGroup<'_>> = Vec::new();
        for target in &self.targets {
            let same = groups.iter_mut().find(|g| {
                !g.shared
                    && !target.target.is_shared()
                    && (Arc::ptr_eq(&g.steps, &target.steps) || *g.steps == *target.steps)
            });
            match same {
                Some(group) => group.targets.push(target),
                _ => groups.push(PlanGroup {
                    shared: target.target.is_shared(),
                    steps: target.steps.clone(),
                    targets: vec![target],
                }),
            }
        }
        groups
    }
}

/// Targets that share the same steps.
pub struct PlanGroup<'a> {
    /// One shared schema's target (never grouped with others).
    pub shared: bool,
    pub steps: Arc<Vec<Step>>,
    pub targets: Vec<&'a TargetPlan>,
}

impl PlanGroup<'_> {
    pub fn hazard_kinds(&self) -> BTreeSet<HazardKind> {
        self.steps
            .iter()
            .flat_map(|s| s.hazards.iter().map(|h| h.kind))
            .collect()
    }
}

/// How to plan.
#[derive(Clone, Copy, Debug)]
pub struct PlanOptions {
    /// Online forms for existing tables (see [`ddl`]).
    pub online: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { online: true }
    }
}

/// What one live shape needs: steps, and notes for the reviewer.
pub struct ShapePlan {
    pub steps: Vec<Step>,
    pub notes: Vec<String>,
    /// Changes that depend on each other (each also in `notes`).
    pub cycles: Vec<depends::Cycle>,
}

/// The steps (and notes for the reviewer) that take one schema from `live`
/// to `desired`.
pub fn plan_schema(
    live: Option<&SchemaModel>,
    desired: &LoadedScope,
    options: PlanOptions,
) -> ShapePlan {
    plan_schema_with(live, desired, options, |_| {})
}

/// `plan_schema`, with what the changes bring along from outside the
/// schema (`also`: a shared schema's, the other schemas' views reading
/// what it changes).
fn plan_schema_with(
    live: Option<&SchemaModel>,
    desired: &LoadedScope,
    options: PlanOptions,
    also: impl FnOnce(&mut Vec<Change>),
) -> ShapePlan {
    let mut changes = diff(live, &desired.model, &Renames::declared(desired));
    changes.extend(diff_seeds(live, &desired.model, &desired.seeds));
    also(&mut changes);
    let catalogs = depends::Catalogs {
        live,
        desired: Some(&desired.model),
    };
    let (mut changes, cycles) = order::order_changes(changes, catalogs);
    for change in &mut changes {
        if let Change::AlterColumn {
            table,
            to,
            kind: ColumnChange::Type,
            using,
            ..
        } = change
        {
            *using = desired
                .origins
                .get(&ObjectKey::Column(table.clone(), to.name.clone()))
                .and_then(|origin| origin.annotations.using.clone());
        }
    }
    let mut notes = possible_renames(&changes);
    notes.extend(cycles.iter().map(depends::Cycle::note));
    notes.extend(unrecorded_type_users(live, &changes));
    let ctx =
        ddl::DdlContext::for_changes(&changes, options.online).with_partitioned(&desired.model);
    let steps: Vec<Step> = changes
        .into_iter()
        .flat_map(|change| {
            let allowed = allowed_by_annotations(desired, &change);
            let mut steps = ddl::steps_for(change, &ctx);
            for step in &mut steps {
                step.allowed_by_annotation = allowed
                    .iter()
                    .copied()
                    .filter(|kind| step.hazards.iter().any(|h| h.kind == *kind))
                    .collect();
            }
            steps
        })
        .collect();
    let mut steps = steps;
    enum_type::commit_used_labels_first(&mut steps);
    // Listed as they run: labels committed first, the transaction, then
    // the rest; plan order within each (a stable sort).
    steps.sort_by_key(|s| s.transaction.run_order());
    ddl::replacement_first(&mut steps, &ctx);
    ShapePlan {
        steps,
        notes,
        cycles,
    }
}

/// The objects a change is about, most specific last: its table, and its
/// column, index or sequence.
pub fn object_keys(change: &Change) -> Vec<ObjectKey> {
    let mut keys = Vec::new();
    if let Some(table) = change.table() {
        keys.push(ObjectKey::Table(table.clone()));
    }
    match change {
        Change::AlterColumn { table, to, .. } | Change::AddColumn { table, column: to } => {
            keys.push(ObjectKey::Column(table.clone(), to.name.clone()))
        }
        Change::CreateIndex { index } | Change::DropIndex { index } => {
            keys.push(ObjectKey::Index(index.name.clone()))
        }
        Change::CreateSequence { sequence } | Change::DropSequence { sequence } => {
            keys.push(ObjectKey::Sequence(sequence.name.clone()))
        }
        Change::AlterSequence { to, .. } => keys.push(ObjectKey::Sequence(to.name.clone())),
        Change::CreateFunction { function: to }
        | Change::ReplaceFunction { to, .. }
        | Change::RecreateFunction { to, .. }
        | Change::DropFunction { function: to, .. } => {
            // A lone function by its name and count; one of same-count
            // overloads by its types (see `materialize::name_overloads`).
            keys.push(ObjectKey::of_function(to));
            keys.push(ObjectKey::Signature(to.name.clone(), to.arguments.clone()));
        }
        Change::CreateTrigger { table, trigger: to }
        | Change::ReplaceTrigger { table, to, .. }
        | Change::DropTrigger { table, trigger: to } => {
            keys.push(ObjectKey::Trigger(table.clone(), to.name.clone()))
        }
        Change::SetTriggerFiring { table, trigger, .. } => {
            keys.push(ObjectKey::Trigger(table.clone(), trigger.clone()))
        }
        Change::CreateEnum { enum_type: to }
        | Change::RecreateEnum { to, .. }
        | Change::DropEnum { enum_type: to } => keys.push(ObjectKey::Type(to.name.clone())),
        Change::AddEnumValues { name, .. } | Change::AlterDomain { name, .. } => {
            keys.push(ObjectKey::Type(name.clone()))
        }
        Change::CreateDomain { domain: to }
        | Change::RecreateDomain { to, .. }
        | Change::DropDomain { domain: to } => keys.push(ObjectKey::Type(to.name.clone())),
        Change::CreateComposite { composite: to }
        | Change::RecreateComposite { to, .. }
        | Change::DropComposite { composite: to } => keys.push(ObjectKey::Type(to.name.clone())),
        Change::AlterComposite { name, .. } => keys.push(ObjectKey::Type(name.clone())),
        Change::CreateEventTrigger { trigger } | Change::DropEventTrigger { trigger } => {
            keys.push(ObjectKey::EventTrigger(trigger.name.clone()))
        }
        Change::SetEventTriggerFiring { name, .. } => {
            keys.push(ObjectKey::EventTrigger(name.clone()))
        }
        Change::CreateExtension { extension: to } | Change::DropExtension { extension: to } => {
            keys.push(ObjectKey::Extension(to.name.clone()))
        }
        Change::AlterExtension { name, .. } => keys.push(ObjectKey::Extension(name.clone())),
        Change::CreateView { view: to }
        | Change::ReplaceView { to, .. }
        | Change::DropView { view: to } => keys.push(ObjectKey::View(to.name.clone())),
        Change::CreatePolicy { table, policy } | Change::DropPolicy { table, policy } => {
            keys.push(ObjectKey::Policy(table.clone(), policy.name.clone()))
        }
        _ => {}
    }
    keys
}

/// Hazards the scope's `-- kschema:allow-hazard` annotations allow for a
/// change: on its table, its column, its index or its sequence.
pub fn allowed_by_annotations(scope: &LoadedScope, change: &Change) -> Vec<HazardKind> {
    let keys = object_keys(change);
    let mut allowed: Vec<HazardKind> = keys
        .iter()
        .filter_map(|k| scope.origins.get(k))
        .flat_map(|o| o.annotations.allow_hazards.iter().copied())
        .collect();
    allowed.sort();
    allowed.dedup();
    allowed
}

/// What PostgreSQL would refuse in every target it reaches, said at plan
/// time at the declaration instead: a name a live object kschema does not
/// manage holds, a type change under a generated column that stays, an
/// enum created again under a domain or composite type, a shared schema's
/// change under another schema's view.
pub fn check_plan(
    plan: &Plan,
    live: &LiveState,
    desired: &DesiredState,
) -> Result<(), crate::diagnostic::Problem> {
    clash::check_name_clashes(plan, desired)?;
    generated::check_generated_readers(plan, desired)?;
    generated::check_generated_callers(plan, live, desired)?;
    enum_dependents::check_type_dependents(plan, live, desired)?;
    shared_type_refusals::check_foreign_enum_users(plan, live, desired)?;
    shared_readers::check_shared_readers(plan, live, desired)
}

/// Plans every target against the live state, computing each distinct
/// (desired scope, live shape) pair once.
pub fn build_plan(
    desired: &DesiredState,
    live: &LiveState,
    targets: &[Target],
    options: PlanOptions,
) -> Plan {
    type Shared = (Arc<Vec<Step>>, Arc<Vec<String>>);
    // Keyed by the desired scope (a shared schema's name, or the tenant
    // template) and the live shape.
    let mut cache: HashMap<(Option<SchemaName>, Option<Fingerprint>), Shared> = HashMap::new();
    let mut plan = Plan {
        targets: Vec::new(),
        lints: lint(desired),
        unmanaged: unmanaged_groups(
            live,
            targets,
            &desired.public.model.privileges.managed_roles,
        ),
    };
    let has_tenants = targets.iter().any(|t| !t.is_shared());
    for target in targets {
        let desired_scope = desired.scope_of(target);
        let live_schema = live.get(&target.schema);
        let key = (
            target.is_shared().then(|| target.schema.clone()),
            live_schema.map(|s| s.fingerprint),
        );
        let (steps, notes) = cache
            .entry(key)
            .or_insert_with(|| {
                let shared_with_tenants = target.is_shared() && has_tenants;
                let mut shape = plan_schema_with(
                    live_schema.map(|s| s.model.as_ref()),
                    desired_scope,
                    options,
                    |changes| {
                        if shared_with_tenants {
                            // The tenants' columns of a shared enum created
                            // again first: the views reading their tables
                            // go along with the rest.
                            shared_enums::take_foreign_columns(
                                changes,
                                live,
                                desired,
                                &target.schema,
                            );
                            let along =
                                shared_readers::foreign_readers(changes, live, &target.schema);
                            changes.extend(along);
                        }
                    },
                );
                if target.is_shared() && has_tenants {
                    defer_shared_drops(&mut shape.steps);
                }
                (Arc::new(shape.steps), Arc::new(shape.notes))
            })
            .clone();
        plan.targets.push(TargetPlan {
            target: target.clone(),
            live_fingerprint: live_schema
                .map(|s| s.fingerprint)
                .unwrap_or_else(Fingerprint::absent),
            steps,
            notes,
        });
    }
    plan
}

/// Marks a shared schema's drops tenant schemas may depend on — a table,
/// a column, a key or unique index a tenant foreign key references, a
/// function, type or extension they use — to run
/// after the tenants, which drop those foreign keys first. A drop whose name
/// the plan reuses (drop and re-add) stays where it is, so the shared
/// schema's own order still holds.
pub fn defer_shared_drops(steps: &mut [Step]) {
    let mut reused: HashSet<(Option<Ident>, Ident)> = HashSet::new();
    for step in steps.iter() {
        match &step.change {
            Change::CreateTable { table } => {
                reused.insert((None, table.name.clone()));
            }
            Change::RenameTable { to, .. } | Change::RenameIndex { to, .. } => {
                reused.insert((None, to.clone()));
            }
            Change::AddColumn { table, column } => {
                reused.insert((Some(table.clone()), column.name.clone()));
            }
            Change::RenameColumn { table, to, .. } => {
                reused.insert((Some(table.clone()), to.clone()));
            }
            Change::AddConstraint { constraint, .. } => {
                reused.insert((None, constraint.name.clone()));
            }
            Change::RenameConstraint { to, .. } => {
                reused.insert((None, to.clone()));
            }
            Change::CreateIndex { index } => {
                reused.insert((None, index.name.clone()));
            }
            Change::CreateEnum { enum_type } => {
                reused.insert((None, enum_type.name.clone()));
            }
            Change::CreateDomain { domain } => {
                reused.insert((None, domain.name.clone()));
            }
            Change::CreateComposite { composite } => {
                reused.insert((None, composite.name.clone()));
            }
            Change::CreateView { view } => {
                reused.insert((None, view.name.clone()));
            }
            _ => {}
        }
    }
    for step in steps.iter_mut() {
        step.after_tenants = match &step.change {
            Change::DropTable { table } => !reused.contains(&(None, table.name.clone())),
            Change::DropColumn { table, column } => {
                !reused.contains(&(Some(table.clone()), column.name.clone()))
            }
            Change::DropConstraint { constraint, .. } => {
                matches!(
                    constraint.kind,
                    ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. }
                ) && !reused.contains(&(None, constraint.name.clone()))
            }
            Change::DropIndex { index } => {
                index.unique && !reused.contains(&(None, index.name.clone()))
            }
            // Tenant defaults, checks, triggers and columns may use shared
            // functions, types and extensions; the tenants stop first.
            Change::DropFunction { .. } | Change::DropExtension { .. } => true,
            // A tenant view may read a shared table or view; one created
            // again keeps public's own order.
            Change::DropView { view } => !reused.contains(&(None, view.name.clone())),
            Change::DropEnum { enum_type } => !reused.contains(&(None, enum_type.name.clone())),
            Change::DropDomain { domain } => !reused.contains(&(None, domain.name.clone())),
            Change::DropComposite { composite } => {
                !reused.contains(&(None, composite.name.clone()))
            }
            _ => false,
        };
    }
    // What a deferred drop names and the plan drops waits with it (a
    // function returning a table's rows goes before the table). Read from
    // the statements, not the catalog: a saved plan's replay has no live
    // catalog to read and must place each step where the plan did (the
    // words name at least what the catalog records; waiting longer is
    // harmless).
    let changes: Vec<&Change> = steps.iter().map(|s| &s.change).collect();
    let pairs = depends::drops_named(&changes, depends::Catalogs::default());
    let mut moved = true;
    while moved {
        moved = false;
        for &(deferred, named) in &pairs {
            if steps[deferred].after_tenants && !steps[named].after_tenants {
                steps[named].after_tenants = true;
                moved = true;
            }
        }
    }
}
