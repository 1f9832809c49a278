//! Normalization: the code both sides share so equivalent schemas compare
//! equal — types, expressions and PostgreSQL's implicit names.

pub mod expr;
pub mod names;
pub mod qualifier;
pub mod stored;
pub mod types;
