// Loads the ES module surface and exposes it as window.mm for the tests.
import * as mm from '/pkg/index.js';

window.mm = mm;
window.mmSurface = 'esm';
await mm.init(); // the ES entries load the core on demand
window.mmReady = true;
