/**
 * Event-loop time for QR requests, handed out in slices so they cannot hold up the rest of the server.
 *
 * A saturated server receives dozens of requests per turn of its event loop. Run as they arrive, each QR request's
 * handler (store lookups, cache, the response write) runs before the loop gets to the next socket, so a health check
 * or a passport request arriving in the same turn waits behind all of them. Instead a QR handler first awaits
 * `next()`: handlers then run after the loop's I/O phase (setImmediate), and once they have used `sliceMs` of one
 * turn, the rest wait for the next turn, after the loop has read and answered whatever else arrived. Waiting
 * handlers keep their order, and the first of each turn always runs, so QR requests never starve either.
 */

/** Event-loop time QR handlers may take per turn before the rest wait for the next one. */
export const QR_LOOP_SLICE_MS = 2;

export interface LoopSlices {
  /** Resolves when the caller may run: in this turn's slice if any of it is left, else in a later turn's. */
  next(): Promise<void>;
}

export function createLoopSlices(sliceMs = QR_LOOP_SLICE_MS): LoopSlices {
  let sliceOpen = false;
  let sliceStart = 0;
  // Set once this turn's slice is used up: every later waiter of the turn moves to the next one, in order.
  let sliceSpent = false;

  // Queued when a slice opens, so it runs first in the next turn's immediates: that turn gets a fresh slice.
  const endSlice = () => {
    sliceOpen = false;
    sliceSpent = false;
  };

  function run(resolve: () => void): void {
    if (!sliceOpen) {
      sliceOpen = true;
      sliceStart = performance.now();
      setImmediate(endSlice);
      resolve();
      return;
    }
    if (!sliceSpent && performance.now() - sliceStart >= sliceMs) sliceSpent = true;
    if (sliceSpent) setImmediate(run, resolve);
    else resolve();
  }

  return {
    next: () => new Promise<void>((resolve) => setImmediate(run, resolve)),
  };
}
