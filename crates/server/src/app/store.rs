//! The app role's storage: reads, and the single writer that applies every change.
//!
//! **Group commit.** Handlers send an [`Op`] to the writer task and wait for its answer. The
//! writer takes the first waiting op plus everything else already queued (up to
//! `write_batch_max`), applies them one after another inside **one** transaction, commits, and
//! only then answers each caller. So one fsync covers a whole batch, every acknowledged change is
//! durable, and ops never race each other (one writer). Each op reads before it writes and writes
//! nothing when it rejects, so a rejected op in a batch leaves no trace.
//!
//! If a batch fails with a transient error (database busy, locked, unreachable) every op in it is
//! answered [`StoreError::Unavailable`] and nothing is committed. If it fails with any other
//! error, the batch is rolled back and its ops are retried one per transaction, so one bad op
//! cannot take the others down.
//!
//! **Idempotency** of notices is the `notices` primary key `(transaction_id, kind)`: the insert
//! uses `ON CONFLICT DO NOTHING` and zero affected rows means a duplicate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use mozmarket_core::pay::ids::normalize_price_point;
use mozmarket_core::pay::notice::{request_matches_order, NoticeKind};
use mozmarket_core::pay::request::ChargebackReason;
use mozmarket_core::Json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::db::{Backend, Db};

/// Why the store could not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The database is busy, locked or unreachable: try again (`503 STORE_UNAVAILABLE`).
    Unavailable,
    /// Anything else (`500 INTERNAL_ERROR`).
    Internal,
}

/// Classifies a database error: constraint violations and decoding errors are internal; busy,
/// locked, I/O, pool and protocol failures are "unavailable".
pub fn classify(e: &sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
                StoreError::Internal
            } else {
                StoreError::Unavailable
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable,
        _ => StoreError::Internal,
    }
}

/// Order states (§2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// Created by a buy request; no postback yet.
    Pending,
    /// A verified postback arrived: the entitlement is granted, the receipt is being fetched.
    Paid,
    /// The receipt is stored.
    Complete,
    /// A chargeback with reason `refund`.
    Refunded,
    /// A chargeback with reason `reversal`.
    Reversed,
    /// Swept after staying `pending` for 24 h (a late postback still completes it).
    Abandoned,
}

impl OrderState {
    /// The stored name, e.g. `paid`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Pending => "pending",
            OrderState::Paid => "paid",
            OrderState::Complete => "complete",
            OrderState::Refunded => "refunded",
            OrderState::Reversed => "reversed",
            OrderState::Abandoned => "abandoned",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => OrderState::Pending,
            "paid" => OrderState::Paid,
            "complete" => OrderState::Complete,
            "refunded" => OrderState::Refunded,
            "reversed" => OrderState::Reversed,
            "abandoned" => OrderState::Abandoned,
            _ => return None,
        })
    }

    fn of_reason(reason: ChargebackReason) -> Self {
        match reason {
            ChargebackReason::Refund => OrderState::Refunded,
            ChargebackReason::Reversal => OrderState::Reversed,
        }
    }
}

/// A new order (§2.2 "Order record").
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The order id (UUID v4).
    pub id: String,
    /// The buyer (from the `mm_buyer` cookie).
    pub buyer_id: String,
    /// The product.
    pub product_id: String,
    /// The product's price point.
    pub price_point: String,
    /// The app key that signs the pay JWT.
    pub app_key: String,
    /// The pay request's `request` object, as JSON text.
    pub request_json: String,
    /// The signed pay JWT.
    pub jwt: String,
    /// `request.simulate` is present.
    pub simulated: bool,
    /// The JWT's `iat`, seconds.
    pub iat_s: i64,
    /// The JWT's `exp`, seconds (a replay is answered until then).
    pub exp_s: i64,
    /// The buy request's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// The time of the request, milliseconds.
    pub now_ms: i64,
    /// The most `pending` orders a buyer may have (`TooManyPending` beyond).
    pub max_pending: i64,
}

/// The result of [`Op::CreateOrder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new order.
    Created,
    /// Same buyer, key and product within the JWT's lifetime: the earlier order.
    Replay { order_id: String, product_id: String, jwt: String, simulated: bool },
    /// The same `Idempotency-Key` with another product (`409 IDEMPOTENCY_KEY_REUSED`).
    KeyReused,
    /// The buyer has too many `pending` orders (`429 TOO_MANY_PENDING_ORDERS`).
    TooManyPending,
}

/// A verified notice to apply (§2.5 steps 10–12).
#[derive(Debug, Clone)]
pub struct NoticeOp {
    /// Postback or chargeback.
    pub kind: NoticeKind,
    /// The signed `response.transactionID` (with `kind`, the idempotency key).
    pub transaction_id: String,
    /// The order named by `productData`.
    pub order_id: String,
    /// *K*: the app key whose secret verified the notice.
    pub app_key: String,
    /// The echoed `request` object.
    pub request: Json,
    /// A chargeback's reason.
    pub reason: Option<ChargebackReason>,
    /// The notice's `iat`, seconds.
    pub iat_s: i64,
    /// The time of receipt, milliseconds.
    pub now_ms: i64,
}

