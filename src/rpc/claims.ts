/**
 * Duplicate suppression across a NATS queue group (§3.3 "shared across a queue group", §3.5 case 15).
 * The reply cache of one `RpcServer` cannot see a resend that NATS routes to another member of the
 * group, so before a member runs a request that arrived on a queue-group subscription it *claims* the
 * transaction id in a store shared by the group (`ClaimStore`): the first claim wins and runs the
 * request; a member that loses forwards the request bytes unchanged to the owner's direct subject,
 * where the owner's reply cache answers (100 while working, the cached final answer after). Owns the
 * claim timeout (on the injected Clock) and the store-failure policy. `MemoryClaimStore` is the
 * in-process store (one instance shared by the servers of one process, tests); the JetStream KV store
 * lives in `src/bus` (`KvClaimStore`), the only module that may speak NATS.
 */
import type { Bus, BusMsg } from '../bus/index.js';
import { isValidSubject } from '../bus/subject-match.js';
import type { Clock, Timer } from '../clock/index.js';
import type { Logger } from '../protocol/logger.js';
import { RpcConfigError } from './errors.js';

/** What a claim returned: we own the transaction now, or someone else (`owner`, a subject) does. */
export type ClaimResult = { readonly won: true } | { readonly won: false; readonly owner: string };

/**
 * A store of transaction claims shared by the members of a queue group. `claim` must be atomic: of
 * concurrent claims of one id exactly one wins, and later claims see the winner until the claim expires.
 *
 * @example
 * const store = new MemoryClaimStore(clock);
 * await store.claim('c1:e1:7', 'cn.xswitch.node.n1', 60_000); // { won: true }
 * await store.claim('c1:e1:7', 'cn.xswitch.node.n2', 60_000); // { won: false, owner: 'cn.xswitch.node.n1' }
 */
export interface ClaimStore {
  /**
   * Fixed lifetime of every claim when the store decides it (a KV bucket's max age); undefined when
   * each claim lives the `ttlMs` it asks for. Checked against the reply cache TTL at start-up.
   */
  readonly ttlMs?: number;
  /** Claims `txId` for `owner` (the subject resends are forwarded to) for at least `ttlMs`. */
  claim(txId: string, owner: string, ttlMs: number): Promise<ClaimResult>;
  /** Gives a claim up if `owner` still holds it; resolves true if it did. */
  release?(txId: string, owner: string): Promise<boolean>;
  /**
   * Restarts the life of a claim `owner` still holds (another `ttlMs`, or the store's fixed TTL, from
   * now); resolves true if it did, false when the claim is gone or someone else's. Without it, a
   * handler that runs longer than `maxRunMs` may lose its claim while it runs.
   */
  renew?(txId: string, owner: string, ttlMs: number): Promise<boolean>;
}

/** What a member does when the claim store fails or does not answer within `timeoutMs`. */
export type ClaimStoreFailurePolicy = 'execute' | 'defer';

/** `ResponderReliability.claims`: claim requests that arrive on queue-group subscriptions. */
export interface ResponderClaims {
  store: ClaimStore;
  /**
   * Where other members forward resends of the requests we own. Default: the server's first subject
   * without a queue (XNode: `cn.xswitch.node.<node_uuid>`); a server with none must set it.
   */
  ownSubject?: string;
  /** How long a claim may take before it counts as a store failure (Clock time). Default 2000 ms. */
  timeoutMs?: number;
  /**
   * The longest a handler runs (e.g. a Dial's ring time plus grace). A claim is taken when the request
   * arrives and must outlive the run plus the reply cache TTL, so claims ask for
   * `replyCacheTtlMs + maxRunMs`. Default 60 000 ms. With a store that can `renew`, a handler that
   * runs longer keeps its claim anyway: it is renewed every half claim life while the handler runs,
   * and once more when the answer goes.
   */
  maxRunMs?: number;
  /**
   * Store failed or timed out: `'execute'` (default) runs the request anyway and logs a warning —
   * availability over exactly-once, a double execution then needs a second fault (a duplicate landing
   * on another member during the outage); `'defer'` runs nothing, answers a provisional 100 so the
   * originator keeps resending on its long timer, and each resend tries the claim again.
   */
  onStoreError?: ClaimStoreFailurePolicy;
}

