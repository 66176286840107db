import {
  type CallerStep,
  CallerStepSchema,
  type DestinationBehaviour,
  DestinationBehaviourSchema,
  type Media,
  MediaSchema,
} from '../protocol/index.js';
import { describe, expect, it } from 'vitest';
import type {
  CallerStep as MediaCallerStep,
  DestinationBehaviour as MediaBehaviour,
  MediaSpec,
} from './media.js';

describe('the media seam and the protocol schemas describe the same objects', () => {
  it('types stay structurally compatible with src/node/media.ts', () => {
    // Compile-time check: these assignments fail `tsc` if the schemas drift from the media seam.
    const step: MediaCallerStep = CallerStepSchema.parse({ dtmf: '1' }) satisfies CallerStep;
    const behaviour: MediaBehaviour = DestinationBehaviourSchema.parse({
      busy: true,
    }) satisfies DestinationBehaviour;
    const media: MediaSpec = MediaSchema.parse({ type: 1, data: 'hi' }) satisfies Media;
    expect([step, behaviour, media.type]).toEqual([{ dtmf: '1' }, { busy: true }, 'TEXT']);
  });
});
