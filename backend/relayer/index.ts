/** The relayer: accepting partners' signed forward requests (service + routes) and submitting them (worker). */
export * from "./acceptance-checks.ts";
export * from "./broadcast.ts";
export * from "./fees.ts";
export * from "./forward-request.ts";
export * from "./relay-policy.ts";
export * from "./relay-routes.ts";
export * from "./relay-service.ts";
export * from "./relay-transaction.ts";
export * from "./relayer-context.ts";
export * from "./relayer-worker.ts";
export * from "./settle-submitted.ts";
export * from "./submit-queued.ts";
