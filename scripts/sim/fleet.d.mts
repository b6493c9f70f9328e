export interface ReplayJob { pr?: number; branch?: string; job: string; runner: string; runId: number }
export interface ReplayResult { tier: string; reason: string; deps: 'none' | 'some'; slot: string }
export function replay(m: { choose: unknown; guard: unknown; prepare: unknown; disk: unknown }, steps: ReplayJob[][], o: { room: boolean }): ReplayResult[][];
