#!/usr/bin/env node
// `npx provena …`: runs the TypeScript CLI (scripts/cli.ts) through tsx's loader, since Provena ships its sources.
import { register } from "tsx/esm/api";

register();
await import("./cli.ts");
