//! Integration tests against a real PostgreSQL (see support.rs). One test
//! binary, so the whole suite shares one throwaway cluster.

mod support;

mod aggregates;
mod approval;
mod bad_input;
mod cases;
mod ci;
mod commands;
mod comments;
mod composites;
mod convergence;
mod core;
mod domains;
mod dumps;
mod enums;
mod event_triggers;
mod examples;
mod extensions;
mod fleet;
mod hardening;
mod hazards;
mod inspect;
mod mongo;
mod partitions;
mod policies;
mod privileges;
mod review;
mod rollback;
mod rollout;
mod routines;
mod seeds;
mod shared_schemas;
mod stored_desired;
mod type_users;
mod unmanaged;
mod views;
