// The Prompter test page: the full ES module surface as window.mm. The test serves the page with
// the CSP and Trusted Types policy of spec §8.7.
import * as mm from '/pkg/full.js';

window.mm = mm;
window.mmSurface = 'full';
await mm.init(); // the ES entries load the core on demand
window.mmReady = true;
