//! Developer tools on the same binary: key generation, pay JWTs, receipts, test notices.
//!
//! OWNER: the market engineer. `main.rs` flattens [`ToolCmd`] into its subcommands and calls
//! [`run`].
//!
//! ```text
//! mozmarket-server keygen receipt-root --out root.pem          # P-256 root key; prints its JWKS
//! mozmarket-server keygen app-secret                            # a key (UUID v4) and a 43-char secret
//! mozmarket-server pay sign --key K --secret-file s.txt --id shiny-pony --price-point 5 \
//!     --name "Shiny Pony" --description "…" --notice-origin http://localhost:7801 --simulate postback
//! mozmarket-server pay inspect <jwt> [--secret-file s.txt]
//! mozmarket-server receipt sign --root-key root.pem --app-origin http://localhost:7801 --inapp-id shiny-pony
//! mozmarket-server receipt inspect <receipt>
//! mozmarket-server receipt verify <receipt> --jwks jwks.json --app-origin http://localhost:7801
//! mozmarket-server notice send --url http://127.0.0.1:7801/mozpay/postback --key K --secret-file s.txt
//! ```
//!
//! Secrets are read from a file or an environment variable, never from the command line, and are
//! never printed except by `keygen`, whose job it is.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::Context as _;
use base64::Engine as _;
use mozmarket_core::hs256::{self, Hs256Key, JwsAlg};
use mozmarket_core::json::Json;
use mozmarket_core::pay::{
    certify, jwks_document, key_id, receipt_payload, sign_receipt, ChargebackReason, KeyRole, Notice, NoticeKind,
    NoticeResponse, PayRequest, Price, ReceiptInput, ReceiptKind, RequestObject, Simulate, TransactionId, TxKind,
    RECEIPT_LIFETIME_SECS,
};
use mozmarket_core::sign::SigningKey;

use crate::market::clock::system_now_ms;

