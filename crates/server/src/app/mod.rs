//! The app server role (spec/payments.md §2).
//!
//! OWNER: the app engineer.
