/** Subjects private to the benchmark (shared by run.ts and the child processes). */

/** Baseline echo responder (echo-proc). */
export const ECHO_SUBJECT = 'bench.echo';
/** The ctrl process answers its counters here (ctrl-proc). */
export const CTRL_STATS_SUBJECT = 'bench.ctrl.stats';
