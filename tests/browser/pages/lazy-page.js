// Imports every ES entry and does nothing else: the tests check that nothing has loaded yet, then
// drive init(), ready and the on-demand paths themselves (window.lazy).
import * as index from '/pkg/index.js';
import * as full from '/pkg/full.js';
import * as element from '/pkg/element.js';

window.lazy = { index, full, element };
window.mm = full; // for window.H.run
window.mmReady = true;
