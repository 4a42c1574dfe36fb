//! Load benchmark of the app role's postback receiver (not a test: it prints figures).
//!
//! For each backend (a fresh SQLite file; PostgreSQL too when a URL is given) it starts the app
//! role on 127.0.0.1:0, creates N pending orders, signs one valid postback per order, then drives
//! them over loopback HTTP with bounded concurrency for a bounded time, and prints notices/s and
//! p50/p99 latency. Afterwards it checks that every acknowledged notice is in the database (one
//! `notices` row, the order `paid` with that transaction ID, one entitlement).
//!
//! ```text
//! cargo run --release -p mozmarket-server --bin mozmarket-loadbench -- \
//!     [--orders 20000] [--concurrency 64] [--seconds 30] [--postgres postgres://…]
//! ```

use axum::serve::ListenerExt;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use mozmarket_core::hs256::Hs256Key;
use mozmarket_core::pay::notice::{Notice, NoticeKind, NoticeResponse, Price};
use mozmarket_core::pay::request::{PayRequest, RequestObject};
use mozmarket_server::app::{self, AppConfig, KeyPair};
use mozmarket_server::db::{self, OpenOptions, Role};
use sqlx::Row as _;

const KEY: &str = "8e6b1f9e-2f4a-4b8e-9d2c-5b1a7c3e9f10";
const SECRET: &str = "load-benchmark-app-secret-0123456789abcdef";
const PROVIDER: &str = "http://127.0.0.1:9";

#[derive(Debug, Parser)]
#[command(name = "mozmarket-loadbench", about = "Drive postbacks at the app role and print notices/s and latency")]
struct Args {
    /// Orders (and postbacks) to create.
    #[arg(long, default_value_t = 20_000)]
    orders: usize,
    /// Postbacks in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Stop sending after this many seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Also run against this PostgreSQL URL (a throwaway schema is created and dropped).
    #[arg(long, env = "MOZMARKET_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
    /// Most notices committed in one transaction (the writer's batch limit).
    #[arg(long, default_value_t = 512)]
    batch_max: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        if !args.no_sqlite {
            let dir = std::env::temp_dir().join(format!("mozmarket-bench-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir)?;
            let url = format!("sqlite://{}", dir.join("app.sqlite").display());
            let result = run(&args, "sqlite (WAL, synchronous=FULL)", &url, None).await;
            let _ = std::fs::remove_dir_all(&dir);
            result?;
        }
        if let Some(pg) = &args.postgres {
            let schema = format!("mm_bench_{}", uuid::Uuid::new_v4().simple());
            let result = run(&args, "postgresql (synchronous_commit=on)", pg, Some(schema.clone())).await;
            db::drop_schema(pg, &schema).await?;
            result?;
        }
        Ok(())
    })
}

