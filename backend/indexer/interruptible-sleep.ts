/** Pauses that stopping cuts short, so a stopping indexer does not wait out its poll interval or its backoff. */
export interface InterruptibleSleep {
  /** Resolves after `ms`, or at once once interrupted. */
  sleep(ms: number): Promise<void>;
  /** Ends the pause in progress and makes every later one return at once, until reset(). */
  interrupt(): void;
  reset(): void;
}

export function createInterruptibleSleep(): InterruptibleSleep {
  let interrupted = false;
  let wake: (() => void) | null = null;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (interrupted) return resolve();
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      }),
    interrupt() {
      interrupted = true;
      wake?.();
    },
    reset() {
      interrupted = false;
    },
  };
}
