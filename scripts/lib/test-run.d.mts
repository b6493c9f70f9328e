export const RUN_DIR_VARIABLE: string;
export function prepareTestRun(env?: Record<string, string | undefined>): void;