async fn run(args: &Args, label: &str, db_url: &str, schema: Option<String>) -> anyhow::Result<()> {
    let opts = OpenOptions { busy_timeout_ms: 5000, max_connections: None, schema };
    let database = db::open_with(db_url, Role::App, opts.clone()).await.context("opening the database")?;
    let provider_domain = "127.0.0.1:9";
    let key = Hs256Key::from_secret(SECRET)?;

    // N pending orders, written directly in large transactions.
    let t = Instant::now();
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let mut notices = Vec::with_capacity(args.orders);
    for chunk in (0..args.orders).collect::<Vec<_>>().chunks(2000) {
        let mut tx = database.pool.begin().await?;
        for _ in chunk {
            let order_id = uuid::Uuid::new_v4().to_string();
            let buyer = format!("bench-buyer-{:010}", notices.len() % 1000);
            let request = RequestObject {
                id: "shiny-pony".into(),
                price_point: "5".into(),
                name: "Shiny Pony".into(),
                description: "A shiny pony".into(),
                postback_url: "http://localhost:7801/mozpay/postback".into(),
                chargeback_url: "http://localhost:7801/mozpay/chargeback".into(),
                product_data: Some(format!("mm_order={order_id}")),
                icons: None,
                default_locale: Some("en".into()),
                locales: None,
                simulate: None,
            };
            let pay = PayRequest::new(KEY, provider_domain, now_s, request);
            sqlx::query("INSERT INTO buyers (id, created_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(&buyer)
                .bind(now_s * 1000)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO orders (id, buyer_id, product_id, price_point, app_key, request_json, jwt, \
                 simulated, jwt_iat_s, jwt_exp_s, idempotency_key, state, created_ms, updated_ms) \
                 VALUES ($1, $2, 'shiny-pony', '5', $3, $4, $5, 0, $6, $7, NULL, 'pending', $8, $9)",
            )
            .bind(&order_id)
            .bind(&buyer)
            .bind(KEY)
            .bind(pay.request.to_json().to_json_text())
            .bind(pay.sign(&key))
            .bind(pay.iat)
            .bind(pay.exp)
            .bind(now_s * 1000)
            .bind(now_s * 1000)
            .execute(&mut *tx)
            .await?;
            let txid = format!("webpay:{}", uuid::Uuid::new_v4());
            let notice = Notice::new(
                NoticeKind::Postback,
                provider_domain,
                KEY,
                now_s,
                pay.request.to_json(),
                NoticeResponse {
                    transaction_id: txid.clone(),
                    price: Some(Price { amount: "1.99".into(), currency: "USD".into() }),
                    reason: None,
                },
            );
            let body = format!("notice={}", notice.sign(&key));
            notices.push((order_id, txid, body));
        }
        tx.commit().await?;
    }
    let setup = t.elapsed();

    // The app role on 127.0.0.1:0 (no receipt fetches: only the notice path is measured).
    let mut cfg = AppConfig::new("http://localhost:7801", PROVIDER, vec![KeyPair { key: KEY.into(), secret: SECRET.into() }], KEY);
    cfg.receipt_fetch = false;
    cfg.write_batch_max = args.batch_max;
    cfg.provider_domain = provider_domain.into();
    let built = app::build(cfg, database.clone(), app::system_clock()).await?;
    let state = built.state.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener.tap_io(|s| { let _ = s.set_nodelay(true); }), built.router).await });
    let url = format!("http://{addr}/mozpay/postback");

    let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(args.concurrency).build()?;
    let notices = Arc::new(notices);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, notices, next, url) = (client.clone(), notices.clone(), next.clone(), url.clone());
        workers.spawn(async move {
            let mut acked = Vec::new();
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, txid, body)) = notices.get(i) else { break };
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) if r.status() == 200 => r.bytes().await.map(|b| b == txid.as_bytes()).unwrap_or(false),
                    _ => false,
                };
                latencies.push(t.elapsed());
                if ok {
                    acked.push(i);
                } else {
                    failures += 1;
                }
            }
            (acked, latencies, failures)
        });
    }
    let mut acked = Vec::new();
    let mut latencies = Vec::new();
    let mut failures = 0;
    while let Some(r) = workers.join_next().await {
        let (a, l, f) = r?;
        acked.extend(a);
        latencies.extend(l);
        failures += f;
    }
    let elapsed = start.elapsed();
    server.abort();

    // Every acknowledged notice is committed: read back through a new, independent pool.
    database.pool.close().await;
    let check = db::open_with(db_url, Role::App, opts.clone()).await?;
    let rows = sqlx::query(
        "SELECT n.transaction_id FROM notices n JOIN orders o ON o.id = n.order_id \
         JOIN entitlements e ON e.order_id = o.id \
         WHERE n.kind = 'postback' AND n.effect = 'applied' AND o.state = 'paid' AND o.transaction_id = n.transaction_id",
    )
    .fetch_all(&check.pool)
    .await?;
    let stored: HashSet<String> = rows.iter().filter_map(|r| r.try_get::<String, _>(0).ok()).collect();
    let missing = acked.iter().filter(|&&i| notices.get(i).is_none_or(|n| !stored.contains(&n.1))).count();

    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let idx = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(idx).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    };
    println!("== {label}");
    println!("   orders created            {} in {:.1} s", notices.len(), setup.as_secs_f64());
    println!("   concurrency               {}", args.concurrency);
    println!("   postbacks sent            {}", latencies.len());
    println!("   acknowledged (200 + id)   {}", acked.len());
    println!("   failed                    {failures}");
    println!("   elapsed                   {:.2} s", elapsed.as_secs_f64());
    println!("   notices/s                 {:.0}", acked.len() as f64 / elapsed.as_secs_f64());
    println!("   latency p50 / p99         {:.2} ms / {:.2} ms", pct(0.50), pct(0.99));
    let st = state.writer_stats();
    let (batches, ops) = (st.batches.load(Ordering::Relaxed).max(1), st.ops.load(Ordering::Relaxed));
    println!(
        "   writer                    {batches} transactions, {:.1} notices each, {:.0} µs applying + {:.0} µs begin/commit per transaction",
        ops as f64 / batches as f64,
        st.apply_us.load(Ordering::Relaxed) as f64 / batches as f64,
        st.commit_us.load(Ordering::Relaxed) as f64 / batches as f64
    );
    println!("   acknowledged but missing  {missing}");
    anyhow::ensure!(missing == 0, "{missing} acknowledged notices are not in the database");
    Ok(())
}
