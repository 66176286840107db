/**
 * The per-call pipeline's addons, built per call with the call's `Call` handle bound in (the handle is
 * handed to each extension through its addon's closure — a fresh registry per call — never through the
 * JSON property). Simulated media:
 *
 * - `call-billing`: meters the pipeline's life (start → stop, in clock ms). Declare it first: with the
 *   declared order it starts first and stops last, so everything the pipeline does is metered.
 * - `recorder`: `XNode.Record` action START on the call when it starts (`<dir>/<uuid>.wav` under the
 *   node's record root), action STOP when it stops (skipped when the call is already gone: the node
 *   ends the recording itself at hang-up).
 * - `speech-recognizer`: listens to the call's notifications while it runs and builds a transcript
 *   (the simulation "recognises" DTMF digits and `Event.DetectedData` text); the subscription is
 *   released at stop.
 */
import { z } from 'zod';
import type { Clock } from '../../clock/index.js';
import type { Call, CallNotification } from '../../ctrl/index.js';
import { type Addon, AddonRegistry, type Extension, type ExtensionEnv } from '../../graph/index.js';
import { CallGoneError, isCancellation, NotFoundError } from '../../protocol/index.js';
import type { PipelineSummary } from './call-record.js';
import { parseProperty } from './property.js';

/** Addon names a per-call graph may use. */
export const PER_CALL_ADDONS = ['call-billing', 'recorder', 'speech-recognizer'] as const;

/** What one call's pipeline extensions share. */
export interface PerCallContext {
  readonly call: Call;
  readonly clock: Clock;
  /** Merges what an extension found out into the call's pipeline summary (sent with `call_end`). */
  report(patch: Partial<Omit<PipelineSummary, 'failures'>>): void;
}

const BillingProperty = z.strictObject({ ten: z.unknown().optional() });
const RecorderProperty = z.strictObject({
  /** Folder under the node's record root. Default `recordings`. */
  dir: z.string().min(1).default('recordings'),
  ten: z.unknown().optional(),
});
const RecognizerProperty = z.strictObject({
  /** Language tag, kept in the transcript header. Default `en-US`. */
  language: z.string().min(1).default('en-US'),
  ten: z.unknown().optional(),
});

class CallBilling implements Extension {
  #startedAt: number | undefined;
  constructor(readonly ctx: PerCallContext) {}

  onStart(): void {
    this.#startedAt = this.ctx.clock.now();
  }

  onStop(): void {
    // onStop runs even if onStart never did (the call ended while the pipeline started): 0 metered.
    const metered = this.#startedAt === undefined ? 0 : this.ctx.clock.now() - this.#startedAt;
    this.ctx.report({ metered_ms: metered });
  }
}

class Recorder implements Extension {
  readonly #path: string;
  #recording = false;
  constructor(
    readonly ctx: PerCallContext,
    dir: string,
  ) {
    this.#path = `${dir}/${ctx.call.uuid}.wav`;
  }

  async onStart(): Promise<void> {
    await this.ctx.call.record({ path: this.#path, action: 'START' });
    this.#recording = true;
    this.ctx.report({ recording: this.#path });
  }

  async onStop(): Promise<void> {
    if (!this.#recording || this.ctx.call.isEnded) return;
    this.#recording = false;
    try {
      await this.ctx.call.record({ path: this.#path, action: 'STOP' });
    } catch (err) {
      // The caller may hang up between the check and the STOP: the node ended the recording then.
      if (err instanceof NotFoundError || err instanceof CallGoneError || isCancellation(err)) return;
      throw err;
    }
  }
}

class SpeechRecognizer implements Extension {
  readonly #words: string[] = [];
  #feed: AsyncIterator<CallNotification> | undefined;
  #listening: Promise<void> | undefined;
  constructor(
    readonly ctx: PerCallContext,
    readonly language: string,
  ) {}

  onStart(): void {
    const feed = this.ctx.call.notifications()[Symbol.asyncIterator]();
    this.#feed = feed;
    this.#listening = (async () => {
      for (;;) {
        const next = await feed.next();
        if (next.done === true) return;
        this.#hear(next.value);
      }
    })();
  }

  async onStop(_env: ExtensionEnv): Promise<void> {
    // return() ends the pending next() and unsubscribes the feed from the call.
    await this.#feed?.return?.();
    await this.#listening;
    this.ctx.report({ transcript: `[${this.language}] ${this.#words.join(' ')}`.trim() });
  }

  #hear(n: CallNotification): void {
    if (n.method === 'Event.DTMF' && typeof n.params.dtmf_digit === 'string') {
      this.#words.push(n.params.dtmf_digit);
    } else if (n.method === 'Event.DetectedData' && typeof n.params.text === 'string') {
      this.#words.push(n.params.text);
    }
  }
}

/**
 * A registry of the per-call addons for one call. Without `ctx` it only serves to validate a pipeline
 * file (creating an extension then throws).
 */
export function createPerCallRegistry(ctx?: PerCallContext): AddonRegistry {
  const need = (): PerCallContext => {
    if (ctx === undefined) throw new Error('per-call addons need a call (validation registry)');
    return ctx;
  };
  const addons: Record<(typeof PER_CALL_ADDONS)[number], Addon> = {
    'call-billing': {
      create: ({ name, property }) => {
        parseProperty(BillingProperty, name, property);
        return new CallBilling(need());
      },
    },
    recorder: {
      create: ({ name, property }) =>
        new Recorder(need(), parseProperty(RecorderProperty, name, property).dir),
    },
    'speech-recognizer': {
      create: ({ name, property }) =>
        new SpeechRecognizer(need(), parseProperty(RecognizerProperty, name, property).language),
    },
  };
  const registry = new AddonRegistry();
  for (const [name, addon] of Object.entries(addons)) registry.register(name, addon);
  return registry;
}

/** Property schemas per per-call addon, for validating a pipeline file before any call. */
export const PER_CALL_PROPERTIES: Readonly<Record<string, z.ZodType>> = {
  'call-billing': BillingProperty,
  recorder: RecorderProperty,
  'speech-recognizer': RecognizerProperty,
};
