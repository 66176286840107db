/** Channel states of `Event.Channel` (reference §7.1). */
export const ChannelState = {
  Start: 'START',
  Calling: 'CALLING',
  Ringing: 'RINGING',
  Answered: 'ANSWERED',
  Media: 'MEDIA',
  Ready: 'READY',
  Bridge: 'BRIDGE',
  Unbridge: 'UNBRIDGE',
  Destroy: 'DESTROY',
} as const;
export type ChannelState = (typeof ChannelState)[keyof typeof ChannelState];
export const CHANNEL_STATES = Object.values(ChannelState) as [ChannelState, ...ChannelState[]];

export type Direction = 'inbound' | 'outbound';