/// The result of [`Op::Notice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeOutcome {
    /// Step 10: no such order.
    UnknownOrder,
    /// Step 11: the echo does not match the order, or another key verified it.
    OrderMismatch,
    /// `(transaction_id, kind)` was already recorded: no effect.
    Duplicate,
    /// Recorded; `new_state` is the order's state afterwards (`None`: unchanged). `paid` means
    /// the receipt fetch should start.
    Recorded { new_state: Option<OrderState>, duplicate_of_order: bool },
}

/// The result of [`Op::StoreReceipt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// Stored; the order is now `complete`.
    Completed,
    /// Replaced the receipt of a `complete` order.
    Refreshed,
    /// Not stored (the order was charged back, or is not paid).
    Discarded,
}

/// A change for the writer.
#[derive(Debug, Clone)]
pub enum Op {
    /// Create an order (or find the one an idempotent replay names).
    CreateOrder(NewOrder),
    /// Apply a verified notice (§2.7).
    Notice(NoticeOp),
    /// Store a fetched receipt (and its `exp`, seconds) for a paid or complete order.
    StoreReceipt { order_id: String, receipt: String, exp_s: i64, now_ms: i64 },
    /// Mark a paid order whose receipt could not be fetched.
    ReceiptUnavailable { order_id: String, now_ms: i64 },
    /// Mark `pending` orders created at or before `cutoff_ms` as `abandoned`.
    Sweep { cutoff_ms: i64, now_ms: i64 },
}

/// The writer's answer to an [`Op`] (same variant order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// For [`Op::CreateOrder`].
    Order(CreateOutcome),
    /// For [`Op::Notice`].
    Notice(NoticeOutcome),
    /// For [`Op::StoreReceipt`].
    Receipt(ReceiptOutcome),
    /// For [`Op::ReceiptUnavailable`]: whether the order was newly marked.
    Flagged(bool),
    /// For [`Op::Sweep`]: how many orders were abandoned.
    Swept(u64),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<OpResult, StoreError>>,
}

/// Counters of the writer (for the load benchmark and logs).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed (or attempted).
    pub batches: AtomicU64,
    /// Ops applied.
    pub ops: AtomicU64,
    /// Microseconds spent applying ops (statements before the commit).
    pub apply_us: AtomicU64,
    /// Microseconds spent in `BEGIN` and `COMMIT` (the fsync).
    pub commit_us: AtomicU64,
}

/// The handle of the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    stats: Arc<WriterStats>,
}

impl Writer {
    /// Starts the writer task.
    pub fn spawn(db: Db, events: broadcast::Sender<Arc<str>>, max_batch: usize) -> Writer {
        let (tx, rx) = mpsc::channel(max_batch.saturating_mul(4).max(64));
        let stats = Arc::new(WriterStats::default());
        tokio::spawn(writer_loop(db, events, rx, max_batch, stats.clone()));
        Writer { tx, stats }
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Applies `op` and returns its result once it is committed.
    pub async fn run(&self, op: Op) -> Result<OpResult, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job { op, reply }).await.map_err(|_| StoreError::Unavailable)?;
        answer.await.unwrap_or(Err(StoreError::Unavailable))
    }
}

async fn writer_loop(
    db: Db,
    events: broadcast::Sender<Arc<str>>,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    stats: Arc<WriterStats>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let ops: Vec<&Op> = batch.iter().map(|j| &j.op).collect();
        match apply_batch(&db, &ops, Some(&stats)).await {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    announce(&events, &job.op, &result);
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) if batch.len() > 1 && classify(&e) == StoreError::Internal => {
                tracing::warn!(error = %e, ops = batch.len(), "write batch failed; retrying its ops one by one");
                for job in batch.drain(..) {
                    let result = match apply_batch(&db, &[&job.op], None).await {
                        Ok(mut r) => r.pop().ok_or(StoreError::Internal),
                        Err(e) => {
                            tracing::warn!(error = %e, "write failed");
                            Err(classify(&e))
                        }
                    };
                    if let Ok(r) = &result {
                        announce(&events, &job.op, r);
                    }
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                let class = classify(&e);
                tracing::warn!(error = %e, ops = batch.len(), "write batch failed; nothing committed");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(class));
                }
            }
        }
    }
}

/// Tells the status event streams which order changed (after the commit).
fn announce(events: &broadcast::Sender<Arc<str>>, op: &Op, result: &OpResult) {
    let order = match (op, result) {
        (Op::Notice(n), OpResult::Notice(NoticeOutcome::Recorded { new_state: Some(_), .. })) => {
            &n.order_id
        }
        (Op::StoreReceipt { order_id, .. }, OpResult::Receipt(ReceiptOutcome::Completed)) => order_id,
        (Op::ReceiptUnavailable { order_id, .. }, OpResult::Flagged(true)) => order_id,
        _ => return,
    };
    let _ = events.send(Arc::from(order.as_str()));
}

