export function commitGitDep(dir: string, o: { name: string; answer: number; init?: boolean; orphan?: boolean; padMiB?: number }): string;
export function makeGitConsumer(dir: string, name: string, url: string, branch?: string): string;
export function serveGit(base: string): Promise<{ url(name: string): string; close(): Promise<void> }>;
