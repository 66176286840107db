/** Application result codes carried in `result.code` (reference §4, seed 002 "通用code返回值说明"). */
export const Code = {
  /** Provisional: the real result follows on `cn.xswitch.ctrl.<ctrl_uuid>` (expect_100_trying). */
  Trying: 100,
  OK: 200,
  /** Accepted; the outcome follows as an event (async Dial → Event.DialResult). */
  Accepted: 202,
  /** Success with incomplete data (e.g. playback paused/stopped part-way). */
  Partial: 206,
  BadRequest: 400,
  NotFound: 404,
  /** The operation was interrupted: Stop, or the far end hung up. */
  Gone: 410,
  /** Takeover conflict: another controller owns the channel and `takeover` was not set. */
  Conflict: 419,
  InternalError: 500,
  /** A call attempt failed (Dial, Bridge b-leg): the FreeSWITCH cause is in `result.cause`. */
  CallFailed: 480,
  /** Not implemented by this node (e.g. a method the simulator cannot honour). */
  NotImplemented: 501,
  /** Node shutting down: new calls refused. */
  ShuttingDown: 603,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/** JSON-RPC 2.0 envelope error codes: used only for envelope problems, never for call outcomes. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ServerError: -32000,
} as const;
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/** FreeSWITCH hangup causes the simulator produces or accepts. Any other string is also accepted. */
export const Cause = {
  Success: 'SUCCESS',
  NormalClearing: 'NORMAL_CLEARING',
  UserBusy: 'USER_BUSY',
  NoAnswer: 'NO_ANSWER',
  NoUserResponse: 'NO_USER_RESPONSE',
  CallRejected: 'CALL_REJECTED',
  NoRouteDestination: 'NO_ROUTE_DESTINATION',
  OriginatorCancel: 'ORIGINATOR_CANCEL',
  AllottedTimeout: 'ALLOTTED_TIMEOUT',
  NormalTemporaryFailure: 'NORMAL_TEMPORARY_FAILURE',
  SystemShutdown: 'SYSTEM_SHUTDOWN',
  LoseRace: 'LOSE_RACE',
  RecoveryOnTimerExpire: 'RECOVERY_ON_TIMER_EXPIRE',
  ManagerRequest: 'MANAGER_REQUEST',
} as const;
export type Cause = (typeof Cause)[keyof typeof Cause];
