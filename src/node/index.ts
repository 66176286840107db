/**
 * node — XNode: the switch node. Channel state machine, takeover (Accept/Answer, the 10 s rule, 419
 * conflicts), every `XNode.*` method, `Event.*` emission, CDRs, node status and graceful shutdown.
 * Media sits behind `MediaBackend` (media.ts); `sim` implements it (./sim).
 */
export type { BridgeEnd, FlowControl } from './channel.js';
export type { NodeHooks, NodeStats } from './handlers.js';
export type {
  CallerStep,
  CollectOptions,
  CollectOutcome,
  DestinationBehaviour,
  FarEndEvent,
  InboundOffer,
  MediaBackend,
  MediaSession,
  MediaSink,
  MediaSpec,
  OriginateProgress,
  OriginateRequest,
  PlayOutcome,
  RecordOutcome,
  SpeechOptions,
  SpeechOutcome,
} from './media.js';
export { DEFAULT_RING_TIMEOUT_MS, numberOf } from './originate.js';
export { type ChannelSnapshot, type NodeLeaks, XNode, type XNodeOptions } from './node.js';
export type { CtrlLivenessOptions, CtrlLivenessStats } from './ctrl-liveness.js';