async fn apply_batch(db: &Db, ops: &[&Op], stats: Option<&WriterStats>) -> Result<Vec<OpResult>, sqlx::Error> {
    let t0 = Instant::now();
    let mut tx = match db.backend {
        // Take the write lock up front: a deferred transaction that reads first could fail with
        // SQLITE_BUSY_SNAPSHOT instead of waiting for the busy timeout.
        Backend::Sqlite => db.pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => db.pool.begin().await?,
    };
    let t1 = Instant::now();
    let mut results: Vec<Option<OpResult>> = vec![None; ops.len()];
    // Postbacks whose order no other op of this batch touches are applied set-wise: a few
    // statements for all of them instead of four each. They commute with the rest of the batch
    // (disjoint orders), so the outcome equals applying the batch one op at a time.
    let bulk = bulk_candidates(ops);
    if bulk.len() > 1 {
        let notices: Vec<&NoticeOp> = bulk.iter().filter_map(|&i| match ops.get(i) {
            Some(Op::Notice(n)) => Some(n),
            _ => None,
        }).collect();
        let outcomes = bulk_postbacks(&mut tx, db.backend, &notices).await?;
        for (&i, outcome) in bulk.iter().zip(outcomes) {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(OpResult::Notice(outcome));
            }
        }
    }
    for (op, slot) in ops.iter().zip(results.iter_mut()) {
        if slot.is_none() {
            *slot = Some(apply(&mut tx, db.backend, op).await?);
        }
    }
    let results: Vec<OpResult> = results.into_iter().flatten().collect();
    if results.len() != ops.len() {
        return Err(sqlx::Error::Protocol("writer lost an op result".into()));
    }
    let t2 = Instant::now();
    tx.commit().await?;
    if let Some(stats) = stats {
        let us = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.ops.fetch_add(ops.len() as u64, Ordering::Relaxed);
        stats.apply_us.fetch_add(us(t2 - t1), Ordering::Relaxed);
        stats.commit_us.fetch_add(us(t1 - t0) + us(t2.elapsed()), Ordering::Relaxed);
    }
    Ok(results)
}

async fn apply(conn: &mut AnyConnection, backend: Backend, op: &Op) -> Result<OpResult, sqlx::Error> {
    Ok(match op {
        Op::CreateOrder(o) => OpResult::Order(create_order(conn, o).await?),
        Op::Notice(n) => OpResult::Notice(apply_notice(conn, backend, n).await?),
        Op::StoreReceipt { order_id, receipt, exp_s, now_ms } => {
            OpResult::Receipt(store_receipt(conn, backend, order_id, receipt, *exp_s, *now_ms).await?)
        }
        Op::ReceiptUnavailable { order_id, now_ms } => {
            let done = sqlx::query(
                "UPDATE orders SET receipt_unavailable = 1, updated_ms = $1 \
                 WHERE id = $2 AND state = 'paid' AND receipt_unavailable = 0",
            )
            .bind(*now_ms)
            .bind(order_id.as_str())
            .execute(&mut *conn)
            .await?;
            OpResult::Flagged(done.rows_affected() > 0)
        }
        Op::Sweep { cutoff_ms, now_ms } => {
            let done = sqlx::query(
                "UPDATE orders SET state = 'abandoned', updated_ms = $1 \
                 WHERE state = 'pending' AND created_ms <= $2",
            )
            .bind(*now_ms)
            .bind(*cutoff_ms)
            .execute(&mut *conn)
            .await?;
            OpResult::Swept(done.rows_affected())
        }
    })
}

