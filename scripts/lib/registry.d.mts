export interface Crate { name: string; vers: string; cksum: string }
export function makeRegistry(dir: string, o: { count: number; prefix?: string; padBytes?: number }): Crate[];
export function serveRegistry(dir: string, o?: { bytesPerSecond?: number; latencyMs?: number }): Promise<{ port: number; url: string; stats: { requests: number; downloads: number }; close(): Promise<void> }>;
export function makeConsumer(dir: string, registryUrl: string, crates: Crate[]): string;