/** Default `ResponderClaims.timeoutMs`. */
export const DEFAULT_CLAIM_TIMEOUT_MS = 2000;
/** Default `ResponderClaims.maxRunMs`. */
export const DEFAULT_CLAIM_MAX_RUN_MS = 60_000;

/** How long claims must live: the longest run plus the reply cache TTL (from the answer on). */
export function claimTtlMs(claims: ResponderClaims, replyCacheTtlMs: number): number {
  return replyCacheTtlMs + (claims.maxRunMs ?? DEFAULT_CLAIM_MAX_RUN_MS);
}

/** The claim store did not answer within `timeoutMs`. */
export class ClaimTimeoutError extends Error {
  override readonly name = 'ClaimTimeoutError';
  constructor(
    readonly txId: string,
    readonly timeoutMs: number,
  ) {
    super(`claim store did not answer for ${txId} within ${timeoutMs} ms`);
  }
}

/** How the gate decided: run here, forwarded to the owner, or deferred (store down, policy `defer`). */
export type ClaimVerdict = 'execute' | 'forwarded' | 'deferred';

/** Counters of a `ClaimGate`. */
export interface ClaimStats {
  won: number;
  /** Renewals of claims held by running handlers (and the last one, when the answer went). */
  renewed: number;
  /** Renewals that found the claim gone or someone else's, or failed. */
  renewFailed: number;
  /** Claims another member held: the request was forwarded to it. */
  forwarded: number;
  /** Claims we already held (e.g. a late claim that finished after its timeout, a restart). */
  ownedAlready: number;
  storeErrors: number;
  /** Ids that are not transaction ids: run without a claim. */
  unclaimed: number;
}

/** One transaction id: `<originator>:<epoch>:<serial>` (same rule as `parseTransactionId`). */
const TRANSACTION_ID = /^[^:]+:[^:]+:[1-9][0-9]*$/;

/** Checks `claims` against the reply cache TTL; one line per problem (empty: fine). */
export function claimProblems(
  claims: ResponderClaims,
  replyCacheTtlMs: number,
  subjects: readonly { subject: string; queue?: string }[],
): string[] {
  const problems: string[] = [];
  const own = claims.ownSubject ?? subjects.find((s) => s.queue === undefined)?.subject;
  if (own === undefined)
    problems.push('reliability.claims.ownSubject: needed when the server has no subject without a queue');
  else if (!isValidSubject(own))
    problems.push(
      `reliability.claims.ownSubject: ${JSON.stringify(own)} is not a subject one can publish to`,
    );
  const timeout = claims.timeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
  if (!(Number.isFinite(timeout) && timeout > 0))
    problems.push('reliability.claims.timeoutMs: expected a number > 0');
  const policy: unknown = claims.onStoreError ?? 'execute';
  if (policy !== 'execute' && policy !== 'defer')
    problems.push(`reliability.claims.onStoreError: expected 'execute' or 'defer'`);
  const maxRun = claims.maxRunMs ?? DEFAULT_CLAIM_MAX_RUN_MS;
  if (!(Number.isFinite(maxRun) && maxRun >= 0))
    problems.push('reliability.claims.maxRunMs: expected a number >= 0');
  const storeTtl = claims.store.ttlMs;
  const needed = claimTtlMs(claims, replyCacheTtlMs);
  if (problems.length === 0 && storeTtl !== undefined && !(storeTtl >= needed))
    problems.push(
      `reliability.claims.store: claims live ${storeTtl} ms, shorter than replyCacheTtlMs + maxRunMs (${needed} ms); a late resend could run twice`,
    );
  return problems;
}

/**
 * The server's side of claims: decides per request whether to run it here.
 *
 * @example
 * const gate = new ClaimGate(bus, clock, { store }, { subjects, replyCacheTtlMs: 60_000, logger });
 * const verdict = await gate.admit(id, method, msg); // 'execute' | 'forwarded' | 'deferred'
 */
export class ClaimGate {
  readonly #bus: Bus;
  readonly #clock: Clock;
  readonly #store: ClaimStore;
  readonly #own: string;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #policy: ClaimStoreFailurePolicy;
  readonly #logger: Logger;
  readonly stats: ClaimStats = {
    won: 0,
    renewed: 0,
    renewFailed: 0,
    forwarded: 0,
    ownedAlready: 0,
    storeErrors: 0,
    unclaimed: 0,
  };
  /** Claims held by handlers still running here: their renewal timers. */
  readonly #held = new Map<string, Timer>();

