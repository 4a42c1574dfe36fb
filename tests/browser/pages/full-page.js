// Loads the full ES module surface (verifier + Buy button + Prompter) as window.mm.
import * as mm from '/pkg/full.js';

window.mm = mm;
window.mmSurface = 'full';
window.mmReady = true;