async fn create_order(conn: &mut AnyConnection, o: &NewOrder) -> Result<CreateOutcome, sqlx::Error> {
    let now_s = o.now_ms.div_euclid(1000);
    let mut expired_holder: Option<String> = None;
    if let Some(key) = &o.idempotency_key {
        let row = sqlx::query(
            "SELECT id, product_id, jwt, simulated, jwt_exp_s FROM orders \
             WHERE buyer_id = $1 AND idempotency_key = $2",
        )
        .bind(o.buyer_id.as_str())
        .bind(key.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            let id: String = row.try_get(0)?;
            let product_id: String = row.try_get(1)?;
            let exp_s: i64 = row.try_get(4)?;
            if now_s < exp_s {
                if product_id != o.product_id {
                    return Ok(CreateOutcome::KeyReused);
                }
                let jwt: String = row.try_get(2)?;
                let simulated: i64 = row.try_get(3)?;
                return Ok(CreateOutcome::Replay {
                    order_id: id,
                    product_id,
                    jwt,
                    simulated: simulated != 0,
                });
            }
            expired_holder = Some(id);
        }
    }
    let pending: i64 = sqlx::query("SELECT COUNT(*) FROM orders WHERE buyer_id = $1 AND state = 'pending'")
        .bind(o.buyer_id.as_str())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    if pending >= o.max_pending {
        return Ok(CreateOutcome::TooManyPending);
    }
    // Writes start here; nothing above wrote.
    if let Some(old) = expired_holder {
        // The key was remembered until that order's JWT expired; it now starts a new order.
        sqlx::query("UPDATE orders SET idempotency_key = NULL, updated_ms = $1 WHERE id = $2")
            .bind(o.now_ms)
            .bind(old)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("INSERT INTO buyers (id, created_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
        .bind(o.buyer_id.as_str())
        .bind(o.now_ms)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO orders (id, buyer_id, product_id, price_point, app_key, request_json, jwt, \
         simulated, jwt_iat_s, jwt_exp_s, idempotency_key, state, created_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13)",
    )
    .bind(o.id.as_str())
    .bind(o.buyer_id.as_str())
    .bind(o.product_id.as_str())
    .bind(o.price_point.as_str())
    .bind(o.app_key.as_str())
    .bind(o.request_json.as_str())
    .bind(o.jwt.as_str())
    .bind(i64::from(o.simulated))
    .bind(o.iat_s)
    .bind(o.exp_s)
    .bind(o.idempotency_key.clone())
    .bind(o.now_ms)
    .bind(o.now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(CreateOutcome::Created)
}

/// What a notice does to its order (§2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// `pending`/`abandoned` + postback: `paid`, ID recorded, entitlement granted.
    Pay,
    /// `pending`/`abandoned` + chargeback: `refunded`/`reversed`, ID recorded, no entitlement.
    ChargeUnpaid(OrderState),
    /// `paid`/`complete` + chargeback of the recorded transaction: revoke everything.
    ChargePaid(OrderState),
    /// A chargeback of one of the order's duplicate transactions.
    RefundDuplicate,
    /// Acknowledge only.
    NoChange,
}

fn select_order_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT buyer_id, product_id, app_key, request_json, state, transaction_id \
             FROM orders WHERE id = $1"
        }
        Backend::Postgres => {
            "SELECT buyer_id, product_id, app_key, request_json, state, transaction_id \
             FROM orders WHERE id = $1 FOR UPDATE"
        }
    }
}

fn state_of(row: &AnyRow, index: usize) -> Result<OrderState, sqlx::Error> {
    let s: String = row.try_get(index)?;
    OrderState::parse(&s).ok_or_else(|| sqlx::Error::Decode(format!("unknown order state {s:?}").into()))
}

/// The columns of an order that the notice path needs.
struct OrderRow {
    buyer_id: String,
    product_id: String,
    app_key: String,
    request_json: String,
    state: OrderState,
    recorded: Option<String>,
}

/// `SELECT buyer_id, product_id, app_key, request_json, state, transaction_id` → [`OrderRow`]
/// (columns from `offset`).
fn order_row(row: &AnyRow, offset: usize) -> Result<OrderRow, sqlx::Error> {
    Ok(OrderRow {
        buyer_id: row.try_get(offset)?,
        product_id: row.try_get(offset + 1)?,
        app_key: row.try_get(offset + 2)?,
        request_json: row.try_get(offset + 3)?,
        state: state_of(row, offset + 4)?,
        recorded: row.try_get(offset + 5)?,
    })
}

/// Steps 10–11 and the §2.7 decision, before anything is written: `Err(outcome)` rejects.
fn decide(n: &NoticeOp, order: Option<&OrderRow>) -> Result<Result<(bool, Plan), NoticeOutcome>, sqlx::Error> {
    // Step 10: the order exists.
    let Some(order) = order else { return Ok(Err(NoticeOutcome::UnknownOrder)) };
    // Step 11: the echo matches the stored request, and K is the order's key.
    let stored = mozmarket_core::json::parse(order.request_json.as_bytes())
        .map_err(|_| sqlx::Error::Decode("stored request is not JSON".into()))?;
    if order.app_key != n.app_key || !request_matches_order(&n.request, &stored) {
        return Ok(Err(NoticeOutcome::OrderMismatch));
    }
    let own = order.recorded.as_deref() == Some(n.transaction_id.as_str());
    let fresh = order.recorded.is_none();
    use OrderState as S;
    Ok(Ok(match (n.kind, n.reason) {
        (NoticeKind::Postback, _) => match order.state {
            S::Pending | S::Abandoned if fresh => (false, Plan::Pay),
            _ if own => (false, Plan::NoChange),
            _ => (true, Plan::NoChange),
        },
        (NoticeKind::Chargeback, reason) => {
            let target = OrderState::of_reason(reason.unwrap_or(ChargebackReason::Refund));
            match order.state {
                S::Pending | S::Abandoned if fresh => (false, Plan::ChargeUnpaid(target)),
                S::Paid | S::Complete if own => (false, Plan::ChargePaid(target)),
                _ if own => (false, Plan::NoChange),
                _ => (true, Plan::RefundDuplicate),
            }
        }
    }))
}

