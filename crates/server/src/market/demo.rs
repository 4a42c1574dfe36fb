//! The local demo bootstrap (spec/payments.md §8.9): on an empty database, an app "Demo app" for
//! the app role's origin with one simulation and one live key and two products. On later starts
//! the same app is found again and its active keys are handed back (a database that has other
//! apps but no demo app for this origin gets one added).

use anyhow::Context as _;

use super::store::{self, Product};
use super::{signing, DemoApp, Inner};

pub const DEMO_APP_NAME: &str = "Demo app";

pub async fn bootstrap(st: &Inner, app_origin: &str) -> anyhow::Result<DemoApp> {
    let origin = super::api::normalize_origin(app_origin).map_err(|e| anyhow::anyhow!(e.message))?;
    let apps = store::list_apps(&st.db).await?;
    let existing = apps.iter().find(|a| a.name == DEMO_APP_NAME && a.origins.first() == Some(&origin));
    let app_id = match existing {
        Some(a) => a.id,
        None => {
            if !apps.is_empty() {
                tracing::info!(origin = %origin, "market: the database has apps but no demo app for this origin; adding one");
            }
            create(st, &origin).await?
        }
    };
    let keys = store::app_keys(&st.db, app_id).await?;
    let sim = keys.iter().find(|k| k.active() && k.kind == "simulation").context("demo app has no simulation key")?;
    let live = keys.iter().find(|k| k.active() && k.kind == "live").context("demo app has no live key")?;
    Ok(DemoApp {
        keys: vec![(sim.key.clone(), sim.secret.clone()), (live.key.clone(), live.secret.clone())],
        signing_key: sim.key.clone(),
        root_jwks: signing::root_jwks_text(st).await?,
    })
}

async fn create(st: &Inner, origin: &str) -> anyhow::Result<i64> {
    let now = st.now_ms();
    let origins = vec![origin.to_owned()];
    let app_id = store::create_app(&st.db, DEMO_APP_NAME, &origins, &origins, now).await?;
    for kind in ["simulation", "live"] {
        store::create_key(&st.db, app_id, kind, None, now)
            .await
            .map_err(|e| anyhow::anyhow!("creating the demo {kind} key: {e:?}"))?;
    }
    let products = [
        Product {
            app_id,
            guid: "shiny-pony".into(),
            name: "Shiny Pony".into(),
            description: "A pony that shines in the dark.".into(),
            price_id: "5".into(),
            default_locale: "en".into(),
            locales_json: "{}".into(),
            icons_json: "{}".into(),
            active: true,
        },
        Product {
            app_id,
            guid: "magical-unicorn".into(),
            name: "Magical Unicorn".into(),
            description: "Adventure Game item".into(),
            price_id: "4".into(),
            default_locale: "en".into(),
            locales_json: r#"{"de":{"name":"Magisches Einhorn","description":"Adventure Game Artikel"}}"#.into(),
            icons_json: "{}".into(),
            active: true,
        },
    ];
    for p in &products {
        store::put_product(&st.db, p, now).await?;
    }
    tracing::info!(app = app_id, origin = %origin, "market: demo app created");
    Ok(app_id)
}
