/**
 * Conference rooms of one node: who is in which named room, member ids, flags. Pure bookkeeping; the
 * Conference handler (conference.ts) and the hangup path (runtime.ts) join and leave members.
 */
import type { Channel } from './channel.js';

export interface RoomMember {
  readonly id: number;
  readonly channel: Channel;
  readonly joinedAt: number;
  readonly flags: ReadonlySet<string>;
}

export interface Room {
  readonly name: string;
  readonly uuid: string;
  readonly createdAt: number;
  readonly profile: string;
  readonly members: Map<string, RoomMember>;
  nextId: number;
}

export class ConferenceRooms {
  readonly #rooms = new Map<string, Room>();

  constructor(private readonly newUuid: () => string) {}

  get size(): number {
    return this.#rooms.size;
  }

  get(name: string): Room | undefined {
    return this.#rooms.get(name);
  }

  /** Adds the channel to the room (created on first join) and returns the room. */
  join(ch: Channel, name: string, profile: string, flags: Iterable<string>, now: number): Room {
    let room = this.#rooms.get(name);
    if (!room) {
      room = { name, uuid: this.newUuid(), createdAt: now, profile, members: new Map(), nextId: 1 };
      this.#rooms.set(name, room);
    }
    room.members.set(ch.uuid, { id: room.nextId++, channel: ch, joinedAt: now, flags: new Set(flags) });
    ch.conference = name;
    return room;
  }

  /**
   * Removes the channel from its room (an empty room is deleted). Returns the room and the member count
   * left, or undefined when the channel was in no room (so leaving twice is harmless).
   */
  leave(ch: Channel): { room: Room; memberCount: number } | undefined {
    const name = ch.conference;
    if (name === undefined) return undefined;
    ch.conference = undefined;
    const room = this.#rooms.get(name);
    if (!room?.members.delete(ch.uuid)) return undefined;
    if (room.members.size === 0) this.#rooms.delete(name);
    return { room, memberCount: room.members.size };
  }
}
