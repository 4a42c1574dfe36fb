// Shared set-up of the widget test files: one server and Chromium per file (node:test hooks),
// and `withWorld(opts, fn)`, which opens a fresh widget world (fixtures.mjs `openWidgetWorld`),
// runs `fn(w)`, then its end-of-test checks (`w.finish()`: no CSP violation, no page error),
// and always closes it. `onWorld(w)` runs right after the world opens.
import { before, after } from 'node:test';
import { setup } from './harness.mjs';
import { openWidgetWorld } from './fixtures.mjs';

export function widgetSuite({ onWorld } = {}) {
  let env;
  before(async () => {
    env = await setup();
  });
  after(async () => {
    if (env) await env.close();
  });
  return async function withWorld(opts, fn) {
    const w = await openWidgetWorld(env, opts);
    if (onWorld) onWorld(w);
    try {
      await fn(w);
      await w.finish();
    } finally {
      await w.close();
    }
  };
}