/// The developer-tool subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum ToolCmd {
    /// Generate a receipt root key or an app key and secret.
    #[command(subcommand)]
    Keygen(KeygenCmd),
    /// Sign or inspect a pay request JWT (payments §3).
    #[command(subcommand)]
    Pay(PayCmd),
    /// Sign, inspect or verify a receipt (`cert~receipt`, payments §6).
    #[command(subcommand)]
    Receipt(ReceiptCmd),
    /// Sign a test postback or chargeback and POST it to a receiver on this machine.
    #[command(subcommand)]
    Notice(NoticeCmd),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AlgArg {
    Es256,
    Rs256,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeygenCmd {
    /// A receipt root key: writes the private key (PKCS#8 PEM) and prints the public JWKS.
    ReceiptRoot {
        /// Where to write the private key (mode 0600); standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "es256")]
        alg: AlgArg,
    },
    /// An app key (UUID v4) and a secret (32 random bytes, base64url), as the developer hub makes.
    AppSecret,
}

/// Where an app secret comes from.
#[derive(Debug, clap::Args)]
pub struct SecretArgs {
    /// A file holding the app secret (surrounding whitespace is ignored).
    #[arg(long)]
    secret_file: Option<PathBuf>,
    /// The app secret (better set through the environment than on the command line).
    #[arg(long = "secret-env", env = "MOZMARKET_APP_SECRET", hide_env_values = true)]
    secret: Option<String>,
}

impl SecretArgs {
    fn key(&self) -> anyhow::Result<Option<Hs256Key>> {
        let text = match (&self.secret_file, &self.secret) {
            (Some(path), _) => std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
            (None, Some(s)) => s.clone(),
            (None, None) => return Ok(None),
        };
        let key = Hs256Key::from_secret(text.trim())
            .map_err(|_| anyhow::anyhow!("the app secret must be at least 32 bytes"))?;
        Ok(Some(key))
    }

    fn required(&self) -> anyhow::Result<Hs256Key> {
        self.key()?.context("give the app secret with --secret-file or MOZMARKET_APP_SECRET")
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SimulateArg {
    None,
    Postback,
    ChargebackRefund,
    ChargebackReversal,
}

impl SimulateArg {
    fn to_simulate(self) -> Option<Simulate> {
        match self {
            SimulateArg::None => None,
            SimulateArg::Postback => Some(Simulate::postback()),
            SimulateArg::ChargebackRefund => Some(Simulate::chargeback(ChargebackReason::Refund)),
            SimulateArg::ChargebackReversal => Some(Simulate::chargeback(ChargebackReason::Reversal)),
        }
    }
}

/// The `request` object of a pay JWT, from flags.
#[derive(Debug, clap::Args)]
pub struct RequestArgs {
    #[arg(long, default_value = "shiny-pony")]
    id: String,
    #[arg(long, default_value = "5")]
    price_point: String,
    #[arg(long, default_value = "Shiny Pony")]
    name: String,
    #[arg(long, default_value = "A pony that shines in the dark.")]
    description: String,
    /// The origin of the app's notice receivers; postbackURL and chargebackURL are
    /// `<origin>/mozpay/postback` and `…/chargeback` unless given.
    #[arg(long, default_value = "http://localhost:7801")]
    notice_origin: String,
    #[arg(long)]
    postback_url: Option<String>,
    #[arg(long)]
    chargeback_url: Option<String>,
    #[arg(long)]
    product_data: Option<String>,
    #[arg(long, value_enum, default_value = "none")]
    simulate: SimulateArg,
}

impl RequestArgs {
    fn request(&self) -> RequestObject {
        let origin = self.notice_origin.trim_end_matches('/');
        RequestObject {
            id: self.id.clone(),
            price_point: self.price_point.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            postback_url: self.postback_url.clone().unwrap_or_else(|| format!("{origin}/mozpay/postback")),
            chargeback_url: self.chargeback_url.clone().unwrap_or_else(|| format!("{origin}/mozpay/chargeback")),
            product_data: self.product_data.clone(),
            icons: None,
            default_locale: None,
            locales: None,
            simulate: self.simulate.to_simulate(),
        }
    }
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum PayCmd {
    /// Sign a pay request JWT with an app secret (HS256, `exp = iat + 3600`).
    Sign {
        /// The app key (the JWT `iss`).
        #[arg(long)]
        key: String,
        #[command(flatten)]
        secret: SecretArgs,
        /// The provider domain (the JWT `aud`).
        #[arg(long, default_value = "127.0.0.1:7802")]
        aud: String,
        #[command(flatten)]
        request: RequestArgs,
        /// Issue time in seconds (default: now).
        #[arg(long)]
        iat: Option<i64>,
    },
    /// Decode a pay JWT strictly and print its header and claims; with a secret, check the
    /// signature too.
    Inspect {
        /// The JWT, or `-` for standard input.
        jwt: String,
        #[command(flatten)]
        secret: SecretArgs,
    },
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum ReceiptCmd {
    /// Sign a receipt with a fresh ephemeral key certified by a root key (`cert~receipt`).
    Sign {
        /// The root private key (PKCS#8 PEM from `keygen receipt-root`).
        #[arg(long)]
        root_key: PathBuf,
        /// The root key's kid (as published in the JWKS printed by keygen).
        #[arg(long)]
        root_kid: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:7802")]
        provider_origin: String,
        #[arg(long, default_value = "http://localhost:7801")]
        app_origin: String,
        #[arg(long, default_value_t = 1)]
        app_id: u64,
        #[arg(long, default_value_t = 1)]
        contrib: u64,
        #[arg(long, default_value = "shiny-pony")]
        inapp_id: String,
        /// The directed identifier (default: a fresh UUID v4).
        #[arg(long)]
        user: Option<String>,
        /// Issue a `test-receipt` (verify URL `/receipts/verify/test`).
        #[arg(long)]
        test: bool,
        #[arg(long, default_value_t = RECEIPT_LIFETIME_SECS)]
        lifetime: i64,
    },
    /// Print the header and payload of every part of a receipt (not verified).
    Inspect {
        /// The receipt, or `-` for standard input.
        receipt: String,
    },
    /// Verify a receipt locally with the strict verifier of `mozmarket-core`.
    Verify {
        /// The receipt, or `-` for standard input.
        receipt: String,
        /// A JWKS file (`{"keys": [...]}`, e.g. from `/.well-known/jwks.json`) of trusted root keys.
        #[arg(long)]
        jwks: PathBuf,
        /// The app origin the receipt must be for (`product.url`).
        #[arg(long, default_value = "http://localhost:7801")]
        app_origin: String,
        /// The allowed issuer (the receipt `iss`).
        #[arg(long, default_value = "http://127.0.0.1:7802")]
        issuer: String,
        /// Accept `test-receipt`s.
        #[arg(long)]
        allow_test: bool,
        /// Verify as of this time (seconds since the epoch; default now).
        #[arg(long)]
        now: Option<i64>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    Postback,
    Chargeback,
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum NoticeCmd {
    /// Sign a postback or chargeback and POST it (`notice=<jwt>`) to a URL on 127.0.0.1 /
    /// localhost, printing the answer.
    Send {
        /// The receiver, e.g. `http://127.0.0.1:7801/mozpay/postback`.
        #[arg(long)]
        url: String,
        /// The app key (the notice `aud`).
        #[arg(long)]
        key: String,
        #[command(flatten)]
        secret: SecretArgs,
        #[arg(long, value_enum, default_value = "postback")]
        kind: KindArg,
        /// The provider domain (the notice `iss`).
        #[arg(long, default_value = "127.0.0.1:7802")]
        iss: String,
        /// The transaction ID (default: a fresh one of the right form).
        #[arg(long)]
        transaction_id: Option<String>,
        /// `response.reason` of a chargeback.
        #[arg(long, default_value = "refund")]
        reason: String,
        #[arg(long, default_value = "1.99")]
        amount: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        /// The echoed `request` object as a JSON file (default: built from the flags below).
        #[arg(long)]
        request_json: Option<PathBuf>,
        #[command(flatten)]
        request: RequestArgs,
    },
}

/// Runs one tool subcommand.
pub async fn run(cmd: ToolCmd) -> anyhow::Result<()> {
    match cmd {
        ToolCmd::Keygen(k) => keygen(k),
        ToolCmd::Pay(p) => pay(p),
        ToolCmd::Receipt(r) => receipt(r),
        ToolCmd::Notice(n) => notice(n).await,
    }
}

fn now_secs() -> i64 {
    system_now_ms().div_euclid(1000)
}

fn read_arg(value: &str) -> anyhow::Result<String> {
    if value == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading standard input")?;
        Ok(s.trim().to_owned())
    } else {
        Ok(value.trim().to_owned())
    }
}

fn pretty(j: &Json) -> String {
    serde_json::from_str::<serde_json::Value>(&j.to_json_text())
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| j.to_json_text())
}

// ---------------------------------------------------------------------------------------------
// keygen

/// PEM of a PKCS#8 DER private key.
pub fn pem(der: &[u8]) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    let mut rest = b.as_str();
    while !rest.is_empty() {
        let cut = rest.len().min(64);
        let (line, tail) = rest.split_at(cut);
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

/// A private key from PKCS#8 PEM (P-256 or RSA) and the kid it was written with, if recorded.
pub fn key_from_pem(text: &str) -> anyhow::Result<(SigningKey, Option<String>)> {
    let kid = text
        .lines()
        .find_map(|l| l.strip_prefix("# kid: "))
        .map(|k| k.trim().to_owned());
    let body: String = text
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).context("the key file is not PKCS#8 PEM")?;
    use p256::pkcs8::DecodePrivateKey as _;
    if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(&der) {
        return Ok((SigningKey::Es256(k), kid));
    }
    let k: rsa::RsaPrivateKey = rsa::pkcs8::DecodePrivateKey::from_pkcs8_der(&der).context("not a P-256 or RSA PKCS#8 key")?;
    Ok((SigningKey::Rs256(k), kid))
}

fn keygen(cmd: KeygenCmd) -> anyhow::Result<()> {
    match cmd {
        KeygenCmd::ReceiptRoot { out, alg } => {
            let alg = match alg {
                AlgArg::Es256 => crate::market::ReceiptAlg::Es256,
                AlgArg::Rs256 => crate::market::ReceiptAlg::Rs256,
            };
            let key = crate::market::signing_generate(alg)?;
            let kid = key_id(KeyRole::Root, now_secs(), rand::random::<u16>());
            let der = crate::market::signing_pkcs8_der(&key)?;
            let text = format!("# mozmarket receipt root key\n# kid: {kid}\n{}", pem(&der));
            match out {
                Some(path) => {
                    write_private(&path, &text)?;
                    eprintln!("wrote the private key to {}", path.display());
                }
                None => print!("{text}"),
            }
            println!("{}", pretty(&jwks_document(&[key.public_jwk(&kid)])));
            Ok(())
        }
        KeygenCmd::AppSecret => {
            println!("key:    {}", uuid::Uuid::new_v4());
            println!("secret: {}", crate::market::random_secret());
            Ok(())
        }
    }
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// pay

fn pay(cmd: PayCmd) -> anyhow::Result<()> {
    match cmd {
        PayCmd::Sign { key, secret, aud, request, iat } => {
            let secret = secret.required()?;
            let pay = PayRequest::new(&key, &aud, iat.unwrap_or_else(now_secs), request.request());
            println!("{}", pay.sign(&secret));
            Ok(())
        }
        PayCmd::Inspect { jwt, secret } => {
            let jwt = read_arg(&jwt)?;
            let decoded = hs256::decode(&jwt, JwsAlg::Hs256, mozmarket_core::pay::MAX_PAY_JWT_BYTES)
                .map_err(|e| anyhow::anyhow!("not a strict HS256 JWT: {}", e.code()))?;
            println!("header: {}", pretty(decoded.header()));
            println!("claims (unverified): {}", pretty(decoded.unverified_claims()));
            let claims = decoded.unverified_claims().clone();
            if let Some(key) = secret.key()? {
                match decoded.verify_hs256(&key) {
                    Ok(_) => println!("signature: valid"),
                    Err(e) => println!("signature: INVALID ({})", e.code()),
                }
            }
            let now = now_secs();
            if let Some(exp) = claims.get("exp").and_then(hs256::numeric_date) {
                println!("exp: {exp} ({})", if hs256::is_expired(exp, now) { "expired" } else { "not expired" });
            }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// receipt

fn receipt(cmd: ReceiptCmd) -> anyhow::Result<()> {
    match cmd {
        ReceiptCmd::Sign { root_key, root_kid, provider_origin, app_origin, app_id, contrib, inapp_id, user, test, lifetime } => {
            let text = std::fs::read_to_string(&root_key).with_context(|| format!("reading {}", root_key.display()))?;
            let (root, recorded_kid) = key_from_pem(&text)?;
            let root_kid = root_kid.or(recorded_kid).context("give --root-kid (the key file records none)")?;
            let now = now_secs();
            let eph = match root {
                SigningKey::Es256(_) => crate::market::signing_generate(crate::market::ReceiptAlg::Es256)?,
                SigningKey::Rs256(_) => crate::market::signing_generate(crate::market::ReceiptAlg::Rs256)?,
            };
            let eph_kid = key_id(KeyRole::Ephemeral, now, rand::random::<u16>());
            let cert = certify(&root, &root_kid, &eph, &eph_kid, &provider_origin, now, mozmarket_core::pay::DEFAULT_PRICE_LIMIT)
                .map_err(|e| anyhow::anyhow!("certifying: {e}"))?;
            let user = user.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let tx_uuid = uuid::Uuid::new_v4().to_string();
            let payload = receipt_payload(&ReceiptInput {
                kind: if test { ReceiptKind::Test } else { ReceiptKind::Purchase },
                provider_origin: &provider_origin,
                app_origin: &app_origin,
                app_id,
                contrib,
                inapp_id: &inapp_id,
                user: &user,
                transaction_uuid: &tx_uuid,
                iat: now,
                lifetime_secs: lifetime,
            });
            let signed = sign_receipt(&cert, &eph, &payload).map_err(|e| anyhow::anyhow!("signing: {e}"))?;
            println!("{signed}");
            Ok(())
        }
        ReceiptCmd::Inspect { receipt } => {
            let receipt = read_arg(&receipt)?;
            let parts: Vec<&str> = receipt.split('~').collect();
            let n = parts.len();
            for (i, part) in parts.iter().enumerate() {
                let role = if i + 1 == n { "receipt" } else { "certificate" };
                let mut segs = part.split('.');
                let (Some(h), Some(p)) = (segs.next(), segs.next()) else {
                    println!("part {i} ({role}): not a compact JWS");
                    continue;
                };
                let show = |seg: &str| {
                    mozmarket_core::b64::decode_strict(seg)
                        .and_then(|b| mozmarket_core::json::parse(&b).ok())
                        .map(|j| pretty(&j))
                        .unwrap_or_else(|| "(not canonical base64url JSON)".to_owned())
                };
                println!("part {i} ({role}) header: {}", show(h));
                println!("part {i} ({role}) payload (unverified): {}", show(p));
            }
            Ok(())
        }
        ReceiptCmd::Verify { receipt, jwks, app_origin, issuer, allow_test, now } => {
            let receipt = read_arg(&receipt)?;
            let text = std::fs::read_to_string(&jwks).with_context(|| format!("reading {}", jwks.display()))?;
            let (ok, message) = verify_receipt_locally(&receipt, &text, &app_origin, &issuer, allow_test, now.map(|s| s.saturating_mul(1000)))?;
            println!("{message}");
            if ok {
                Ok(())
            } else {
                anyhow::bail!("the receipt did not verify")
            }
        }
    }
}

/// Runs `mozmarket_core::verify::strict_local` with the JWKS as trusted keys: `(passed, text)`.
pub fn verify_receipt_locally(
    receipt: &str,
    jwks_text: &str,
    app_origin: &str,
    issuer: &str,
    allow_test: bool,
    now_ms: Option<i64>,
) -> anyhow::Result<(bool, String)> {
    use mozmarket_core::claims::PolicyInput;
    use mozmarket_core::verify::{strict_local, Local, Mode, Policy};
    let urls = mozmarket_core::url::NativeUrlParser;
    let jwks = mozmarket_core::json::parse(jwks_text.as_bytes()).map_err(|e| anyhow::anyhow!("JWKS is not JSON: {e:?}"))?;
    let trusted = mozmarket_core::jwk::parse_trusted_keys(&jwks, &urls).map_err(|e| anyhow::anyhow!("bad JWKS: {e:?}"))?;
    let mut typs = vec!["purchase-receipt".to_owned(), "developer-receipt".to_owned(), "reviewer-receipt".to_owned()];
    if allow_test {
        typs.push("test-receipt".to_owned());
    }
    let policy = Policy {
        mode: Mode::Strict,
        trusted,
        root_key_origins: Vec::new(),
        leeway_ms: 60_000.0,
        checks: PolicyInput {
            typs_allowed: typs,
            product_urls: vec![app_origin.to_owned()],
            installs_allowed_from: Some(vec![issuer.to_owned()]),
        },
    };
    let now = now_ms.unwrap_or_else(system_now_ms) as f64;
    Ok(match strict_local(receipt, &policy, None, now, &urls) {
        Local::Passed(p) => (true, format!("ok: verified locally; the store's verify URL is {}", p.verify)),
        Local::NeedsRootDocument { url } => (false, format!("not verified: the certificate's root is not in the JWKS (root document {url})")),
        Local::Failed(f) => (false, format!("invalid: {} — {}", f.class.name(), f.detail)),
    })
}

// ---------------------------------------------------------------------------------------------
// notice

fn loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

async fn notice(cmd: NoticeCmd) -> anyhow::Result<()> {
    let NoticeCmd::Send { url, key, secret, kind, iss, transaction_id, reason, amount, currency, request_json, request } = cmd;
    let parsed = url::Url::parse(&url).context("--url is not an absolute URL")?;
    if parsed.scheme() != "http" || !loopback_url(&parsed) {
        anyhow::bail!("notice send only talks to http://127.0.0.1, http://localhost or http://[::1]");
    }
    let secret = secret.required()?;
    let request_obj = match request_json {
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            mozmarket_core::json::parse(text.as_bytes()).map_err(|e| anyhow::anyhow!("request JSON: {e:?}"))?
        }
        None => request.request().to_json(),
    };
    let simulated = request_obj.get("simulate").is_some();
    let price_point = request_obj
        .get("pricePoint")
        .and_then(mozmarket_core::pay::normalize_price_point)
        .unwrap_or_default();
    let tid = match transaction_id {
        Some(t) => t,
        None => TransactionId::new(TxKind::for_request(simulated, &price_point), &uuid::Uuid::new_v4().to_string())
            .map(|t| t.as_str().to_owned())
            .context("making a transaction ID")?,
    };
    let (kind, reason) = match kind {
        KindArg::Postback => (NoticeKind::Postback, None),
        KindArg::Chargeback => (
            NoticeKind::Chargeback,
            Some(ChargebackReason::parse(&reason).context("--reason is refund or reversal")?),
        ),
    };
    let notice = Notice::new(
        kind,
        &iss,
        &key,
        now_secs(),
        request_obj,
        NoticeResponse { transaction_id: tid.clone(), price: Some(Price { amount, currency }), reason },
    );
    let body = format!("notice={}", notice.sign(&secret));
    let (status, answer) = post_form(&parsed, body).await?;
    println!("transaction ID: {tid}");
    println!("HTTP {status}");
    println!("{answer}");
    let delivered = mozmarket_core::pay::notice_delivered(status, answer.as_bytes(), &tid);
    println!("{}", if delivered { "delivered (the body is the transaction ID)" } else { "NOT delivered" });
    Ok(())
}

/// POSTs a form body to a loopback URL with hyper and returns the status and up to 64 KiB of the
/// body as text.
async fn post_form(url: &url::Url, body: String) -> anyhow::Result<(u16, String)> {
    use http_body_util::BodyExt as _;
    let host = url.host_str().context("no host")?;
    let port = url.port_or_known_default().context("no port")?;
    let ip = if host.eq_ignore_ascii_case("localhost") {
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[').trim_end_matches(']').parse().context("bad host")?
    };
    let stream = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(std::net::SocketAddr::new(ip, port)),
    )
    .await
    .context("connect timed out")?
    .context("connecting")?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, http_body_util::Full<axum::body::Bytes>>(
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let req = hyper::Request::builder()
        .method(hyper::Method::POST)
        .uri(path)
        .header(hyper::header::HOST, host_header)
        .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(hyper::header::USER_AGENT, concat!("mozmarket-notifier/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Full::new(axum::body::Bytes::from(body)))?;
    let resp = tokio::time::timeout(std::time::Duration::from_secs(15), sender.send_request(req))
        .await
        .context("the receiver did not answer within 15 s")??;
    let status = resp.status().as_u16();
    let bytes = http_body_util::Limited::new(resp.into_body(), 65_536)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading the answer: {e}"))?
        .to_bytes();
    task.abort();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}
