//! Subcommands: each a module with its own `Args` and `run`.

pub mod list_reports;
pub mod report;
