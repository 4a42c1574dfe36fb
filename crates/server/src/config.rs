//! Configuration of both roles (spec/payments.md §10 "Defaults at a glance").

/// Default app origin (§1.1).
pub const DEFAULT_APP_ORIGIN: &str = "http://localhost:7801";
/// Default provider origin (§1.1).
pub const DEFAULT_MARKET_ORIGIN: &str = "http://127.0.0.1:7802";
