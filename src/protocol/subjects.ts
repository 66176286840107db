/**
 * NATS subjects of XCC (reference §2), with the optional tenant prefix: `cherry.cn.xswitch.ctrl`.
 */
export interface Subjects {
  /** Queue-subscribed by every node: requests any node may take (Dial). */
  readonly node: string;
  /** One node's own subject: channel APIs for its calls. */
  nodeOf(nodeUuid: string): string;
  /** Queue-subscribed by every controller: new-call events (START). */
  readonly ctrl: string;
  /** One controller's own subject: later events and async results. */
  ctrlOf(ctrlUuid: string): string;
  /** Node register/update/unregister (plain subscription, every controller sees it). */
  readonly status: string;
  /** Event.CDR. */
  readonly cdr: string;
  /** Bus-driven simulated callers (`XNode.Sim.Inject` etc.) go to the node subjects; this is a wildcard for tailing. */
  readonly all: string;
}

export interface SubjectOptions {
  /** Tenant prefix, e.g. `cherry` → `cherry.cn.xswitch.ctrl`. */
  tenant?: string;
  /** Override the status subject (xcc.conf `status-ctrl-subject`). */
  status?: string;
  /** Override the CDR subject (xcc.conf `cdr-subject`). */
  cdr?: string;
}

const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;

/** Builds the subject set; throws on a tenant that is not a single NATS token. */
export function subjects(options: SubjectOptions = {}): Subjects {
  const { tenant } = options;
  if (tenant !== undefined && !SUBJECT_TOKEN.test(tenant)) {
    throw new Error(`tenant must be one NATS subject token ([A-Za-z0-9_-]+), got ${JSON.stringify(tenant)}`);
  }
  const base = tenant ? `${tenant}.cn.xswitch` : 'cn.xswitch';
  return {
    node: `${base}.node`,
    nodeOf: (nodeUuid) => `${base}.node.${token(nodeUuid, 'node_uuid')}`,
    ctrl: `${base}.ctrl`,
    ctrlOf: (ctrlUuid) => `${base}.ctrl.${token(ctrlUuid, 'ctrl_uuid')}`,
    status: options.status ?? `${base}.status.node`,
    cdr: options.cdr ?? `${base}.cdr`,
    all: `${base}.>`,
  };
}

function token(value: string, what: string): string {
  if (!SUBJECT_TOKEN.test(value))
    throw new Error(`${what} is not a valid subject token: ${JSON.stringify(value)}`);
  return value;
}

/** Queue group names used by OpenXCC (any shared name works; these are ours). */
export const QueueGroup = { node: 'xnode', ctrl: 'xctrl' } as const;