/// Indices of the postbacks in `ops` whose order no other op of the batch names.
fn bulk_candidates(ops: &[&Op]) -> Vec<usize> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for op in ops {
        let order = match op {
            Op::Notice(n) => Some(n.order_id.as_str()),
            Op::StoreReceipt { order_id, .. } | Op::ReceiptUnavailable { order_id, .. } => Some(order_id.as_str()),
            Op::CreateOrder(o) => Some(o.id.as_str()),
            Op::Sweep { .. } => None,
        };
        if let Some(order) = order {
            *seen.entry(order).or_default() += 1;
        }
    }
    // A sweep touches any pending order: keep everything sequential then.
    if ops.iter().any(|op| matches!(op, Op::Sweep { .. })) {
        return Vec::new();
    }
    ops.iter()
        .enumerate()
        .filter_map(|(i, op)| match op {
            Op::Notice(n) if n.kind == NoticeKind::Postback && seen.get(n.order_id.as_str()) == Some(&1) => Some(i),
            _ => None,
        })
        .collect()
}

/// `$first, $first+1, …` (n placeholders).
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Most postbacks per set-wise step.
const BULK_CHUNK: usize = 256;

/// The orders of a `json_group_array(json_array(id, buyer_id, product_id, app_key,
/// request_json, state, transaction_id))` text, by id.
fn parse_order_rows(text: &str) -> Result<std::collections::HashMap<String, OrderRow>, sqlx::Error> {
    let bad = || sqlx::Error::Decode("unexpected order rows".into());
    let doc = mozmarket_core::json::parse(text.as_bytes()).map_err(|_| bad())?;
    let mut out = std::collections::HashMap::new();
    for row in doc.as_array().ok_or_else(bad)? {
        let cols = row.as_array().ok_or_else(bad)?;
        let text = |i: usize| cols.get(i).and_then(Json::as_str).map(str::to_owned).ok_or_else(bad);
        let state = OrderState::parse(&text(5)?).ok_or_else(bad)?;
        let recorded = match cols.get(6) {
            Some(Json::Null) => None,
            Some(Json::Str(t)) => Some(t.clone()),
            _ => return Err(bad()),
        };
        out.insert(
            text(0)?,
            OrderRow {
                buyer_id: text(1)?,
                product_id: text(2)?,
                app_key: text(3)?,
                request_json: text(4)?,
                state,
                recorded,
            },
        );
    }
    Ok(out)
}

