/**
 * Requests Node's HTTP parser refuses before Express sees them: headers (the URL included) over the server's
 * maxHeaderSize, a malformed request line, a request that took too long to arrive. Node's default answer is a
 * bodyless 431/400/408; this one is the same status with a problem+json body like every other refusal.
 */
import { maxHeaderSize as defaultMaxHeaderSize, STATUS_CODES, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { ProblemError } from "./problem.ts";

function problemFor(code: string | undefined, maxHeaderSize: number): ProblemError {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return new ProblemError(431, "Request Header Fields Too Large", `The request line and headers exceed ${maxHeaderSize} bytes`, {
        limit: maxHeaderSize,
      });
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new ProblemError(408, "Request Timeout", "The request did not arrive in time");
    default:
      return new ProblemError(400, "Bad Request", "The request is not valid HTTP/1.1");
  }
}

/** Installs the server's `clientError` listener (replacing Node's bodyless answer); maxHeaderSize is only named in the detail. */
export function answerClientErrorsAsProblems(server: Server, maxHeaderSize: number = defaultMaxHeaderSize): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A response already under way on this keep-alive socket cannot be followed by another one.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const problem = problemFor(error.code, maxHeaderSize);
    const body = JSON.stringify(problem.toJSON());
    socket.end(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        "Content-Type: application/problem+json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n" +
        body,
    );
  });
}
