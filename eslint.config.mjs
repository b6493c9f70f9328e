// ESLint's flat config, as actions/checkout, actions/cache and the typescript-action template
// use it: ESLint's and typescript-eslint's recommended rules for src/ and __tests__/, with
// Prettier owning the layout (eslint-config-prettier turns off every rule it would fight).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.ci/', 'coverage/', 'scripts/', 'examples/', 'bin/', 'hooks/', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
);
