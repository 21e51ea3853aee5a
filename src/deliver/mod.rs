//! Where a finished report goes besides its file: an incoming webhook
//! (Slack, Teams, or anything that takes a JSON POST).

pub mod webhook;
