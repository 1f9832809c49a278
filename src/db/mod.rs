//! The I/O shell's database side: connecting (or starting the local
//! cluster), introspecting and applying.

pub mod apply;
pub mod connect;
pub mod introspect;
pub mod local;

pub use connect::Database;
