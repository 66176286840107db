/**
 * The headers the CDR pipeline keeps of each event: what the router (`leg.ts`, `router.ts`,
 * `dedup.ts`), the story builder (`engine.ts`) and the default extractors read. The router turns
 * every event into a `CompactSwitchEvent` of these at ingest, in one pass over its header block, and
 * retains only that until the call is finalised. An extractor that reads a header outside this list
 * declares it in `Extractor.headers` (the engine adds those to its router's selection).
 */
import { HeaderSelection } from '../input/switch-event.js';

/** Header names read by the router, the story builder and the default extractors. */
export const ROUTED_HEADERS: readonly string[] = [
  // leg facts (leg.ts applyToLeg)
  'Call-Direction',
  'Caller-Direction',
  'Caller-Channel-Created-Time',
  'Caller-Channel-Answered-Time',
  'variable_answer_uepoch',
  'Caller-Channel-Hangup-Time',
  'Hangup-Cause',
  'variable_hangup_cause',
  'Caller-Profile-Index',
  'Caller-Destination-Number',
  'Caller-Caller-ID-Number',
  'Caller-Caller-ID-Name',
  'Caller-Username',
  'Channel-Name',
  'Caller-Channel-Name',
  'Caller-RDNIS',
  'variable_sip_to_user',
  'variable_sip_req_user',
  'Channel-Call-UUID',
  'variable_call_uuid',
  'variable_originating_leg_uuid',
  'Other-Type',
  'Other-Leg-Unique-ID',
  'variable_endpoint_disposition',
  'variable_sip_refer_to',
  'variable_sip_replaces',
  'variable_sip_call_id',
  'variable_cc_side',
  'variable_cc_queue',
  'variable_cc_agent',
  'variable_fifo_role',
  'Channel-Call-State',
  // links (leg.ts linksOf)
  'Bridge-A-Unique-ID',
  'Bridge-B-Unique-ID',
  'CC-Member-Session-UUID',
  'variable_signal_bond',
  'variable_last_bridge_to',
  'variable_bridge_uuid',
  'variable_cc_member_session_uuid',
  'variable_transfer_history',
  'Caller-Transfer-Source',
  'variable_transfer_source',
  'variable_intercepted_by',
  'variable_picked_up_uuid',
  'Application',
  'Application-Data',
  // spandsp events name their leg in lower case
  'uuid',
  // conferences, de-duplication keys, extractors
  'Conference-Unique-ID',
  'Conference-Name',
  'Member-ID',
  'Action',
  'CC-Action',
  'CC-Queue',
  'CC-Agent',
  'CC-Cause',
  'CC-Cancel-Reason',
  'FIFO-Action',
  'FIFO-Name',
  'VM-Action',
  'VM-User',
  'VM-Message-Len',
  'DTMF-Digit',
  'fax-success',
  'fax-document-transferred-pages',
  'fax-result-text',
  // valet_parking::info retrieval (park extractor)
  'Bridge-To-UUID',
];

/**
 * Prefixes of application headers kept as well (custom events whose header set is open: callcenter,
 * fifo, voicemail, conference, spandsp, valet parking).
 */
export const ROUTED_PREFIXES: readonly string[] = [
  'CC-',
  'FIFO-',
  'VM-',
  'Conference-',
  'Member-',
  'fax-',
  'Valet-',
];

/** The selection a router uses unless told to keep more. */
export const ROUTED_SELECTION = new HeaderSelection(ROUTED_HEADERS, ROUTED_PREFIXES);
