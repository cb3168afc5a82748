import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [
  'fs',
  'path',
  'crypto',
  'os',
  'child_process',
  'net',
  'http',
  'https',
  'stream',
  'util',
];

/** Folders of code with side effects, which deterministic code must not load. */
const sideEffectFolders = [
  '**/api/**',
  '**/embedded/**',
  '**/connectors/**',
  '**/audit/**',
  '**/worker/**',
  '**/bin/**',
];

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'coverage', '.temporal', '.data'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node built-ins, and from
    // activities/ only the type of the activity interface.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [name, `node:${name}`]),
          patterns: [
            {
              group: ['**/activities/**'],
              allowTypeImports: true,
              message: 'workflows import only the activity types',
            },
            { group: sideEffectFolders, message: 'workflows are deterministic: no I/O code' },
          ],
        },
      ],
    },
  },
  {
    // The shared contracts: loaded by the workflow sandbox and by every process.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [name, `node:${name}`]),
          patterns: [
            {
              group: ['**/workflows/**', '**/activities/**', ...sideEffectFolders],
              message: 'domain/ imports only domain/',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/workflows/**'], message: 'activities share contracts through domain/' }] },
      ],
    },
  },
  {
    files: ['audit/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows/**', '**/activities/**'],
              message: 'the audit reads contracts from domain/',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: globals.node } },
  // The one script the console pages run, in the browser.
  { files: ['templates/**/*.js'], languageOptions: { globals: globals.browser } },
);
