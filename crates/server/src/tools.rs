//! Developer tools on the same binary: key generation, pay JWTs, receipts, test notices.
//!
//! OWNER: the market engineer. `main.rs` flattens [`ToolCmd`] into its subcommands and calls
//! [`run`].

/// The developer-tool subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ToolCmd {}

/// Runs one tool subcommand.
pub async fn run(cmd: ToolCmd) -> anyhow::Result<()> {
    match cmd {}
}
