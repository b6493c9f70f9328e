// Types for the tests that drive the simulator (simulator.test.ts, replay.test.ts); the
// simulator itself is plain JavaScript (scripts/sim/fleet.mjs).
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface ReplayJob { pr?: number; branch?: string; job: string; runner: string; runId: number }
export interface ReplayResult { tier: string; reason: string; deps: 'none' | 'some'; slot: string }
export type ReplayStep = ReplayJob[] | { close: number[] };
export function replay(m: { choose: unknown; guard: unknown; prepare: unknown; disk: unknown; value?: unknown }, steps: ReplayStep[], o: { room: boolean }): ReplayResult[][];
export interface Stats { jobs: number; warm: number; cold: number; hits: number; copies: number; failedDisk: number; failedRace: number; minutes: number; waits: number; waitMinutes: number; peak: number; overMinutes: number; byHow: Record<string, number> }
export interface Weights { factor: Record<string, number>; sccacheBytes: number; [k: string]: any }
export function weightsOf(cfg: any, parseSize: (t: string) => number | undefined): Weights;
export function makeTrace(p: any, cfg: any, contentKey: (pr: number | undefined, branch: string) => string, seed?: number): any;
export function simulate(trace: any, policy: any, D: number, m: any, cfg: any, level: any, w?: Weights): { stats: Stats; timeline: any[]; slots?: number; guard?: any };
