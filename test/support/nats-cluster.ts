/**
 * Test harness for a real nats-server cluster: N servers (3 by default) on free ports, each with a
 * cluster listener and routes to all the others, plus an HTTP monitoring port used to wait until every
 * route is up and to find which server a named client is connected to. Built on `startNatsServer`, so
 * each member can be killed (crash) and restarted on the same ports mid-test. Real time on purpose:
 * this is about processes and sockets.
 */
import { freePort, type NatsServerHandle, type NatsServerOptions, startNatsServer } from './nats-server.js';

export interface NatsClusterOptions {
  /** Number of servers. Default 3. */
  size?: number;
  /** Cluster name. Default "openxcc-test". */
  name?: string;
  /** How long to wait for all routes after start or restart. Default 10 000 ms. */
  routeTimeoutMs?: number;
  /** Options handed to every `startNatsServer` (extraConfig is appended after the cluster block). */
  server?: Omit<NatsServerOptions, 'extraConfig'> & { extraConfig?: string };
}

/** One member of the cluster. */
export interface NatsClusterMember {
  readonly index: number;
  readonly handle: NatsServerHandle;
  /** `nats://127.0.0.1:<client port>` */
  readonly url: string;
  readonly clusterPort: number;
  readonly monitorPort: number;
  /** True between `kill(i)` and `restart(i)`. */
  readonly down: boolean;
}

export interface NatsCluster {
  readonly members: readonly NatsClusterMember[];
  /** Client URLs of all members, for `NatsBus.connect({ servers })`. */
  readonly urls: string[];
  /** Kills member `i` at once (SIGKILL): a crash. */
  kill(i: number): void;
  /** Restarts member `i` on the same ports and waits until its routes to the live members are up. */
  restart(i: number): Promise<void>;
  /** Resolves when every live member has a route to every other live member. */
  waitForRoutes(timeoutMs?: number): Promise<void>;
  /** Index of the member a client with this connection `name` is connected to, or undefined. */
  whereIs(connectionName: string): Promise<number | undefined>;
  /** Stops every member and removes their files. Idempotent. */
  stop(): Promise<void>;
}

interface MemberState {
  index: number;
  handle: NatsServerHandle;
  clusterPort: number;
  monitorPort: number;
  down: boolean;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function monitor<T>(port: number, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1_000) });
    if (!res.ok) return undefined;
    return (await res.json()) as T;
  } catch {
    // not up (yet): the caller retries
    return undefined;
  }
}

interface Routez {
  routes?: { remote_id?: string }[];
}
interface Connz {
  connections?: { name?: string }[];
}
interface Varz {
  server_id?: string;
}

/**
 * Starts a nats-server cluster and waits until it is fully meshed.
 *
 * @example
 * const cluster = await startNatsCluster();
 * const bus = await NatsBus.connect({ servers: cluster.urls, name: 'a' });
 * cluster.kill(await cluster.whereIs('a') ?? 0);
 * // ... the client reconnects to another member ...
 * await cluster.stop();
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 2) throw new Error(`a cluster needs at least 2 servers, got ${size}`);
  const name = options.name ?? 'openxcc-test';
  const routeTimeoutMs = options.routeTimeoutMs ?? 10_000;
  const clusterPorts: number[] = [];
  const monitorPorts: number[] = [];
  // freePort releases the port before returning: collect them all first so they are distinct.
  while (clusterPorts.length < size) {
    const p = await freePort();
    if (!clusterPorts.includes(p)) clusterPorts.push(p);
  }
  while (monitorPorts.length < size) {
    const p = await freePort();
    if (!monitorPorts.includes(p) && !clusterPorts.includes(p)) monitorPorts.push(p);
  }

  const members: MemberState[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.handle.stop()));
  };
  // allSettled: if one member fails to start, the ones that did start are still stopped.
  const started = await Promise.allSettled(
    clusterPorts.map((clusterPort, i) => {
      const routes = clusterPorts
        .filter((_, j) => j !== i)
        .map((p) => `"nats-route://127.0.0.1:${p}"`)
        .join(', ');
      const config = [
        `server_name: "${name}-${i}"`,
        `http: "127.0.0.1:${monitorPorts[i]}"`,
        `cluster { name: "${name}", listen: "127.0.0.1:${clusterPort}", routes: [${routes}] }`,
        options.server?.extraConfig ?? '',
      ].join('\n');
      return startNatsServer({ ...options.server, extraConfig: config });
    }),
  );
  let failure: unknown;
  for (const [i, r] of started.entries()) {
    if (r.status === 'rejected') failure ??= r.reason;
    else
      members.push({
        index: i,
        handle: r.value,
        clusterPort: clusterPorts[i]!,
        monitorPort: monitorPorts[i]!,
        down: false,
      });
  }
  if (failure !== undefined) {
    await stopAll();
    throw failure;
  }

  const check = (i: number): MemberState => {
    const m = members[i];
    if (m === undefined) throw new RangeError(`no cluster member ${i} (size ${size})`);
    return m;
  };

  const meshed = async (): Promise<boolean> => {
    const live = members.filter((m) => !m.down);
    for (const m of live) {
      const routez = await monitor<Routez>(m.monitorPort, '/routez');
      if (routez === undefined) return false;
      const peers = new Set((routez.routes ?? []).map((r) => r.remote_id));
      if (peers.size < live.length - 1) return false;
    }
    return true;
  };

  const waitForRoutes = async (timeoutMs = routeTimeoutMs): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await meshed()) return;
      await delay(50);
    }
    throw new Error(`nats cluster routes not up within ${timeoutMs} ms`);
  };

  try {
    await waitForRoutes();
  } catch (err) {
    await stopAll();
    throw err;
  }

  let stopped = false;
  return {
    get members(): readonly NatsClusterMember[] {
      return members.map((m) => ({
        index: m.index,
        handle: m.handle,
        url: m.handle.url,
        clusterPort: m.clusterPort,
        monitorPort: m.monitorPort,
        down: m.down,
      }));
    },
    urls: members.map((m) => m.handle.url),
    kill(i) {
      const m = check(i);
      m.down = true;
      m.handle.kill();
    },
    async restart(i) {
      const m = check(i);
      await m.handle.restart();
      m.down = false;
      await waitForRoutes();
    },
    waitForRoutes,
    async whereIs(connectionName) {
      for (const m of members) {
        if (m.down) continue;
        const connz = await monitor<Connz>(m.monitorPort, '/connz?limit=1024');
        if (connz?.connections?.some((c) => c.name === connectionName)) return m.index;
      }
      return undefined;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}

/** The server id a member reports (to tell a restarted process from the old one). */
export async function serverId(member: NatsClusterMember): Promise<string | undefined> {
  return (await monitor<Varz>(member.monitorPort, '/varz'))?.server_id;
}
