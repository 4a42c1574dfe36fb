/*
 * mozmarket/element: importing this module registers <mozmarket-buy-button> and
 * <mozmarket-restore-button> (a side effect, declared in package.json's sideEffects).
 */
import { defineElements } from './full.js';

defineElements();

export * from './full.js';
