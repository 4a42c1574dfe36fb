//! Postback and chargeback delivery (spec/payments.md §4.4) with the SSRF guard of §4.5.
//!
//! The queue is the `notices` table (`next_attempt_at`), so retries survive a restart. A tokio
//! task claims due notices (at most `notify.workers` at once, one per transaction, a chargeback
//! only after its transaction's postback has settled), re-signs each attempt with a fresh `iat`,
//! checks the URL's origin against the app's current notice origins, resolves the host, refuses
//! blocked addresses without connecting, and connects to the checked address itself (no second
//! lookup, no proxy, no redirects, no cookies). Success is status 200 with the body, trimmed of
//! ASCII whitespace, equal to the transaction ID.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use mozmarket_core::hs256::Hs256Key;
use mozmarket_core::pay::{
    notice_delivered, ChargebackReason, Notice, NoticeKind, NoticeResponse, Price,
};
use tokio::sync::Semaphore;

use super::store::{self, AttemptRecord, Mode, NoticeRow};
use super::{AppState, NotifyConfig, RuleSet};

/// At most this much of a receiver's answer is read (§4.4 step 6).
const MAX_BODY: usize = 1024;
/// The hub shows this much of a failed answer (§4.4 "Failure reporting").
const SHOWN_BODY: usize = 200;

/// The network rules of one delivery attempt (§4.5 rule 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetPolicy {
    /// Loopback addresses may be reached (local development).
    pub allow_loopback: bool,
    /// Private addresses (RFC 1918, `fc00::/7`, `fec0::/10`) may be reached.
    pub allow_private: bool,
}

/// Why an address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    /// `0.0.0.0/8` or `::`.
    Unspecified,
    /// Link-local (`169.254.0.0/16`, `fe80::/10`).
    LinkLocal,
    /// Multicast (and the rest of IPv4 `224.0.0.0` and above).
    Multicast,
    /// The IPv4 broadcast address.
    Broadcast,
    /// A private range, not allowed by the policy.
    Private,
    /// Carrier-grade NAT (`100.64.0.0/10`).
    Cgnat,
    /// Loopback, not allowed by the policy.
    Loopback,
    /// The resolver returned no address.
    NoAddress,
}

fn classify_v4(ip: Ipv4Addr) -> Option<BlockReason> {
    let o = ip.octets();
    if o[0] == 0 {
        return Some(BlockReason::Unspecified);
    }
    if ip.is_broadcast() {
        return Some(BlockReason::Broadcast);
    }
    if ip.is_multicast() || o[0] >= 224 {
        return Some(BlockReason::Multicast);
    }
    if ip.is_link_local() {
        return Some(BlockReason::LinkLocal);
    }
    if ip.is_loopback() {
        return Some(BlockReason::Loopback);
    }
    if ip.is_private() {
        return Some(BlockReason::Private);
    }
    if o[0] == 100 && (o[1] & 0xc0) == 64 {
        return Some(BlockReason::Cgnat);
    }
    None
}

fn classify_v6(ip: Ipv6Addr) -> Option<BlockReason> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let seg = ip.segments();
    let first = seg.first().copied().unwrap_or(0);
    if ip.is_unspecified() {
        return Some(BlockReason::Unspecified);
    }
    if ip.is_loopback() {
        return Some(BlockReason::Loopback);
    }
    if ip.is_multicast() {
        return Some(BlockReason::Multicast);
    }
    if (first & 0xffc0) == 0xfe80 {
        return Some(BlockReason::LinkLocal);
    }
    // fc00::/7 (unique local) and the deprecated site-local fec0::/10.
    if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfec0 {
        return Some(BlockReason::Private);
    }
    // The IPv4-compatible form ::a.b.c.d (deprecated) carries an IPv4 address too.
    if seg.iter().take(6).all(|s| *s == 0) {
        let o = ip.octets();
        let v4 = Ipv4Addr::new(
            o.get(12).copied().unwrap_or(0),
            o.get(13).copied().unwrap_or(0),
            o.get(14).copied().unwrap_or(0),
            o.get(15).copied().unwrap_or(0),
        );
        return classify_v4(v4);
    }
    None
}

/// The block reason of one address under `policy`, `None` when it may be connected to.
pub fn blocked(ip: IpAddr, policy: NetPolicy) -> Option<BlockReason> {
    let reason = match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }?;
    match reason {
        BlockReason::Loopback if policy.allow_loopback => None,
        BlockReason::Private if policy.allow_private => None,
        r => Some(r),
    }
}

