// Types for simulator.test.ts; the module is plain JavaScript (scripts/sim/run.mjs).
/* eslint-disable @typescript-eslint/no-explicit-any */
export function readTraces(path?: URL | string): any;
export function levelsOf(cfg: any, m: any, target?: string): any;
export function policiesFor(m: any): any[];
export function kneeOf(trace: any, m: any, cfg: any, level: any, w: any): number;
export function floorOf(trace: any, w: any, level?: any): number;
export function runAll(cfg: any, m: any, o?: { traces?: string[]; seeds?: number; sizes?: string[]; policies?: (p: any) => boolean; target?: string }): any[];
export function summarize(results: any[]): any[];
export function verdicts(rows: any[]): { trace: string; size: string; scarce: boolean; ok: boolean; checks: { what: string; ok: boolean }[]; [k: string]: any }[];
