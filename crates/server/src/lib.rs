//! `mozmarket-server`: the reference server of mozmarket.
//!
//! One binary, two roles on two origins (spec/payments.md §1.1):
//! - [`app`]: the app server a developer would run — buy, status (+ server-sent events),
//!   postback/chargeback receivers, receipts/restore/entitlements, and the demo web app;
//! - [`market`]: the simulated marketplace / payment provider — pay page, notice delivery,
//!   receipt signing, key publication, verify and reissue services, the developer hub.
//!
//! Each role has its own database (SQLite file by default, PostgreSQL when the URL says so) and
//! the two talk only over HTTP, even inside one process. Formats and checks come from
//! `mozmarket-core`, so the server and the browser share one implementation.

pub mod app;
pub mod config;
pub mod db;
pub mod market;
pub mod tools;
