/**
 * The extension lifecycle state machine (TEN's, reference §1.2): stage names, states, and the pure
 * `StageMachine` that says which `begin`/`done` is legal when. No timers and no I/O: the extension
 * host drives it; tests drive it directly.
 */

/** The five lifecycle stages, in the order they run. */
export const STAGES = ['configure', 'init', 'start', 'stop', 'deinit'] as const;
export type Stage = (typeof STAGES)[number];

/** Stages that `ten:trigger_life_cycle` can drive today; the others are refused with `UNSUPPORTED_STAGE`. */
export const MANUAL_STAGES = ['start', 'stop'] as const;
export type ManualStage = (typeof MANUAL_STAGES)[number];

/** Every state of an extension. `on_x` = the callback is running; `on_x_done` = it finished. */
export const LIFECYCLE_STATES = [
  'init',
  'on_configure',
  'on_configure_done',
  'on_init',
  'on_init_done',
  'on_start',
  'on_start_done',
  'prepare_to_stop',
  'on_stop',
  'on_stop_done',
  'on_deinit',
  'on_deinit_done',
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

export function isManualStage(value: unknown): value is ManualStage {
  return typeof value === 'string' && (MANUAL_STAGES as readonly string[]).includes(value);
}

/** Position of a state in the lifecycle, for "at or past" comparisons. */
export function stateRank(state: LifecycleState): number {
  return LIFECYCLE_STATES.indexOf(state);
}

/** The state a stage may begin from. */
const BEGIN_FROM: Record<Stage, LifecycleState> = {
  configure: 'init',
  init: 'on_configure_done',
  start: 'on_init_done',
  stop: 'prepare_to_stop',
  deinit: 'on_stop_done',
};

/** States from which the close flow may move to `prepare_to_stop` (nothing running, not stopping yet). */
const STOPPABLE: readonly LifecycleState[] = ['init', 'on_configure_done', 'on_init_done', 'on_start_done'];

/**
 * The legal transitions of one extension. Every method returns `false` and leaves the state
 * unchanged when called at the wrong time (a `done` twice, or out of order), as TEN's
 * `ten_env.on_x_done()` does — the caller decides whether that is worth an event.
 *
 * @example
 * const sm = new StageMachine();
 * sm.begin('configure'); // true
 * sm.done('init');       // false: init is not running
 */
export class StageMachine {
  #state: LifecycleState = 'init';

  get state(): LifecycleState {
    return this.#state;
  }

  /** The stage whose callback is running, if any. */
  get running(): Stage | undefined {
    switch (this.#state) {
      case 'on_configure':
        return 'configure';
      case 'on_init':
        return 'init';
      case 'on_start':
        return 'start';
      case 'on_stop':
        return 'stop';
      case 'on_deinit':
        return 'deinit';
      default:
        return undefined;
    }
  }

  /** Enters `on_<stage>`; legal only from the state that precedes it. */
  begin(stage: Stage): boolean {
    if (this.#state !== BEGIN_FROM[stage]) return false;
    this.#state = `on_${stage}`;
    return true;
  }

  /** Enters `on_<stage>_done`; legal only while that stage runs. */
  done(stage: Stage): boolean {
    if (this.#state !== `on_${stage}`) return false;
    this.#state = `on_${stage}_done`;
    return true;
  }

  /** Enters `prepare_to_stop` (the close flow reached this extension); legal only when nothing runs. */
  prepareToStop(): boolean {
    if (!STOPPABLE.includes(this.#state)) return false;
    this.#state = 'prepare_to_stop';
    return true;
  }

  /** True once the state is `state` or later. */
  reached(state: LifecycleState): boolean {
    return stateRank(this.#state) >= stateRank(state);
  }
}
