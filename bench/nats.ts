/**
 * The benchmark's nats-server: the same launcher the tests use (free loopback port, temp config, ready
 * when the port accepts connections, killed on stop and at exit), compiled into dist with the bench.
 */
export {
  type NatsServerHandle as BenchNatsServer,
  type NatsServerOptions as BenchNatsOptions,
  startNatsServer as startBenchNats,
} from '../test/support/nats-server.js';
