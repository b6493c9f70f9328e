// Types for simulator.test.ts; the module is plain JavaScript (scripts/sim/load.mjs).
/* eslint-disable @typescript-eslint/no-explicit-any */
export const PREVIOUS: string;
export function loadDecisions(repo?: string): Promise<{ [module: string]: any }>;
