// Module hooks that let node run this repository's TypeScript as it is (registered by
// typescript.mjs, which says why). Two hooks:
//  - resolve: src/ and scripts/ import their TypeScript siblings by `.js` names (NodeNext: the
//    name the compiled file would have). A relative `.js` specifier that names no file but has a
//    `.ts` beside it resolves to the `.ts`.
//  - load: a `.ts` file is transpiled with the project's TypeScript (types dropped, one file at a
//    time, no type check: `npm run typecheck` does that), as an ES module.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, next) {
  if (/^\.{1,2}\/.*\.js$/.test(specifier) && context.parentURL?.startsWith('file:')) {
    const asTs = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(asTs)) return { url: asTs.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}

/** @type {import('node:module').LoadHook} */
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const path = fileURLToPath(url);
  const out = ts.transpileModule(readFileSync(path, 'utf8'), {
    fileName: path,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
