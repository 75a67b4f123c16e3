// Preloaded into a CLI process (NODE_OPTIONS=--import, Node strips the types) to run its wall clock CLOCK_AHEAD_MS
// ahead of the chain's, as on a first start whose in-process chain began before a long compile.
const offset = Number(process.env.CLOCK_AHEAD_MS ?? 0);
const realNow = Date.now;
Date.now = (): number => realNow() + offset;
