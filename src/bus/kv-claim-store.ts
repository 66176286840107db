/**
 * `KvClaimStore`: the claim store of a queue group (rpc `ClaimStore`, §3.5 case 15) on a NATS JetStream
 * key-value bucket. A claim is `kv.create(key, owner)`, which the server applies atomically (it fails
 * when the key already has a value), so of concurrent claims exactly one wins; a loser reads the
 * owner's subject from the key. Claims expire with the bucket's max age (its TTL), which must be at
 * least what the responders' claims need (reply cache TTL + longest run). Lives in `bus` because only bus may speak NATS; it matches
 * rpc's `ClaimStore` shape structurally (bus cannot import rpc).
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  jetstream,
  StorageType,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { BusError } from './errors.js';
import type { NatsBus } from './nats-bus.js';

/** Default bucket name. */
export const DEFAULT_CLAIM_BUCKET = 'xcc_claims';
/** Default bucket TTL (max age of a claim) when the store creates it: default reply cache TTL 60 s + default maxRunMs 60 s. */
export const DEFAULT_CLAIM_BUCKET_TTL_MS = 120_000;

export interface KvClaimStoreOptions {
  /** Bucket name (letters, digits, `-`, `_`). Default `xcc_claims`. */
  bucket?: string;
  /**
   * Max age of claims when the bucket is created here. An existing bucket keeps its own TTL (the
   * server does not change it); `minTtlMs` checks it. Default 120 000 ms.
   */
  ttlMs?: number;
  /**
   * Refuse a bucket whose TTL is shorter: pass what the responders' claims need, `replyCacheTtlMs +
   * claims.maxRunMs` (rpc `claimTtlMs`). A bucket without TTL is always refused. Default: no minimum.
   */
  minTtlMs?: number;
  /** Storage of a bucket created here: `file` survives a server restart, `memory` is faster. Default `file`. */
  storage?: 'file' | 'memory';
  /** Replicas of a bucket created here (clustered JetStream). Default 1. */
  replicas?: number;
  /** Timeout of each JetStream API call. Default 2000 ms. */
  timeoutMs?: number;
}

/** The bucket cannot be used, or a claim could not be made (server down, JetStream off, timeout). */
export class KvClaimStoreError extends BusError {
  override readonly name = 'KvClaimStoreError';
}

/** The KV key of a transaction id: base64url of its UTF-8 bytes (ids contain ':', keys may not). */
export function claimKey(txId: string): string {
  if (txId.length === 0) throw new KvClaimStoreError('empty transaction id');
  return Buffer.from(txId, 'utf8').toString('base64url');
}

const BUCKET = /^[-\w]+$/;
const encoder = new TextEncoder();

/**
 * @example
 * const store = await KvClaimStore.connect({ servers: url }, { minTtlMs: 60_000 });
 * const node = new XNode({ bus, clock, media, reliability: { claims: { store } } });
 * // …
 * await store.close();
 */
export class KvClaimStore {
  /** Claims live this long (the bucket's max age), whatever `ttlMs` a claim asks for. */
  readonly ttlMs: number;
  readonly bucket: string;
  readonly #kv: KV;
  readonly #owned: NatsConnection | undefined;

  private constructor(kv: KV, bucket: string, ttlMs: number, owned: NatsConnection | undefined) {
    this.#kv = kv;
    this.bucket = bucket;
    this.ttlMs = ttlMs;
    this.#owned = owned;
  }

  /**
   * Opens (creating it if missing) the bucket on a connection the caller owns; `close()` leaves it open.
   * @throws KvClaimStoreError when JetStream is unavailable or the bucket's TTL is unlimited or below `minTtlMs`.
   */
  static async open(nc: NatsConnection, options: KvClaimStoreOptions = {}): Promise<KvClaimStore> {
    return KvClaimStore.#open((timeout) => jetstream(nc, { timeout }), options, undefined);
  }

  /** Opens the bucket on a `NatsBus`'s own connection (no second connection); the bus stays the owner. */
  static async onBus(bus: NatsBus, options: KvClaimStoreOptions = {}): Promise<KvClaimStore> {
    return KvClaimStore.#open((timeout) => bus.jetstream({ timeout }), options, undefined);
  }

