export const PACE_VARIABLE: string;
export const MAX_PACE: number;
export function measurePace(runs?: number): { pace: number; samples: [number, number][] };
export function clampPace(x: number): number;
export function currentPace(env?: Record<string, string | undefined>): number;
