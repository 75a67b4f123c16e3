/** The relayer: accepting partners' signed forward requests (service + routes) and submitting them (worker). */
export * from "./forward-request.ts";
export * from "./relay-policy.ts";
export * from "./relay-routes.ts";
export * from "./relay-service.ts";
export * from "./relayer-worker.ts";
