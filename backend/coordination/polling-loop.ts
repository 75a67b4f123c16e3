/**
 * A background round run every `intervalMs` (the keeper, the anchorer, the breach submitter, the recall flaggers):
 * one round at a time, the next scheduled only when the previous one ended, and `stop()` waits for the round in
 * flight. A round that walks many items checks `stopping` to end early.
 */
export interface PollingLoop {
  /** Runs the first round at once, then one every interval; a no-op while running. */
  start(this: void): void;
  /** No further rounds; resolves once the round in flight (if any) has ended. */
  stop(this: void): Promise<void>;
  /** True when `stop()` was called while a scheduled round runs. */
  readonly stopping: boolean;
}

export function createPollingLoop(
  round: () => Promise<unknown>,
  { intervalMs, onError }: { intervalMs: number; onError: (error: unknown) => void },
): PollingLoop {
  let timer: NodeJS.Timeout | null = null;
  let stopped = true;
  let current: Promise<unknown> | null = null;

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      current = round()
        .catch(onError)
        .finally(() => {
          current = null;
          schedule(intervalMs);
        });
    }, delay);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await current;
    },
    get stopping() {
      return stopped && current !== null;
    },
  };
}
