//! Subcommands: each a module with its own `Args` and `run`.

pub mod athena;
pub mod baseline;
pub mod compact;
pub mod compare;
pub mod ingest;
pub mod list_reports;
pub mod networks;
pub mod policy;
pub mod query;
pub mod reading;
pub mod report;
pub mod source;
pub mod state;
pub mod trace;
pub mod trust;
pub mod window;
