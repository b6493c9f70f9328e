export const DEBIAN_REGISTRY: string;
export const REAL_CRATE_PACKAGES: string[];
export const REAL_DEPS: string;
export function ensurePackages(packages?: string[]): void;
export function packRegistry(dir: string, o?: { from?: string }): Promise<number>;
export function makeRealWorkspace(dir: string, registryUrl: string, o?: { deps?: string; main?: string; extraFiles?: Record<string, string> }): string;
export function REAL_MAIN(n: number): string;