  /** Opens its own connection (closed by `close()`), then the bucket as `open()` does. */
  static async connect(
    connection: NodeConnectionOptions,
    options: KvClaimStoreOptions = {},
  ): Promise<KvClaimStore> {
    let nc: NatsConnection;
    try {
      nc = await connect(connection);
    } catch (err) {
      throw new KvClaimStoreError(`claim store: cannot connect to NATS: ${describe(err)}`, { cause: err });
    }
    try {
      return await KvClaimStore.#open((timeout) => jetstream(nc, { timeout }), options, nc);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  static async #open(
    jetStreamOf: (timeoutMs: number) => JetStreamClient,
    options: KvClaimStoreOptions,
    owned: NatsConnection | undefined,
  ): Promise<KvClaimStore> {
    const bucket = options.bucket ?? DEFAULT_CLAIM_BUCKET;
    const ttlMs = options.ttlMs ?? DEFAULT_CLAIM_BUCKET_TTL_MS;
    const timeoutMs = options.timeoutMs ?? 2000;
    const problems: string[] = [];
    if (!BUCKET.test(bucket))
      problems.push(`bucket ${JSON.stringify(bucket)}: letters, digits, - and _ only`);
    if (!(Number.isInteger(ttlMs) && ttlMs > 0)) problems.push('ttlMs: expected an integer > 0');
    if (options.minTtlMs !== undefined && !(options.minTtlMs > 0)) problems.push('minTtlMs: expected > 0');
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) problems.push('timeoutMs: expected a number > 0');
    if (problems.length > 0) throw new KvClaimStoreError(`claim store: ${problems.join('; ')}`);
    let kv: KV;
    let actualTtl: number;
    try {
      const js = jetStreamOf(timeoutMs);
      kv = await new Kvm(js).create(bucket, {
        ttl: ttlMs,
        history: 1,
        storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
        replicas: options.replicas ?? 1,
      });
      actualTtl = (await kv.status()).ttl;
    } catch (err) {
      throw new KvClaimStoreError(`claim store: cannot open KV bucket ${bucket}: ${describe(err)}`, {
        cause: err,
      });
    }
    if (actualTtl <= 0)
      throw new KvClaimStoreError(`claim store: bucket ${bucket} has no TTL; claims would never expire`);
    const min = options.minTtlMs ?? 0;
    if (actualTtl < min)
      throw new KvClaimStoreError(
        `claim store: bucket ${bucket} TTL ${actualTtl} ms is shorter than the ${min} ms claims need`,
      );
    return new KvClaimStore(kv, bucket, actualTtl, owned);
  }

  /**
   * Claims `txId` for `owner`. The claim lives the bucket TTL; `ttlMs` above it is refused (the claim
   * would expire before the caller expects).
   * @throws KvClaimStoreError when the server does not answer or refuses.
   */
  async claim(
    txId: string,
    owner: string,
    ttlMs: number,
  ): Promise<{ readonly won: true } | { readonly won: false; readonly owner: string }> {
    if (ttlMs > this.ttlMs)
      throw new KvClaimStoreError(
        `claim of ${txId}: ${ttlMs} ms asked, the bucket keeps claims ${this.ttlMs} ms`,
      );
    const key = claimKey(txId);
    // A key can vanish between a failed create and the read (TTL, release): then try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#kv.create(key, encoder.encode(owner));
        return { won: true };
      } catch (err) {
        if (!isKeyExists(err))
          throw new KvClaimStoreError(`claim of ${txId} failed: ${describe(err)}`, { cause: err });
      }
      let entry: Awaited<ReturnType<KV['get']>>;
      try {
        entry = await this.#kv.get(key);
      } catch (err) {
        throw new KvClaimStoreError(`reading the claim of ${txId} failed: ${describe(err)}`, { cause: err });
      }
      if (entry !== null && entry.operation === 'PUT') return { won: false, owner: entry.string() };
    }
    throw new KvClaimStoreError(`claim of ${txId}: the key kept changing`);
  }

  /** Deletes the claim if `owner` still holds it (compare-and-delete on its revision). */
  async release(txId: string, owner: string): Promise<boolean> {
    const key = claimKey(txId);
    try {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT' || entry.string() !== owner) return false;
      await this.#kv.delete(key, { previousSeq: entry.revision });
      return true;
    } catch (err) {
      if (isKeyExists(err)) return false; // changed under us: no longer ours
      throw new KvClaimStoreError(`release of ${txId} failed: ${describe(err)}`, { cause: err });
    }
  }

  /**
   * Restarts the life of a claim `owner` still holds: a compare-and-set update of the key to the same
   * owner makes a new revision, whose age starts now (the bucket TTL counts from the last update).
   * Resolves false when the claim is gone or someone else's. `ttlMs` is checked like `claim`'s.
   * @throws KvClaimStoreError when the server does not answer or refuses.
   */
  async renew(txId: string, owner: string, ttlMs: number): Promise<boolean> {
    if (ttlMs > this.ttlMs)
      throw new KvClaimStoreError(
        `renewal of ${txId}: ${ttlMs} ms asked, the bucket keeps claims ${this.ttlMs} ms`,
      );
    const key = claimKey(txId);
    try {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT' || entry.string() !== owner) return false;
      await this.#kv.update(key, encoder.encode(owner), entry.revision);
      return true;
    } catch (err) {
      if (isKeyExists(err)) return false; // changed under us: no longer ours
      throw new KvClaimStoreError(`renewal of ${txId} failed: ${describe(err)}`, { cause: err });
    }
  }

  /** The owner of a live claim, if any (inspection, tests). */
  async owner(txId: string): Promise<string | undefined> {
    const entry = await this.#kv.get(claimKey(txId));
    return entry !== null && entry.operation === 'PUT' ? entry.string() : undefined;
  }

  /** Closes the connection if `connect()` opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#owned !== undefined && !this.#owned.isClosed()) await this.#owned.close();
  }
}

/** True for JetStream's "wrong last sequence": the key already has a value (or changed). */
function isKeyExists(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
