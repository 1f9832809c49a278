//! kschema's pure core: load the desired state, normalize, diff, plan and
//! render. Nothing here talks to a database; introspection and apply live
//! in the `kschema` binary crate and meet this crate at [`catalog`] (rows in)
//! and [`plan`] (statements out).

pub mod catalog;
pub mod definition;
pub mod diagnostic;
pub mod diff;
pub mod escape;
pub mod hazard;
pub mod ident;
pub mod lint;
pub mod load;
pub mod model;
pub mod mongo;
pub mod normalize;
pub mod offline;
pub mod plan;
pub mod render;
pub mod rollout;
pub mod seed_value;
pub mod snapshot;
pub mod sql;
pub mod unmanaged;

pub use diagnostic::{Problem, SourceFile};
