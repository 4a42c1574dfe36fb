// /strict.html (spec/payments.md §9.6 F38): one Buy button, mounted with mountBuyButton, on a page
// whose CSP allows scripts and the wasm from this origin only and enforces Trusted Types.
import { init, mountBuyButton } from '/pkg/full.js';

const $ = (id) => document.getElementById(id);

async function main() {
  await init(); // the core loads on demand
  const config = await (await fetch('/demo/config.json', { cache: 'no-store' })).json();
  const product = (config.products || [])[0];
  if (!product) {
    $('product-line').textContent = 'The marketplace catalogue is unavailable.';
    return;
  }
  $('product-line').textContent = `${product.name}: ${product.description}`;
  const keys = config.trustedKeys && Array.isArray(config.trustedKeys.keys) ? config.trustedKeys.keys : null;
  const root = `${config.marketOrigin}/public_keys/root.jwk`;
  const mount = $('buy');
  for (const name of ['purchase', 'failed', 'cancelled']) {
    mount.addEventListener(`mozmarket-${name}`, (ev) => {
      const d = ev.detail || {};
      $('result').textContent = name === 'purchase' ? `purchased ${d.productId}: ${d.transactionID}`
        : `${name}: ${(d.error && d.error.code) || d.code || d.reason}`;
    });
  }
  window.mozmarketStrictButton = mountBuyButton(mount, {
    productId: product.id,
    productName: product.name,
    buyUrl: `${config.pathPrefix}/product/{id}/buy`,
    providerOrigin: config.marketOrigin,
    appOrigin: config.appOrigin,
    allowTestReceipts: true, // the demo app server signs simulated pay requests (§8.9)
    trustedRoots: keys ? [{ url: root, keys }] : [{ url: root }],
  });
  document.documentElement.dataset.ready = 'true';
}

main().catch((e) => { $('product-line').textContent = `the page failed to start: ${e}`; });
