// Loads the full ES module surface (verifier + Buy button + Prompter) as window.mm.
import * as mm from '/pkg/full.js';

window.mm = mm;
window.mmSurface = 'full';
await mm.init(); // the ES entries load the core on demand
window.mmReady = true;
