/**
 * clock — injected time. `RealClock` for production, `VirtualClock` for tests. Imports nothing of ours.
 */
export { type Clock, sleepOn, type Timer } from './clock.js';
export { RealClock } from './real-clock.js';
export { VirtualClock } from './virtual-clock.js';
