//! Backing off when the server is under pressure. While tenants are being
//! applied, a watcher samples the server every second for two signals:
//!
//! - statements waiting for a lock longer than a limit (an online index
//!   build waiting for older transactions is how CONCURRENTLY works, and
//!   does not count): no new tenant starts (those in flight go on), and
//!   scheduling resumes once two samples in a row are clear;
//! - free connection slots (the server's, and the role's own `CONNECTION
//!   LIMIT`) below a floor: pausing alone would give no slot back, so the
//!   applying connections are given back one by one as their tenants
//!   finish, until the floor is free again, and taken again as slots come
//!   free. kschema never keeps the application short of connections, and
//!   never drops to a standstill while there is room.
//!
//! Pressure that outlasts `max_pause` — a lock wait, or no connection left
//! to apply with — stops the scheduling: the tenants left are reported as
//! not started, with the reason. Unlike a rollout's gates, which halt,
//! this waits: it is what keeps a fleet apply from piling up behind an
//! application's long transaction or its connection pool.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::Database;

/// How many connection slots must stay free for others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SlotFloor {
    /// Not watched.
    Off,
    /// A twentieth of what this role may open (5 on a default server), at
    /// least 2, and never more than apply can leave free.
    Automatic,
    /// This many.
    At(i64),
}

/// When to back off; `None` (or `SlotFloor::Off`) turns a signal off.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffSettings {
    /// A statement waiting this long for a lock is pressure.
    pub lock_wait: Option<Duration>,
    /// Fewer free connection slots than this is pressure.
    pub min_free_connections: SlotFloor,
    /// How long to wait for pressure to clear before giving up.
    pub max_pause: Duration,
}

impl Default for BackoffSettings {
    fn default() -> Self {
        BackoffSettings {
            lock_wait: Some(Duration::from_secs(10)),
            min_free_connections: SlotFloor::Automatic,
            max_pause: Duration::from_secs(600),
        }
    }
}

/// Connection slots: how many another session could still open now, and
/// how many this role may hold at all — the server's (less those
/// reserved) and, for a role with a `CONNECTION LIMIT`, the role's,
/// whichever is fewer. Apply's own connections count: they are what it
/// can give back.
#[derive(Clone, Copy, Debug)]
pub struct Slots {
    pub free: i64,
    pub capacity: i64,
}

pub async fn slots(client: &Client) -> Result<Slots, String> {
    let row = client
        .query_one(
            "WITH server AS (
               SELECT current_setting('max_connections')::int
                        - current_setting('superuser_reserved_connections')::int
                        - coalesce(current_setting('reserved_connections', true)::int, 0) AS capacity,
                      (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used
             ), role AS (
               SELECT CASE WHEN r.rolconnlimit >= 0 AND NOT r.rolsuper THEN r.rolconnlimit END AS capacity,
                      (SELECT count(*)::int FROM pg_stat_activity
                        WHERE usesysid = r.oid AND backend_type = 'client backend') AS used
                 FROM pg_roles r WHERE r.rolname = current_user
             )
             SELECT least(server.capacity - server.used, role.capacity - role.used)::int8,
                    least(server.capacity, role.capacity)::int8
               FROM server, role",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Slots {
        free: row.get(0),
        capacity: row.get(1),
    })
}

/// What the workers look at before starting a tenant.
#[derive(Default)]
pub struct Pressure {
    /// A lock wait: no new tenant starts.
    paused: AtomicBool,
    /// Connection slots the workers may still take (free less the floor,
    /// as last sampled, less those taken and given back since): below 0,
    /// a worker gives its connection back; above 0, a worker without one
    /// takes one. `i64::MAX` when slots are not watched.
    spare: AtomicI64,
    /// Workers holding a connection.
    applying: AtomicUsize,
    /// Why scheduling stopped for good, once pressure outlasted the pause.
    gave_up: Mutex<Option<String>>,
}