/// Applies postbacks to distinct orders set-wise: five statements, each answering at most one
/// row, per chunk of up to 256 notices, whatever the chunk's size. Lists are padded to a power of
/// two by repeating their last element (harmless in `IN` lists and `DO NOTHING` inserts), so the
/// statement cache sees only a few distinct texts.
async fn bulk_postbacks(
    conn: &mut AnyConnection,
    backend: Backend,
    ops: &[&NoticeOp],
) -> Result<Vec<NoticeOutcome>, sqlx::Error> {
    use std::collections::HashSet;
    let mut out = Vec::with_capacity(ops.len());
    for chunk in ops.chunks(BULK_CHUNK) {
        let Some(&last) = chunk.last() else { continue };
        let size = chunk.len().next_power_of_two();
        let at = |i: usize| -> &NoticeOp { chunk.get(i).copied().unwrap_or(last) };
        // Steps 10–11: the orders, as one JSON row.
        let ids = placeholders(1, size);
        let sql = match backend {
            Backend::Sqlite => format!(
                "SELECT json_group_array(json_array(id, buyer_id, product_id, app_key, request_json, \
                 state, transaction_id)) FROM orders WHERE id IN ({ids})"
            ),
            Backend::Postgres => format!(
                "SELECT COALESCE(json_agg(json_build_array(id, buyer_id, product_id, app_key, \
                 request_json, state, transaction_id))::text, '[]') \
                 FROM (SELECT * FROM orders WHERE id IN ({ids}) FOR UPDATE) o"
            ),
        };
        let mut q = sqlx::query(&sql);
        for i in 0..size {
            q = q.bind(at(i).order_id.as_str());
        }
        let text: Option<String> = q.fetch_one(&mut *conn).await?.try_get(0)?;
        let orders = parse_order_rows(text.as_deref().unwrap_or("[]"))?;
        let mut decisions = Vec::with_capacity(chunk.len());
        for n in chunk {
            decisions.push(decide(n, orders.get(&n.order_id))?);
        }
        // Which of them are already recorded (duplicate deliveries).
        let sql = format!(
            "SELECT transaction_id FROM notices WHERE kind = 'postback' AND transaction_id IN ({})",
            placeholders(1, size)
        );
        let mut q = sqlx::query(&sql);
        for i in 0..size {
            q = q.bind(at(i).transaction_id.as_str());
        }
        let mut recorded: HashSet<String> = HashSet::new();
        for row in q.fetch_all(&mut *conn).await? {
            recorded.insert(row.try_get(0)?);
        }
        // Step 12: the notice rows first.
        let mut go: Vec<(&NoticeOp, bool)> = Vec::new();
        let mut inserted: HashSet<&str> = HashSet::new();
        for (n, d) in chunk.iter().zip(&decisions) {
            if let Ok((dup, _)) = d {
                if !recorded.contains(&n.transaction_id) && inserted.insert(n.transaction_id.as_str()) {
                    go.push((n, *dup));
                }
            }
        }
        if let Some(&(go_last, go_last_dup)) = go.last() {
            let gsize = go.len().next_power_of_two();
            let values = (0..gsize).map(|i| format!("({})", placeholders(1 + i * 7, 7))).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "INSERT INTO notices (transaction_id, kind, order_id, effect, reason, iat_s, received_ms) \
                 VALUES {values} ON CONFLICT (transaction_id, kind) DO NOTHING"
            );
            let mut q = sqlx::query(&sql);
            for i in 0..gsize {
                let (n, dup) = go.get(i).copied().unwrap_or((go_last, go_last_dup));
                q = q
                    .bind(n.transaction_id.as_str())
                    .bind(n.kind.as_str())
                    .bind(n.order_id.as_str())
                    .bind(if dup { "duplicate" } else { "applied" })
                    .bind(None::<String>)
                    .bind(n.iat_s)
                    .bind(n.now_ms);
            }
            let done = q.execute(&mut *conn).await?.rows_affected();
            if done != go.len() as u64 {
                // Someone else recorded one of them meanwhile (another server on the same
                // PostgreSQL database): let the one-by-one path sort it out.
                return Err(sqlx::Error::Decode("notice inserted concurrently; retrying one by one".into()));
            }
        }
        // The orders that become `paid`, with their entitlements.
        let pay: Vec<&NoticeOp> = chunk
            .iter()
            .zip(&decisions)
            .filter(|(n, d)| matches!(d, Ok((_, Plan::Pay))) && inserted.contains(n.transaction_id.as_str()))
            .map(|(n, _)| *n)
            .collect();
        if let Some(&pay_last) = pay.last() {
            let psize = pay.len().next_power_of_two();
            let pat = |i: usize| -> &NoticeOp { pay.get(i).copied().unwrap_or(pay_last) };
            let cases = (0..psize).map(|i| format!("WHEN ${} THEN ${}", 2 + 2 * i, 3 + 2 * i)).collect::<Vec<_>>().join(" ");
            let sql = format!(
                "UPDATE orders SET state = 'paid', receipt_unavailable = 0, updated_ms = $1, \
                 transaction_id = CASE id {cases} END WHERE id IN ({})",
                placeholders(2 + 2 * psize, psize)
            );
            let mut q = sqlx::query(&sql).bind(pay_last.now_ms);
            for i in 0..psize {
                q = q.bind(pat(i).order_id.as_str()).bind(pat(i).transaction_id.as_str());
            }
            for i in 0..psize {
                q = q.bind(pat(i).order_id.as_str());
            }
            q.execute(&mut *conn).await?;
            let sql = format!(
                "INSERT INTO entitlements (order_id, buyer_id, product_id, transaction_id, granted_ms) \
                 SELECT id, buyer_id, product_id, transaction_id, $1 FROM orders WHERE id IN ({}) \
                 ON CONFLICT (order_id) DO NOTHING",
                placeholders(2, psize)
            );
            let mut q = sqlx::query(&sql).bind(pay_last.now_ms);
            for i in 0..psize {
                q = q.bind(pat(i).order_id.as_str());
            }
            q.execute(&mut *conn).await?;
        }
        for (n, d) in chunk.iter().zip(decisions) {
            out.push(match d {
                Err(reject) => reject,
                Ok(_) if !inserted.contains(n.transaction_id.as_str()) => NoticeOutcome::Duplicate,
                Ok((duplicate_of_order, plan)) => NoticeOutcome::Recorded {
                    new_state: (plan == Plan::Pay).then_some(OrderState::Paid),
                    duplicate_of_order,
                },
            });
        }
    }
    Ok(out)
}

