// Loads the ES module surface and exposes it as window.mm for the tests.
import * as mm from '/pkg/index.js';

window.mm = mm;
window.mmSurface = 'esm';
window.mmReady = true;
