// ESLint's flat config, as actions/checkout, actions/cache and the typescript-action template
// use it: ESLint's and typescript-eslint's recommended rules for src/, __tests__/ and scripts/,
// with Prettier owning the layout (eslint-config-prettier turns off every rule it would fight).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // The root's own config files (this one, jest.config.js) are not linted; scripts/ is.
  { ignores: ['dist/', 'node_modules/', '.ci/', 'coverage/', '.sim/', '.bench/', 'examples/', 'bin/', 'hooks/', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    // The scripts' JavaScript is type-checked by tsc (checkJs, tsconfig.json), which knows node's
    // globals and every name; ESLint's no-undef would not (typescript-eslint's advice for typed code).
    files: ['scripts/**/*.mjs', 'scripts/**/*.js'],
    rules: { 'no-undef': 'off' },
  },
  {
    // No line over 160 characters in scripts/: Prettier wraps code at 160, not strings.
    files: ['scripts/**/*.ts', 'scripts/**/*.mjs', 'scripts/**/*.js'],
    rules: { 'max-len': ['error', { code: 160, ignoreUrls: false, ignoreStrings: false, ignoreTemplateLiterals: false, ignoreRegExpLiterals: false }] },
  },
);
