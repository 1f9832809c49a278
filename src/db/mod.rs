//! The I/O shell's database side: connecting (or starting the local
//! cluster), introspecting and applying.

pub mod apply;
pub mod backoff;
pub mod connect;
pub mod conversions;
pub mod history;
pub mod introspect;
pub mod local;
pub mod lock;
pub mod materialize;
pub mod mongo;
pub mod rollout;

pub use connect::Database;
