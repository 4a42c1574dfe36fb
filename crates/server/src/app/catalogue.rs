//! The provider's product catalogue (§2.8, §8.3), cached for 60 s and kept usable for 24 h
//! while the provider is unreachable.

use std::sync::Arc;

use mozmarket_core::pay::request::LocaleEntry;
use mozmarket_core::Json;
use tokio::sync::Mutex;

use super::AppState;

/// One active catalogue product.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// The product id (`request.id` of its pay requests).
    pub guid: String,
    /// The product name.
    pub name: String,
    /// The description.
    pub description: String,
    /// `price_id`, normalised to a string.
    pub price_id: String,
    /// `defaultLocale`, if the product has localised text.
    pub default_locale: Option<String>,
    /// Localised names and descriptions by language tag.
    pub locales: Option<Vec<(String, LocaleEntry)>>,
    /// Icon URLs by size.
    pub icons: Option<Vec<(String, String)>>,
    /// Whether the product can be bought.
    pub active: bool,
}

struct Cached {
    fetched_ms: i64,
    products: Arc<Vec<Product>>,
}

/// The catalogue cache. One fetch at a time.
#[derive(Default)]
pub(crate) struct Catalogue {
    cache: Mutex<Option<Cached>>,
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Catalogue {
    /// The active products: cached when fresh, else fetched; a stale copy (≤ 24 h) when the
    /// provider fails. `None` when there is nothing usable (`503 CATALOGUE_UNAVAILABLE`).
    pub(crate) async fn products(&self, state: &AppState) -> Option<Arc<Vec<Product>>> {
        let mut cache = self.cache.lock().await;
        let now = state.now_ms();
        if let Some(c) = cache.as_ref() {
            if now.saturating_sub(c.fetched_ms) < ms(state.cfg.catalogue_ttl) {
                return Some(c.products.clone());
            }
        }
        match fetch(state).await {
            Ok(products) => {
                let products = Arc::new(products);
                *cache = Some(Cached { fetched_ms: now, products: products.clone() });
                Some(products)
            }
            Err(reason) => {
                tracing::warn!(reason, "catalogue fetch failed");
                cache
                    .as_ref()
                    .filter(|c| now.saturating_sub(c.fetched_ms) < ms(state.cfg.catalogue_stale))
                    .map(|c| c.products.clone())
            }
        }
    }

    /// One active product by guid.
    pub(crate) async fn product(&self, state: &AppState, guid: &str) -> Option<Option<Product>> {
        let products = self.products(state).await?;
        Some(products.iter().find(|p| p.guid == guid && p.active).cloned())
    }
}

async fn fetch(state: &AppState) -> Result<Vec<Product>, &'static str> {
    let url = format!(
        "{}/api/v1/apps/{}/products?active=1",
        state.cfg.provider_origin,
        mozmarket_core::pay::ids::form_urlencode(&state.cfg.signing_key)
    );
    let res = state.http.get(url).send().await.map_err(|_| "unreachable")?;
    if !res.status().is_success() {
        return Err("http_status");
    }
    let body = super::provider::read_capped(res, 4 * 1024 * 1024)
        .await
        .map_err(|_| "body")?
        .ok_or("too_large")?;
    parse(&body).ok_or("bad_json")
}

fn text(v: &Json, name: &str) -> Option<String> {
    v.get(name).and_then(Json::as_str).map(str::to_owned)
}

/// Parses `{"objects": [...]}` (§8.3). Entries that are not well-formed are skipped.
pub(crate) fn parse(body: &[u8]) -> Option<Vec<Product>> {
    let doc = mozmarket_core::json::parse(body).ok()?;
    let objects = doc.get("objects")?.as_array()?;
    Some(objects.iter().filter_map(product).collect())
}

fn product(v: &Json) -> Option<Product> {
    let guid = text(v, "guid").filter(|g| !g.is_empty() && g.chars().count() <= 255)?;
    let icons = match v.get("icons") {
        Some(Json::Obj(members)) if !members.is_empty() => Some(
            members
                .iter()
                .filter_map(|(k, u)| u.as_str().map(|u| (k.clone(), u.to_owned())))
                .collect(),
        ),
        _ => None,
    };
    let locales = match v.get("locales") {
        Some(Json::Obj(members)) if !members.is_empty() => Some(
            members
                .iter()
                .map(|(tag, e)| {
                    (tag.clone(), LocaleEntry { name: text(e, "name"), description: text(e, "description") })
                })
                .collect(),
        ),
        _ => None,
    };
    Some(Product {
        guid,
        name: text(v, "name")?,
        description: text(v, "description")?,
        price_id: v.get("price_id").and_then(super::store::price_point_of)?,
        default_locale: text(v, "default_locale"),
        locales,
        icons,
        active: !matches!(v.get("active"), Some(Json::Bool(false))),
    })
}