  /** @throws RpcConfigError when the options cannot work (see `claimProblems`). */
  constructor(
    bus: Bus,
    clock: Clock,
    claims: ResponderClaims,
    context: {
      subjects: readonly { subject: string; queue?: string }[];
      replyCacheTtlMs: number;
      logger: Logger;
    },
  ) {
    const problems = claimProblems(claims, context.replyCacheTtlMs, context.subjects);
    if (problems.length > 0) throw new RpcConfigError(problems);
    this.#bus = bus;
    this.#clock = clock;
    this.#store = claims.store;
    this.#own = claims.ownSubject ?? (context.subjects.find((s) => s.queue === undefined)?.subject as string);
    this.#ttlMs = claimTtlMs(claims, context.replyCacheTtlMs);
    this.#timeoutMs = claims.timeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
    this.#policy = claims.onStoreError ?? 'execute';
    this.#logger = context.logger;
  }

  /** The subject resends of our transactions are forwarded to. */
  get ownSubject(): string {
    return this.#own;
  }

  /**
   * Claims `id` for this server. `execute`: run it here (won, already ours, not a transaction id, or
   * the store failed under policy `execute`). `forwarded`: another member owns it; `msg` went there
   * unchanged (same bytes, same reply inbox). `deferred`: the store failed under policy `defer`; the
   * caller answers a provisional 100 and runs nothing. Never rejects.
   */
  async admit(id: string, method: string, msg: BusMsg): Promise<ClaimVerdict> {
    // Only transaction ids are unique across originators; any other id could collide with another
    // controller's and would then be answered with someone else's result.
    if (!TRANSACTION_ID.test(id)) {
      this.stats.unclaimed += 1;
      return 'execute';
    }
    let result: ClaimResult;
    try {
      result = await this.#claim(id);
    } catch (err) {
      this.stats.storeErrors += 1;
      this.#logger.warn(
        { err, id, method, policy: this.#policy },
        this.#policy === 'execute'
          ? 'rpc: claim store failed; running the request without a claim'
          : 'rpc: claim store failed; request deferred to the next resend',
      );
      return this.#policy === 'execute' ? 'execute' : 'deferred';
    }
    if (result.won) {
      this.stats.won += 1;
      this.#hold(id);
      return 'execute';
    }
    if (result.owner === this.#own) {
      this.stats.ownedAlready += 1;
      this.#logger.debug({ id, method }, 'rpc: transaction already claimed by this server');
      this.#hold(id);
      return 'execute';
    }
    this.stats.forwarded += 1;
    this.#logger.debug({ id, method, owner: result.owner }, 'rpc: claimed by another member; forwarded');
    try {
      this.#bus.publish(result.owner, msg.data, msg.reply === undefined ? undefined : { reply: msg.reply });
    } catch (err) {
      // A bad owner value or a closed bus: the originator's next resend tries again.
      this.#logger.warn(
        { err, id, method, owner: result.owner },
        'rpc: could not forward to the claim owner',
      );
    }
    return 'forwarded';
  }

  /**
   * The handler of `id` is done (answered, or gave up): stops renewing its claim and renews it one
   * last time, so it outlives the answer by a whole claim life (at least the reply cache TTL) whatever
   * the run took. No-op for ids this gate does not hold.
   */
  finished(id: string): void {
    const timer = this.#held.get(id);
    if (timer === undefined) return;
    timer.cancel();
    this.#held.delete(id);
    this.#renew(id);
  }

  /** Stops every renewal timer (server stop); claims then expire on their own. */
  close(): void {
    for (const timer of this.#held.values()) timer.cancel();
    this.#held.clear();
  }

  /** Renews the claim of a handler that starts now every half claim life until `finished`. */
  #hold(id: string): void {
    if (this.#store.renew === undefined || this.#held.has(id)) return;
    const every = Math.max(1, Math.floor((this.#store.ttlMs ?? this.#ttlMs) / 2));
    this.#held.set(
      id,
      this.#clock.setInterval(() => this.#renew(id), every),
    );
  }

  #renew(id: string): void {
    const renew = this.#store.renew;
    if (renew === undefined) return;
    let pending: Promise<boolean>;
    try {
      pending = renew.call(this.#store, id, this.#own, this.#ttlMs);
    } catch (err) {
      pending = Promise.reject(err);
    }
    // why void: best effort; a claim that could not be renewed only lets a very late resend run on
    // another member, which is what happened before renewal existed. Counted and logged.
    void pending.then(
      (kept) => {
        if (kept) this.stats.renewed += 1;
        else {
          this.stats.renewFailed += 1;
          this.#logger.warn({ id }, 'rpc: claim lost while its handler ran (expired or taken)');
        }
      },
      (err: unknown) => {
        this.stats.renewFailed += 1;
        this.#logger.warn({ err, id }, 'rpc: could not renew a claim');
      },
    );
  }

  /** The store's claim, bounded by `timeoutMs` of Clock time. */
  #claim(id: string): Promise<ClaimResult> {
    return new Promise<ClaimResult>((resolve, reject) => {
      let late = false;
      const timer: Timer = this.#clock.setTimeout(() => {
        late = true;
        reject(new ClaimTimeoutError(id, this.#timeoutMs));
      }, this.#timeoutMs);
      let pending: Promise<ClaimResult>;
      try {
        pending = this.#store.claim(id, this.#own, this.#ttlMs);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (result) => {
          if (late) {
            this.#lateClaim(id, result);
            return;
          }
          timer.cancel();
          resolve(result);
        },
        (err: unknown) => {
          if (late) return; // already reported as a timeout
          timer.cancel();
          reject(err);
        },
      );
    });
  }

  /**
   * A claim that finished after its timeout. Under `defer` we ran nothing, so a won claim is given
   * back (else resends would be forwarded to us for nothing until it expires); under `execute` we ran
   * the request, so the claim is rightly ours.
   */
  #lateClaim(id: string, result: ClaimResult): void {
    if (!result.won || this.#policy !== 'defer' || this.#store.release === undefined) return;
    // why void: best effort; a failed release only means resends come to us until the claim expires,
    // and we then run the request (the claim names us).
    void this.#store
      .release(id, this.#own)
      .catch((err: unknown) => this.#logger.warn({ err, id }, 'rpc: could not release a late claim'));
  }
}

/**
 * Claims in one process: one instance shared by every `RpcServer` of a queue group that lives in the
 * same process (embedded mode, tests). Each claim expires after its `ttlMs` on the Clock.
 *
 * @example
 * const store = new MemoryClaimStore(clock);
 * const reliability = { claims: { store } };
 * // … two RpcServers on the same queue group, both with `reliability` …
 * store.clear(); // at the end: cancels the expiry timers
 */
export class MemoryClaimStore implements ClaimStore {
  readonly #clock: Clock;
  readonly #claims = new Map<string, { owner: string; timer: Timer }>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Claims held. */
  get size(): number {
    return this.#claims.size;
  }

  /** The owner of a live claim, if any. */
  owner(txId: string): string | undefined {
    return this.#claims.get(txId)?.owner;
  }

  claim(txId: string, owner: string, ttlMs: number): Promise<ClaimResult> {
    const held = this.#claims.get(txId);
    if (held) return Promise.resolve({ won: false, owner: held.owner });
    const timer = this.#clock.setTimeout(() => this.#claims.delete(txId), ttlMs);
    this.#claims.set(txId, { owner, timer });
    return Promise.resolve({ won: true });
  }

  release(txId: string, owner: string): Promise<boolean> {
    const held = this.#claims.get(txId);
    if (held?.owner !== owner) return Promise.resolve(false);
    held.timer.cancel();
    this.#claims.delete(txId);
    return Promise.resolve(true);
  }

  renew(txId: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.#claims.get(txId);
    if (held?.owner !== owner) return Promise.resolve(false);
    held.timer.cancel();
    held.timer = this.#clock.setTimeout(() => this.#claims.delete(txId), ttlMs);
    return Promise.resolve(true);
  }

  /** Forgets every claim and cancels the expiry timers. */
  clear(): void {
    for (const { timer } of this.#claims.values()) timer.cancel();
    this.#claims.clear();
  }
}
