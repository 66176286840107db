/**
 * The cast of virtual callers `xcc demo` sends to the example IVR, and the simulated directory they
 * reach. Times are in clock ms; the IVR's prompts are TEXT, which the simulator times at ~350 ms a word,
 * so the greeting + menu take roughly 5 s before the first digit is read.
 */
import type { CallerStep, DestinationBehaviour } from '../../node/media.js';

/** A named caller behaviour (the name shows in the demo's output). */
export interface DemoCaller {
  name: string;
  from: string;
  script: CallerStep[];
}

/** Dial string of the demo's agent (the IVR's `agent` option). */
export const DEMO_AGENT = 'user/agent';

/** The agent picks up after 3 s ringing and hangs up after a 12 s conversation. */
export const DEMO_DIRECTORY: Record<string, DestinationBehaviour> = {
  agent: { answer_after_ms: 3000, script: [{ wait: 12_000 }, { hangup: {} }] },
};

/** The mix, in rotation order. */
export const DEMO_CALLERS: readonly DemoCaller[] = [
  {
    name: 'wants an agent',
    from: '1001',
    script: [{ wait: 2500 }, { dtmf: '1' }],
  },
  {
    name: 'leaves a voicemail',
    from: '1002',
    script: [{ wait: 2500 }, { dtmf: '2' }, { wait: 14_000 }, { dtmf: '#' }],
  },
  {
    name: 'presses garbage, then hangs up',
    from: '1003',
    script: [{ wait: 2500 }, { dtmf: '7' }, { wait: 6000 }, { dtmf: '9' }, { wait: 2000 }, { hangup: {} }],
  },
  {
    name: 'stays silent',
    from: '1004',
    script: [],
  },
  {
    name: 'wrong key, then voicemail',
    from: '1005',
    script: [{ wait: 2500 }, { dtmf: '9' }, { wait: 6000 }, { dtmf: '2' }, { wait: 9000 }, { dtmf: '#' }],
  },
  {
    name: 'hangs up during the greeting',
    from: '1006',
    script: [{ wait: 800 }, { hangup: {} }],
  },
];

/** Number the demo callers dial. */
export const DEMO_DEST_NUMBER = '800';
