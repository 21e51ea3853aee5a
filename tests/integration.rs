//! The integration tests: one test binary, one module per area.
//!
//! Each `tests/*.rs` was its own binary, and each linked ctaudit's library
//! (the AWS clients, polars) again: 24 binaries, 1.56 GB of a 4.7 GB debug
//! build, which once ran CI's disk out. As modules of one binary they link
//! once (0.32 GB). Run one area with `cargo test --test integration
//! <module>::`, e.g. `cargo test --test integration fuzz::`.
//!
//! The crate root is not called `main.rs` on purpose: proptest keeps a
//! test file's regressions beside it (`tests/fuzz.proptest-regressions`)
//! only while no `main.rs` or `lib.rs` sits in its folder.

mod common;

mod athena;
mod athena_client;
mod aws_api;
mod aws_s3;
mod aws_tls;
mod browser;
mod cli;
mod columns;
mod compact;
mod corpus;
mod fuzz;
mod geoip;
mod hostile;
mod html;
mod investigate;
mod networks;
mod scan;
mod second_trail;
mod snapshots;
mod store;
mod summary;
mod trust;
mod unattended;
mod weekly;