/// §4.5 rule 2: if **any** resolved address is blocked, the whole host is refused; otherwise the
/// first address is the one to connect to.
pub fn ssrf_check_addrs(addrs: &[SocketAddr], policy: NetPolicy) -> Result<SocketAddr, BlockReason> {
    for a in addrs {
        if let Some(r) = blocked(a.ip(), policy) {
            return Err(r);
        }
    }
    addrs.first().copied().ok_or(BlockReason::NoAddress)
}

/// The outcome of one attempt (§4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Http(u16),
    WrongBody,
    Redirect,
    Timeout,
    ConnectError,
    TlsError,
    BodyTooLarge,
    SsrfBlocked,
}

impl Outcome {
    pub fn code(&self) -> String {
        match self {
            Outcome::Delivered => "DELIVERED".into(),
            Outcome::Http(s) => format!("HTTP_{s}"),
            Outcome::WrongBody => "WRONG_BODY".into(),
            Outcome::Redirect => "REDIRECT".into(),
            Outcome::Timeout => "TIMEOUT".into(),
            Outcome::ConnectError => "CONNECT_ERROR".into(),
            Outcome::TlsError => "TLS_ERROR".into(),
            Outcome::BodyTooLarge => "BODY_TOO_LARGE".into(),
            Outcome::SsrfBlocked => "SSRF_BLOCKED".into(),
        }
    }
}

/// The wait after failed attempt `n` (1-based): `base × factor^(n-1) × U(1 - jitter, 1 + jitter)`,
/// with `u` uniform in `[0, 1)`.
pub fn retry_delay_ms(cfg: &NotifyConfig, n: u32, u: f64) -> u64 {
    let exp = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
    let jitter = cfg.jitter.clamp(0.0, 1.0);
    let scale = 1.0 - jitter + 2.0 * jitter * u.clamp(0.0, 1.0);
    let ms = (cfg.base_ms as f64) * cfg.factor.max(0.0).powi(exp) * scale;
    if ms.is_finite() && ms > 0.0 {
        // `as` saturates; a delay beyond u64 is no delay anyone waits for.
        ms.round() as u64
    } else {
        0
    }
}

/// What one attempt produced.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub body: Vec<u8>,
}

impl AttemptResult {
    fn only(outcome: Outcome) -> Self {
        AttemptResult { outcome, status: None, body: Vec::new() }
    }
}

/// The network policy in force (§4.5, §8.6).
pub fn net_policy(st: &AppState) -> NetPolicy {
    let allow_loopback = st.opts.notify.allow_loopback.unwrap_or(st.opts.rules == RuleSet::Dev);
    NetPolicy { allow_loopback, allow_private: st.opts.notify.allow_private }
}

/// The exact origin (`scheme://host[:port]`) of a URL.
pub fn url_origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Sends one notice body to `url` under the SSRF guard. `notice_origins` are the app's current
/// notice origins; `transaction_id` decides success.
pub async fn deliver(
    st: &AppState,
    url: &str,
    notice_origins: &[String],
    form_body: String,
    transaction_id: &str,
) -> AttemptResult {
    let Ok(parsed) = url::Url::parse(url) else { return AttemptResult::only(Outcome::SsrfBlocked) };
    // Rule 1: the origin must still be registered.
    let origin = url_origin(&parsed);
    if !notice_origins.contains(&origin) {
        return AttemptResult::only(Outcome::SsrfBlocked);
    }
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return AttemptResult::only(Outcome::SsrfBlocked);
    };
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.username().is_empty() || parsed.password().is_some() {
        return AttemptResult::only(Outcome::SsrfBlocked);
    }
    let cfg = &st.opts.notify;
    let started = Instant::now();
    let connect_limit = Duration::from_millis(cfg.connect_timeout_ms);
    let total_limit = Duration::from_millis(cfg.total_timeout_ms);
    // Rule 2: resolve, then refuse if any address is blocked.
    let addrs = match tokio::time::timeout(connect_limit, st.opts.resolver.resolve(host, port)).await {
        Ok(Ok(a)) => a,
        Ok(Err(_)) => return AttemptResult::only(Outcome::ConnectError),
        Err(_) => return AttemptResult::only(Outcome::Timeout),
    };
    let addr = match ssrf_check_addrs(&addrs, net_policy(st)) {
        Ok(a) => a,
        Err(BlockReason::NoAddress) => return AttemptResult::only(Outcome::ConnectError),
        Err(_) => return AttemptResult::only(Outcome::SsrfBlocked),
    };
    if parsed.scheme() == "https" {
        // This build carries no TLS stack; an https receiver cannot be reached.
        return AttemptResult::only(Outcome::TlsError);
    }
    // Rule 3: connect to the checked address, no second lookup.
    let stream = match tokio::time::timeout(connect_limit, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return AttemptResult::only(Outcome::ConnectError),
        Err(_) => return AttemptResult::only(Outcome::Timeout),
    };
    let host_header = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let remaining = total_limit.saturating_sub(started.elapsed());
    let exchange = exchange(stream, host_header, path, form_body, st.opts.version.clone());
    match tokio::time::timeout(remaining, exchange).await {
        Err(_) => AttemptResult::only(Outcome::Timeout),
        Ok(Err(outcome)) => AttemptResult::only(outcome),
        Ok(Ok((status, body, too_large))) => {
            let outcome = if (300..400).contains(&status) {
                Outcome::Redirect
            } else if status != 200 {
                Outcome::Http(status)
            } else if too_large {
                Outcome::BodyTooLarge
            } else if notice_delivered(status, &body, transaction_id) {
                Outcome::Delivered
            } else {
                Outcome::WrongBody
            };
            AttemptResult { outcome, status: Some(status), body }
        }
    }
}

