//! `mozmarket-server`: run the reference server, or use its developer tools from the shell.

use axum::serve::ListenerExt;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mozmarket_server::app::{self, AppConfig, KeyPair, SimulateMode};
use mozmarket_server::config::{parse_key_pair, Roles, ServeArgs};
use mozmarket_server::{db, market, tools};
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(name = "mozmarket-server", version, about = "The mozmarket reference server: app server + simulated marketplace")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
enum Cmd {
    /// Run the server (both roles by default, on 127.0.0.1:7801 and 127.0.0.1:7802).
    Serve(Box<ServeArgs>),
    #[command(flatten)]
    Tool(tools::ToolCmd),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mozmarket-server: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.cmd {
            Cmd::Serve(args) => serve(*args).await,
            Cmd::Tool(cmd) => tools::run(cmd).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mozmarket-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.database_url {
        // One URL for both roles works only where each role gets its own schema.
        anyhow::ensure!(
            db::Backend::of_url(url) == db::Backend::Postgres,
            "DATABASE_URL must be a postgres:// URL (each role then uses its own schema); \
             for SQLite use --app-db and --market-db, or neither (files under --data-dir)"
        );
    }
    let uses_files = args.database_url.is_none() && (args.app_db.is_none() || args.market_db.is_none());
    if uses_files {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("creating {}", args.data_dir.display()))?;
    }
    let run_app = args.roles != Roles::Market;
    let run_market = args.roles != Roles::App;
    anyhow::ensure!(!args.demo || run_market, "--demo needs the market role");

    // App keys given by hand are checked before anything is created.
    let manual_keys = if run_app && !args.demo {
        let keys = args
            .app_keys
            .iter()
            .map(|s| parse_key_pair(s).map(|(key, secret)| KeyPair { key, secret }))
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            !keys.is_empty(),
            "the app role needs app keys: --app-key key=secret (or MOZMARKET_APP_KEYS), or --demo"
        );
        keys
    } else {
        Vec::new()
    };

    // The provider first: the demo bootstrap happens before either listener accepts requests.
    let mut demo = None;
    let mut market_router = None;
    if run_market {
        let cfg = market::MarketConfig {
            origin: args.market_origin.clone(),
            database_url: args.db_url(args.market_db.as_ref(), "market.sqlite"),
            admin_token: args.admin_token.clone(),
            demo_app_origin: args.demo.then(|| args.app_origin.clone()),
        };
        let (router, demo_app) = market::build(cfg).await.context("starting the market role")?;
        market_router = Some(router);
        demo = demo_app;
        if args.demo && demo.is_none() {
            anyhow::bail!("--demo: the market role returned no demo app");
        }
    }

    let mut app_router = None;
    if run_app {
        let (keys, signing_key, simulate, root_jwks) = match &demo {
            Some(d) => (
                d.keys.iter().map(|(k, s)| KeyPair { key: k.clone(), secret: s.clone() }).collect::<Vec<_>>(),
                d.signing_key.clone(),
                SimulateMode::Postback,
                Some(d.root_jwks.clone()),
            ),
            None => {
                let keys = manual_keys;
                let signing = args.signing_key.clone().or_else(|| keys.first().map(|k| k.key.clone()));
                (keys, signing.unwrap_or_default(), SimulateMode::None, None)
            }
        };
        let simulate = match &args.simulate {
            Some(s) => SimulateMode::parse(s).context("--simulate: none, postback, chargeback-refund or chargeback-reversal")?,
            None => simulate,
        };
        let mut cfg = AppConfig::new(&args.app_origin, &args.market_origin, keys, &signing_key);
        cfg.simulate = simulate;
        cfg.allowed_origins = args.allowed_origins.clone();
        cfg.path_prefix = args.path_prefix.clone();
        cfg.sse = !args.no_sse;
        cfg.cookie_cross_site = args.cookie_cross_site;
        cfg.web_root = Some(args.web_root.clone());
        cfg.demo.root_jwks = root_jwks;
        let database = db::open(&args.db_url(args.app_db.as_ref(), "app.sqlite"), db::Role::App)
            .await
            .context("opening the app database")?;
        let built = app::build(cfg, database, app::system_clock()).await.context("starting the app role")?;
        app_router = Some(built.router);
    }

    let mut servers = tokio::task::JoinSet::new();
    let shutdown = Arc::new(tokio::sync::Notify::new());
    if let Some(router) = market_router {
        let listener = TcpListener::bind(args.market_listen)
            .await
            .with_context(|| format!("binding {}", args.market_listen))?;
        println!("mozmarket: marketplace at {} (listening on {})", args.market_origin, args.market_listen);
        println!("mozmarket: developer hub at {}/dev/", args.market_origin);
        let stop = shutdown.clone();
        servers.spawn(async move {
            axum::serve(listener.tap_io(no_delay), router).with_graceful_shutdown(async move { stop.notified().await }).await
        });
    }
    if let Some(router) = app_router {
        let listener = TcpListener::bind(args.app_listen)
            .await
            .with_context(|| format!("binding {}", args.app_listen))?;
        println!("mozmarket: app server at {} (listening on {})", args.app_origin, args.app_listen);
        let stop = shutdown.clone();
        servers.spawn(async move {
            axum::serve(listener.tap_io(no_delay), router).with_graceful_shutdown(async move { stop.notified().await }).await
        });
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            println!("mozmarket: shutting down");
            shutdown.notify_waiters();
        }
        Some(done) = servers.join_next() => {
            shutdown.notify_waiters();
            done.context("server task")?.context("server")?;
        }
    }
    while let Some(done) = servers.join_next().await {
        done.context("server task")?.context("server")?;
    }
    Ok(())
}

/// Sends small writes at once (TCP_NODELAY): a server-sent event or a short JSON answer must not
/// wait for Nagle's algorithm (about 40 ms on loopback for the first event of a stream).
fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!("TCP_NODELAY not set: {e}");
    }
}