async fn apply_notice(
    conn: &mut AnyConnection,
    backend: Backend,
    n: &NoticeOp,
) -> Result<NoticeOutcome, sqlx::Error> {
    let row = sqlx::query(select_order_sql(backend))
        .bind(n.order_id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let order = row.as_ref().map(|r| order_row(r, 0)).transpose()?;
    let (duplicate_of_order, plan) = match decide(n, order.as_ref())? {
        Ok(go) => go,
        Err(reject) => return Ok(reject),
    };
    let Some(OrderRow { buyer_id, product_id, .. }) = order else {
        return Ok(NoticeOutcome::UnknownOrder);
    };
    // Step 12: the notice row first; a conflict is a duplicate delivery.
    let inserted = sqlx::query(
        "INSERT INTO notices (transaction_id, kind, order_id, effect, reason, iat_s, received_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (transaction_id, kind) DO NOTHING",
    )
    .bind(n.transaction_id.as_str())
    .bind(n.kind.as_str())
    .bind(n.order_id.as_str())
    .bind(if duplicate_of_order { "duplicate" } else { "applied" })
    .bind(n.reason.map(|r| r.as_str().to_owned()))
    .bind(n.iat_s)
    .bind(n.now_ms)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(NoticeOutcome::Duplicate);
    }
    let new_state = match plan {
        Plan::Pay => {
            sqlx::query(
                "UPDATE orders SET state = 'paid', transaction_id = $1, receipt_unavailable = 0, \
                 updated_ms = $2 WHERE id = $3",
            )
            .bind(n.transaction_id.as_str())
            .bind(n.now_ms)
            .bind(n.order_id.as_str())
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO entitlements (order_id, buyer_id, product_id, transaction_id, granted_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(n.order_id.as_str())
            .bind(buyer_id.as_str())
            .bind(product_id.as_str())
            .bind(n.transaction_id.as_str())
            .bind(n.now_ms)
            .execute(&mut *conn)
            .await?;
            Some(OrderState::Paid)
        }
        Plan::ChargeUnpaid(target) => {
            sqlx::query("UPDATE orders SET state = $1, transaction_id = $2, updated_ms = $3 WHERE id = $4")
                .bind(target.as_str())
                .bind(n.transaction_id.as_str())
                .bind(n.now_ms)
                .bind(n.order_id.as_str())
                .execute(&mut *conn)
                .await?;
            Some(target)
        }
        Plan::ChargePaid(target) => {
            sqlx::query("UPDATE orders SET state = $1, updated_ms = $2 WHERE id = $3")
                .bind(target.as_str())
                .bind(n.now_ms)
                .bind(n.order_id.as_str())
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE entitlements SET revoked_ms = $1 WHERE order_id = $2 AND revoked_ms IS NULL",
            )
            .bind(n.now_ms)
            .bind(n.order_id.as_str())
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE receipts SET revoked = 1 WHERE order_id = $1")
                .bind(n.order_id.as_str())
                .execute(&mut *conn)
                .await?;
            Some(target)
        }
        Plan::RefundDuplicate => {
            sqlx::query(
                "UPDATE notices SET refunded = 1 \
                 WHERE transaction_id = $1 AND kind = 'postback' AND order_id = $2",
            )
            .bind(n.transaction_id.as_str())
            .bind(n.order_id.as_str())
            .execute(&mut *conn)
            .await?;
            None
        }
        Plan::NoChange => None,
    };
    Ok(NoticeOutcome::Recorded { new_state, duplicate_of_order })
}

async fn store_receipt(
    conn: &mut AnyConnection,
    backend: Backend,
    order_id: &str,
    receipt: &str,
    exp_s: i64,
    now_ms: i64,
) -> Result<ReceiptOutcome, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => "SELECT state FROM orders WHERE id = $1",
        Backend::Postgres => "SELECT state FROM orders WHERE id = $1 FOR UPDATE",
    };
    let Some(row) = sqlx::query(sql).bind(order_id).fetch_optional(&mut *conn).await? else {
        return Ok(ReceiptOutcome::Discarded);
    };
    let state = state_of(&row, 0)?;
    if !matches!(state, OrderState::Paid | OrderState::Complete) {
        return Ok(ReceiptOutcome::Discarded);
    }
    sqlx::query(
        "INSERT INTO receipts (order_id, receipt, exp_s, issued_ms, revoked) VALUES ($1, $2, $3, $4, 0) \
         ON CONFLICT (order_id) DO UPDATE SET receipt = excluded.receipt, exp_s = excluded.exp_s, \
         issued_ms = excluded.issued_ms",
    )
    .bind(order_id)
    .bind(receipt)
    .bind(exp_s)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if state == OrderState::Complete {
        return Ok(ReceiptOutcome::Refreshed);
    }
    sqlx::query(
        "UPDATE orders SET state = 'complete', receipt_unavailable = 0, updated_ms = $1 WHERE id = $2",
    )
    .bind(now_ms)
    .bind(order_id)
    .execute(&mut *conn)
    .await?;
    Ok(ReceiptOutcome::Completed)
}

// ---------------------------------------------------------------------------------------------
// Reads