/// One HTTP/1.1 exchange over an established connection: `(status, first ≤ 1 KiB of the body,
/// whether the body was longer)`.
async fn exchange(
    stream: tokio::net::TcpStream,
    host: String,
    path: String,
    form_body: String,
    version: String,
) -> Result<(u16, Vec<u8>, bool), Outcome> {
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(io).await.map_err(|_| Outcome::ConnectError)?;
    let conn_task = tokio::spawn(async move {
        let _ = conn.await;
    });
    let len = form_body.len();
    let req = hyper::Request::builder()
        .method(hyper::Method::POST)
        .uri(path)
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(hyper::header::CONTENT_LENGTH, len)
        .header(hyper::header::USER_AGENT, format!("mozmarket-notifier/{version}"))
        .header(hyper::header::CONNECTION, "close")
        .body(Full::new(Bytes::from(form_body)))
        .map_err(|_| Outcome::ConnectError)?;
    let resp: hyper::Response<Incoming> = sender.send_request(req).await.map_err(|_| Outcome::ConnectError)?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    let mut too_large = false;
    if !(300..400).contains(&status) {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            if let Ok(data) = frame.into_data() {
                let room = (MAX_BODY + 1).saturating_sub(buf.len());
                buf.extend(data.iter().take(room));
                if buf.len() > MAX_BODY {
                    too_large = true;
                    buf.truncate(MAX_BODY);
                    break;
                }
            }
        }
    }
    conn_task.abort();
    Ok((status, buf, too_large))
}

/// Builds and signs the notice of one attempt (§4.4 step 1): fresh `iat`, `exp = iat + 3600`,
/// the same transaction ID, `request` and `response`.
pub fn build_notice(
    st: &AppState,
    tx: &store::Transaction,
    notice: &NoticeRow,
    secret: &Hs256Key,
    iat: i64,
) -> anyhow::Result<String> {
    let request = mozmarket_core::json::parse_with(tx.request_json.as_bytes(), mozmarket_core::hs256::LIMITS)
        .map_err(|e| anyhow::anyhow!("stored request does not parse: {e:?}"))?;
    let kind = if notice.kind == "chargeback" { NoticeKind::Chargeback } else { NoticeKind::Postback };
    let reason = match kind {
        NoticeKind::Chargeback => notice.reason.as_deref().and_then(ChargebackReason::parse),
        NoticeKind::Postback => None,
    };
    let response = NoticeResponse {
        transaction_id: tx.transaction_id.clone(),
        price: Some(Price { amount: tx.amount.clone(), currency: tx.currency.clone() }),
        reason,
    };
    let n = Notice::new(kind, &st.domain, &tx.key, iat, request, response);
    Ok(n.sign(secret))
}

fn lossy_prefix(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let cut = body.get(..SHOWN_BODY.min(body.len())).unwrap_or_default();
    Some(String::from_utf8_lossy(cut).into_owned())
}

/// Runs one attempt of a claimed notice and records it.
async fn run_attempt(st: AppState, notice: NoticeRow) {
    if let Err(e) = run_attempt_inner(&st, &notice).await {
        tracing::error!(error = %e, notice = notice.id, "market: notice attempt failed internally");
        // Put it back so it is not stuck in `delivering`.
        let now = st.now_ms();
        let rec = AttemptRecord {
            notice_id: notice.id,
            series: notice.series,
            attempt: notice.attempts.saturating_add(1),
            started_ms: now,
            duration_ms: 0,
            url: notice.url.clone(),
            http_status: None,
            outcome: "CONNECT_ERROR".into(),
            body_prefix: None,
            iat: now.div_euclid(1000),
        };
        let next = schedule_after(&st, &rec);
        let _ = store::finish_attempt(&st.db, &rec, next.0, next.1, now).await;
    }
}

