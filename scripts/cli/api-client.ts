/**
 * The CLI's requests to the Provena backend (PROVENA_API_URL or --api): JSON in, JSON out, and the backend's
 * problem detail as the error a user reads.
 */
import { CliError, type CliContext } from "./context.ts";

/** Sends a request to the backend; throws CliError with the problem's detail on a non-2xx answer. */
export async function apiJson<T>(
  context: Pick<CliContext, "apiUrl">,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetch(`${context.apiUrl}${path}`, { ...init, headers: { accept: "application/json", ...init.headers } });
  } catch (error) {
    throw new CliError(`cannot reach the backend at ${context.apiUrl}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as T & { detail?: string };
  if (!response.ok) throw new CliError(`the backend refused (HTTP ${response.status}): ${body.detail ?? "no detail"}`);
  return { status: response.status, body };
}
