/**
 * A one-shot gate: a promise plus the means to open it once. The extension host waits on gates
 * (close triggered, manual trigger received, predecessor started) instead of polling.
 */
export class Gate<T = void> {
  readonly wait: Promise<T>;
  #open!: (value: T) => void;
  #opened = false;

  constructor() {
    this.wait = new Promise<T>((resolve) => {
      this.#open = resolve;
    });
  }

  get opened(): boolean {
    return this.#opened;
  }

  /** Opens the gate; later calls do nothing. */
  open(value: T): void {
    if (this.#opened) return;
    this.#opened = true;
    this.#open(value);
  }
}
