export const SERVICE_CRATE_PACKAGES: string[];
export const SERVICE_DEPS: string;
export function SERVICE_MAIN(n: number): string;
export function makeServiceWorkspace(dir: string, registryUrl: string, o?: { main?: string; extraFiles?: Record<string, string> }): string;