/// The state after an attempt: `delivered`, `retry_wait` (with the next time) or `failed`.
fn schedule_after(st: &AppState, rec: &AttemptRecord) -> (&'static str, Option<i64>) {
    if rec.outcome == "DELIVERED" {
        return ("delivered", None);
    }
    let max = i64::from(st.opts.notify.max_attempts.max(1));
    if rec.outcome == "SSRF_BLOCKED" || rec.attempt >= max {
        return ("failed", None);
    }
    let n = u32::try_from(rec.attempt).unwrap_or(u32::MAX);
    let delay = retry_delay_ms(&st.opts.notify, n, rand::random::<f64>());
    let next = st.now_ms().saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
    ("retry_wait", Some(next))
}

async fn run_attempt_inner(st: &AppState, notice: &NoticeRow) -> anyhow::Result<()> {
    let tx = store::tx_by_number(&st.db, notice.transaction_number)
        .await?
        .ok_or_else(|| anyhow::anyhow!("notice without transaction"))?;
    let settings = store::effective_settings(&st.db, tx.app_id).await?;
    if settings.mode == Mode::Slow {
        tokio::time::sleep(Duration::from_millis(u64::try_from(settings.slow_ms).unwrap_or(0))).await;
    }
    // Notices of transactions made with a revoked key are still signed with its secret (§8.2).
    let key = store::get_key(&st.db, &tx.key).await?.ok_or_else(|| anyhow::anyhow!("notice without key"))?;
    let app = store::get_app(&st.db, tx.app_id).await?.ok_or_else(|| anyhow::anyhow!("notice without app"))?;
    let secret = if settings.mode == Mode::CorruptNotices {
        Hs256Key::from_secret(&store::random_token(32)).map_err(|_| anyhow::anyhow!("random secret"))?
    } else {
        Hs256Key::from_secret(&key.secret).map_err(|_| anyhow::anyhow!("stored secret too short"))?
    };
    let started_ms = st.now_ms();
    let iat = st.now_secs();
    let jwt = build_notice(st, &tx, notice, &secret, iat)?;
    let body = format!("notice={jwt}");
    let clock = Instant::now();
    let result = deliver(st, &notice.url, &app.notice_origins, body, &tx.transaction_id).await;
    let rec = AttemptRecord {
        notice_id: notice.id,
        series: notice.series,
        attempt: notice.attempts.saturating_add(1),
        started_ms,
        duration_ms: i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX),
        url: notice.url.clone(),
        http_status: result.status.map(i64::from),
        outcome: result.outcome.code(),
        body_prefix: match result.outcome {
            Outcome::Delivered => None,
            _ => lossy_prefix(&result.body),
        },
        iat,
    };
    let (state, next) = schedule_after(st, &rec);
    store::finish_attempt(&st.db, &rec, state, next, st.now_ms()).await?;
    match state {
        "delivered" => tracing::info!(
            transaction_id = %tx.transaction_id, kind = %notice.kind, attempt = rec.attempt,
            "market: notice delivered"
        ),
        "failed" => tracing::warn!(
            transaction_id = %tx.transaction_id, kind = %notice.kind, attempts = rec.attempt,
            outcome = %rec.outcome, "market: notice failed"
        ),
        _ => tracing::info!(
            transaction_id = %tx.transaction_id, kind = %notice.kind, attempt = rec.attempt,
            outcome = %rec.outcome, "market: notice attempt failed, will retry"
        ),
    }
    Ok(())
}

