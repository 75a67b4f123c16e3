/** A pino logger whose JSON lines a test reads back (`lines`, one parsed object per line, in order). */
import { Writable } from "node:stream";
import { pino, type Level, type Logger } from "pino";

export function recordingLogger(level: Level = "debug"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