impl Pressure {
    /// Waits while the server is under lock pressure; `Err(reason)` once
    /// the pause ran out (or `stop` was set: `Err` with no reason).
    pub async fn wait(&self, stop: &AtomicBool) -> Result<(), Option<String>> {
        loop {
            if let Some(reason) = self.gave_up() {
                return Err(Some(reason));
            }
            if stop.load(Ordering::SeqCst) {
                return Err(None);
            }
            if !self.paused.load(Ordering::SeqCst) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Whether the worker asking should give its connection back now
    /// (fewer slots free than the floor); counts it as given back.
    pub fn give_back(&self) -> bool {
        let gave = self
            .spare
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |spare| {
                (spare < 0).then_some(spare + 1)
            })
            .is_ok();
        if gave {
            self.applying.fetch_sub(1, Ordering::SeqCst);
        }
        gave
    }

    /// Waits for a slot to take without going under the floor; counts it
    /// as taken. `Err` as [`Pressure::wait`].
    pub async fn take_slot(&self, stop: &AtomicBool) -> Result<(), Option<String>> {
        loop {
            self.wait(stop).await?;
            let took = self
                .spare
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |spare| {
                    (spare > 0).then_some(spare - 1)
                })
                .is_ok();
            if took {
                self.applying.fetch_add(1, Ordering::SeqCst);
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A taken slot that could not be connected after all.
    pub fn untake_slot(&self) {
        self.applying.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn gave_up(&self) -> Option<String> {
        self.gave_up.lock().ok().and_then(|g| g.clone())
    }
}

/// What one sample of the server says.
struct Sample {
    /// The lock pressure seen, if any.
    lock: Option<String>,
    /// The connection slots, when watched.
    slots: Option<Slots>,
}

async fn sample(client: &Client, settings: &BackoffSettings) -> Result<Sample, String> {
    let mut lock = None;
    if let Some(limit) = settings.lock_wait {
        let waits = super::rollout::lock_waits(client, limit.as_secs_f64()).await?;
        if let Some((pid, waited, _)) = waits.first() {
            lock = Some(format!(
                "{} statement{} waiting for a lock over {}s (pid {pid}, {waited:.0}s)",
                waits.len(),
                if waits.len() == 1 { "" } else { "s" },
                limit.as_secs_f64()
            ));
        }
    }
    let slots = match settings.min_free_connections {
        SlotFloor::Off => None,
        _ => Some(slots(client).await?),
    };
    Ok(Sample { lock, slots })
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A connection to watch the server on, opened before the applying
/// connections so that they, not the watching, go short of slots.
pub struct Watch {
    client: Client,
    settings: BackoffSettings,
    notify: Arc<dyn Fn(String) + Send + Sync>,
}

/// `None` when there is nothing to watch or no connection to watch on (the
/// apply then goes on without backing off, and says so).
pub async fn prepare(
    db: &Database,
    settings: &BackoffSettings,
    notify: Arc<dyn Fn(String) + Send + Sync>,
) -> Option<Watch> {
    if settings.lock_wait.is_none() && settings.min_free_connections == SlotFloor::Off {
        return None;
    }
    match db.connect().await {
        Ok(client) => Some(Watch {
            client,
            settings: settings.clone(),
            notify,
        }),
        Err(e) => {
            notify(format!(
                "not watching the server for pressure (no connection for it: {e})"
            ));
            None
        }
    }
}

impl Watch {
    /// Starts watching, with `workers` applying connections open; `notify`
    /// hears each pause, resume, change in connections applying, and
    /// giving up.
    pub async fn start(self, workers: usize) -> (Arc<Pressure>, tokio::task::JoinHandle<()>) {
        let Watch {
            client,
            settings,
            notify,
        } = self;
        let pressure = Arc::new(Pressure {
            spare: AtomicI64::new(i64::MAX),
            applying: AtomicUsize::new(workers),
            ..Pressure::default()
        });
        // The first sample is taken before any tenant starts. A server that
        // cannot be sampled is not pressure; the targets' own errors say
        // what is wrong.
        let first = sample(&client, &settings).await.ok();
        let floor = match (
            settings.min_free_connections,
            first.as_ref().and_then(|s| s.slots),
        ) {
            (SlotFloor::Off, _) | (SlotFloor::Automatic, None) => None,
            (SlotFloor::At(n), _) => Some(n),
            // A twentieth of what this role may open at all, at least 2 —
            // and never more than giving back all but one connection would
            // leave free: the default never holds apply up by itself.
            (SlotFloor::Automatic, Some(slots)) => Some(
                (slots.capacity / 20)
                    .max(2)
                    .min((slots.free + workers as i64 - 1).max(0)),
            ),
        };
        let mut watcher = Watcher {
            pressure: pressure.clone(),
            floor,
            notify,
            since: None,
            lock_clear: 0,
            said_applying: workers,
            max_pause: settings.max_pause,
        };
        if let Some(first) = first {
            watcher.judge(first);
        }
        let handle = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok(seen) = sample(&client, &settings).await {
                    if watcher.judge(seen) {
                        return;
                    }
                }
            }
        });
        (pressure, handle)
    }
}

/// The watcher's memory between samples.
struct Watcher {
    pressure: Arc<Pressure>,
    floor: Option<i64>,
    notify: Arc<dyn Fn(String) + Send + Sync>,
    /// When the current pressure (of either kind) began.
    since: Option<Instant>,
    /// Samples in a row clear of lock pressure.
    lock_clear: u32,
    /// Applying connections last said.
    said_applying: usize,
    max_pause: Duration,
}

impl Watcher {
    /// Takes a sample in; `true` once it gave up.
    fn judge(&mut self, seen: Sample) -> bool {
        let pressure = &self.pressure;
        let applying = pressure.applying.load(Ordering::SeqCst);
        if seen.lock.is_some() {
            self.lock_clear = 0;
            pressure.paused.store(true, Ordering::SeqCst);
        } else if pressure.paused.load(Ordering::SeqCst) {
            self.lock_clear += 1;
            if self.lock_clear >= 2 {
                pressure.paused.store(false, Ordering::SeqCst);
            }
        }
        let mut reason = seen.lock;
        if let (Some(free), Some(floor)) = (seen.slots.map(|s| s.free), self.floor) {
            pressure.spare.store(free - floor, Ordering::SeqCst);
            // Short of slots with connections to give back, or with none
            // left and none to take: either way apply is held up.
            if reason.is_none() && (free < floor || (applying == 0 && free <= floor)) {
                reason = Some(format!(
                    "{free} free connection slot{} (fewer than {floor} kept for others)",
                    plural(free)
                ));
            }
        }
        if applying != self.said_applying {
            (self.notify)(format!(
                "{applying} connection{} applying (was {}), to keep {} connection slots free for others",
                plural(applying as i64),
                self.said_applying,
                self.floor.unwrap_or(0)
            ));
            self.said_applying = applying;
        }
        match (reason, self.since) {
            (Some(reason), None) => {
                self.since = Some(Instant::now());
                (self.notify)(format!(
                    "backing off: {reason}; new tenants wait until it clears"
                ));
            }
            (Some(reason), Some(start)) => {
                if start.elapsed() > self.max_pause {
                    let why = format!(
                        "the server stayed under pressure for {}s ({reason})",
                        self.max_pause.as_secs()
                    );
                    (self.notify)(format!("giving up: {why}; the tenants left do not start"));
                    if let Ok(mut gave_up) = pressure.gave_up.lock() {
                        *gave_up = Some(why);
                    }
                    pressure.paused.store(false, Ordering::SeqCst);
                    return true;
                }
            }
            // Clear once the lock pause (two clear samples) is over too.
            (None, Some(start)) => {
                if !pressure.paused.load(Ordering::SeqCst) {
                    self.since = None;
                    (self.notify)(format!(
                        "pressure cleared after {:.0}s; new tenants start again",
                        start.elapsed().as_secs_f64()
                    ));
                }
            }
            (None, None) => {}
        }
        false
    }
}
