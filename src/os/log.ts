import * as core from './runner-io.js';

/*
 * How the code talks to a person: the Log interface that every phase is handed, mapped to the
 * runner's log for the action and the hooks (groups, annotations: runner-io.ts) and to stderr for the CLI.
 */

/** The few ways this code talks to a person: the action maps them to the runner's log, the CLI to stderr. */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export const actionLog: Log = {
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  debug: (m) => core.debug(m),
  group: (name, fn) => core.group(name, fn),
};

/**
 * The CLI's log: warnings and debug lines on stderr; the rest on stderr too, or on stdout where
 * it is the command's report (`gc`: each removal, then its total), or nowhere (`quiet`: --json).
 */
export function consoleLog(verbose = false, quiet = false, report: NodeJS.WritableStream = process.stderr): Log {
  return {
    info: (m) => void (quiet || report.write(`${m}\n`)),
    warning: (m) => void process.stderr.write(`warning: ${m}\n`),
    debug: (m) => void (verbose && process.stderr.write(`debug: ${m}\n`)),
    group: async (name, fn) => {
      if (!quiet) report.write(`== ${name}\n`);
      return fn();
    },
  };
}