/// One pass of the worker: claims and starts due notices while permits are free.
async fn dispatch(st: &AppState, permits: &Arc<Semaphore>) -> anyhow::Result<()> {
    let free = permits.available_permits();
    if free == 0 {
        return Ok(());
    }
    let now = st.now_ms();
    let due = store::due_notices(&st.db, now, i64::try_from(free).unwrap_or(1)).await?;
    let mut started_tx: Vec<i64> = Vec::new();
    for n in due {
        if started_tx.contains(&n.transaction_number) {
            continue;
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else { break };
        if !store::claim_notice(&st.db, n.id, &n.state, st.now_ms()).await? {
            continue;
        }
        started_tx.push(n.transaction_number);
        let st2 = st.clone();
        tokio::spawn(async move {
            run_attempt(st2.clone(), n).await;
            drop(permit);
            st2.wake.notify_one();
        });
    }
    Ok(())
}

/// Starts the delivery worker on the current tokio runtime.
pub fn spawn_worker(st: AppState) {
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(st.opts.notify.workers.max(1)));
        loop {
            if st.stop.load(std::sync::atomic::Ordering::SeqCst) {
                tracing::info!("market: notice worker stopped");
                break;
            }
            if let Err(e) = dispatch(&st, &permits).await {
                tracing::error!(error = %e, "market: notice worker pass failed");
            }
            let now = st.now_ms();
            let wait_ms = match store::next_due_ms(&st.db).await {
                Ok(Some(t)) if t > now => (t - now).clamp(1, 1000),
                // Due but blocked (a chargeback behind its postback, or no free permit): a
                // completion wakes us; poll slowly meanwhile.
                Ok(Some(_)) => 250,
                Ok(None) | Err(_) => 1000,
            };
            let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(1000));
            tokio::select! {
                _ = st.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const DEFAULT: NetPolicy = NetPolicy { allow_loopback: false, allow_private: false };

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_the_spec_ranges() {
        for (addr, reason) in [
            ("0.0.0.0", BlockReason::Unspecified),
            ("169.254.169.254", BlockReason::LinkLocal),
            ("224.0.0.1", BlockReason::Multicast),
            ("255.255.255.255", BlockReason::Broadcast),
            ("10.0.0.5", BlockReason::Private),
            ("172.16.0.1", BlockReason::Private),
            ("172.31.255.255", BlockReason::Private),
            ("192.168.1.1", BlockReason::Private),
            ("100.64.0.1", BlockReason::Cgnat),
            ("100.127.255.255", BlockReason::Cgnat),
            ("127.0.0.1", BlockReason::Loopback),
            ("127.8.9.10", BlockReason::Loopback),
            ("::", BlockReason::Unspecified),
            ("::1", BlockReason::Loopback),
            ("fe80::1", BlockReason::LinkLocal),
            ("ff02::1", BlockReason::Multicast),
            ("fc00::1", BlockReason::Private),
            ("fd12:3456::1", BlockReason::Private),
            ("::ffff:10.0.0.5", BlockReason::Private),
            ("::ffff:169.254.169.254", BlockReason::LinkLocal),
            ("::ffff:127.0.0.1", BlockReason::Loopback),
            ("::ffff:100.64.1.1", BlockReason::Cgnat),
        ] {
            assert_eq!(blocked(ip(addr), DEFAULT), Some(reason), "{addr}");
        }
        for addr in ["93.184.216.34", "100.128.0.1", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert_eq!(blocked(ip(addr), DEFAULT), None, "{addr}");
        }
    }

    #[test]
    fn loopback_and_private_switches() {
        let lo = NetPolicy { allow_loopback: true, allow_private: false };
        assert_eq!(blocked(ip("127.0.0.1"), lo), None);
        assert_eq!(blocked(ip("::1"), lo), None);
        assert_eq!(blocked(ip("10.0.0.1"), lo), Some(BlockReason::Private));
        let pr = NetPolicy { allow_loopback: false, allow_private: true };
        assert_eq!(blocked(ip("10.0.0.1"), pr), None);
        assert_eq!(blocked(ip("169.254.169.254"), pr), Some(BlockReason::LinkLocal));
    }

    #[test]
    fn any_blocked_address_refuses_the_host() {
        let good: SocketAddr = "93.184.216.34:80".parse().unwrap();
        let bad: SocketAddr = "10.0.0.5:80".parse().unwrap();
        assert_eq!(ssrf_check_addrs(&[good, bad], DEFAULT), Err(BlockReason::Private));
        assert_eq!(ssrf_check_addrs(&[good], DEFAULT), Ok(good));
        assert_eq!(ssrf_check_addrs(&[], DEFAULT), Err(BlockReason::NoAddress));
    }

    #[test]
    fn retry_schedule() {
        let cfg = NotifyConfig::default();
        // Nominal waits 5 s, 15 s, 45 s, 135 s, 405 s, 1215 s (u = 0.5 means no jitter).
        let nominal: Vec<u64> = (1..=6).map(|n| retry_delay_ms(&cfg, n, 0.5)).collect();
        assert_eq!(nominal, vec![5000, 15_000, 45_000, 135_000, 405_000, 1_215_000]);
        assert_eq!(retry_delay_ms(&cfg, 1, 0.0), 4000);
        assert_eq!(retry_delay_ms(&cfg, 1, 1.0), 6000);
        assert_eq!(nominal.iter().sum::<u64>(), 1_820_000); // about 30 min in all
    }
}
