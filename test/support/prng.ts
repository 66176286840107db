/**
 * The seeded PRNG of the property tests (mulberry32, the one FaultBus uses): the same seed gives the
 * same stream, so a failing case can be replayed from the seed in its message.
 */
export { prng } from '../../src/bus/fault-bus.js';
