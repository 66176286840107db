/** Errors of the simulated media backend's configuration (caller scripts, directory, trickle). */

/**
 * A caller script, destination behaviour or sim configuration is malformed. `path` names the bad
 * field (e.g. `script[2].wait`), `code` is 400 so a node can answer XNode.SimCall with it directly.
 *
 * @example
 * try { parseCallerScript(input); } catch (e) { if (e instanceof SimConfigError) reply(400, e.message); }
 */
export class SimConfigError extends Error {
  override readonly name = 'SimConfigError';
  readonly code = 400;
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
  }
}
