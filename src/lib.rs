//! ctaudit: audit how CI systems get into AWS, from CloudTrail.

pub mod frame;
pub mod ingest;
pub mod policy;
pub mod reports;
pub mod time;