/// What the status endpoints need of an order.
#[derive(Debug, Clone)]
pub struct OrderView {
    /// The order's state.
    pub state: OrderState,
    /// The receipt fetch failed (`failed` with `RECEIPT_UNAVAILABLE` for a paid order).
    pub receipt_unavailable: bool,
    /// The product.
    pub product_id: String,
    /// The provider's transaction ID, once a notice named it.
    pub transaction_id: Option<String>,
    /// The stored receipt, if any.
    pub receipt: Option<String>,
}

/// The order `id` of `buyer`, with its receipt.
pub async fn order_view(db: &Db, id: &str, buyer: &str) -> Result<Option<OrderView>, StoreError> {
    let row = sqlx::query(
        "SELECT o.state, o.receipt_unavailable, o.product_id, o.transaction_id, r.receipt \
         FROM orders o LEFT JOIN receipts r ON r.order_id = o.id \
         WHERE o.id = $1 AND o.buyer_id = $2",
    )
    .bind(id)
    .bind(buyer)
    .fetch_optional(&db.pool)
    .await
    .map_err(|e| read_error(&e))?;
    let Some(row) = row else { return Ok(None) };
    let view = (|| -> Result<OrderView, sqlx::Error> {
        Ok(OrderView {
            state: state_of(&row, 0)?,
            receipt_unavailable: row.try_get::<i64, _>(1)? != 0,
            product_id: row.try_get(2)?,
            transaction_id: row.try_get(3)?,
            receipt: row.try_get(4)?,
        })
    })()
    .map_err(|e| read_error(&e))?;
    Ok(Some(view))
}

fn read_error(e: &sqlx::Error) -> StoreError {
    tracing::warn!(error = %e, "read failed");
    classify(e)
}

/// One order of a buyer, as the receipt endpoints see it.
#[derive(Debug, Clone)]
pub struct BuyerOrder {
    /// The order id.
    pub id: String,
    /// The product.
    pub product_id: String,
    /// The app key the order was made with.
    pub app_key: String,
    /// The order's state.
    pub state: OrderState,
    /// The provider's transaction ID, if known.
    pub transaction_id: Option<String>,
    /// The stored receipt, if any.
    pub receipt: Option<String>,
    /// The stored receipt's `exp`, seconds.
    pub receipt_exp_s: Option<i64>,
}

/// The buyer's orders in the given states (newest first), optionally of one product.
pub async fn buyer_orders(
    db: &Db,
    buyer: &str,
    product: Option<&str>,
    states: &[OrderState],
) -> Result<Vec<BuyerOrder>, StoreError> {
    let rows = sqlx::query(
        "SELECT o.id, o.product_id, o.app_key, o.state, o.transaction_id, r.receipt, r.exp_s \
         FROM orders o LEFT JOIN receipts r ON r.order_id = o.id \
         WHERE o.buyer_id = $1 AND ($2 = '' OR o.product_id = $3) \
         ORDER BY o.created_ms DESC, o.id DESC",
    )
    .bind(buyer)
    .bind(product.unwrap_or(""))
    .bind(product.unwrap_or(""))
    .fetch_all(&db.pool)
    .await
    .map_err(|e| read_error(&e))?;
    let mut out = Vec::new();
    for row in rows {
        let order = (|| -> Result<BuyerOrder, sqlx::Error> {
            Ok(BuyerOrder {
                id: row.try_get(0)?,
                product_id: row.try_get(1)?,
                app_key: row.try_get(2)?,
                state: state_of(&row, 3)?,
                transaction_id: row.try_get(4)?,
                receipt: row.try_get(5)?,
                receipt_exp_s: row.try_get(6)?,
            })
        })()
        .map_err(|e| read_error(&e))?;
        if states.contains(&order.state) {
            out.push(order);
        }
    }
    Ok(out)
}

/// A current entitlement.
#[derive(Debug, Clone)]
pub struct Entitlement {
    /// The product.
    pub product_id: String,
    /// The order that granted it.
    pub order_id: String,
    /// The transaction of that order.
    pub transaction_id: String,
    /// When it was granted, milliseconds since the epoch.
    pub granted_ms: i64,
}

/// The buyer's entitlements that are granted and not revoked, newest first.
pub async fn entitlements(db: &Db, buyer: &str) -> Result<Vec<Entitlement>, StoreError> {
    let rows = sqlx::query(
        "SELECT product_id, order_id, transaction_id, granted_ms FROM entitlements \
         WHERE buyer_id = $1 AND revoked_ms IS NULL ORDER BY granted_ms DESC, order_id DESC",
    )
    .bind(buyer)
    .fetch_all(&db.pool)
    .await
    .map_err(|e| read_error(&e))?;
    rows.iter()
        .map(|row| {
            Ok(Entitlement {
                product_id: row.try_get(0)?,
                order_id: row.try_get(1)?,
                transaction_id: row.try_get(2)?,
                granted_ms: row.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| read_error(&e))
}

/// The normalised price point of a catalogue value (re-exported for the buy handler).
pub(crate) fn price_point_of(v: &Json) -> Option<String> {
    normalize_price_point(v)
}
