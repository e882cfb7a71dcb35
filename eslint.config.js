// Workflow code is replayed: it must stay deterministic, so Node built-ins and I/O are banned there.
const tseslint = require('typescript-eslint');
const js = require('@eslint/js');
const { builtinModules } = require('node:module');

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
// The SDK's lib/ paths are its internals: they change without notice between releases.
const sdkInternals = { group: ['@temporalio/*/lib/**'], message: 'Public SDK API only: import from the package.' };
// Relative imports of these top-level folders, their index included: `../client` as well as `../client/x`.
const folders = (...names) => `^(\\.\\./)+(${names.join('|')})(/|$)`;
// tools/ and test/ are left out of the package (package.json files) and the image (Dockerfile).
const notShipped = {
  regex: folders('tools', 'test'),
  message: 'tools/ and test/ do not ship: product code imports neither.',
};

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**', '*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-imports': ['error', { patterns: [sdkInternals] }],
    },
  },
  // Examples are plain Node scripts users copy: Node's globals, no TypeScript.
  {
    files: ['examples/**/*.{mjs,cjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  // The review page's script runs in browsers as it is (no build step): their globals, no modules.
  {
    files: ['client/gateway/review-page/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        ['document', 'location', 'fetch', 'URL', 'setTimeout', 'clearTimeout'].map((name) => [name, 'readonly']),
      ),
    },
  },
  // Arrows run one way: client -> workers -> activities -> common; workflows and common import no layer above them.
  {
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: folders('client', 'workers', 'activities', 'workflows', 'simulator'),
              message: 'common/ imports nothing above it.',
            },
            notShipped,
            sdkInternals,
          ],
        },
      ],
    },
  },
  {
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ regex: folders('client'), message: 'Nothing imports client/.' }, notShipped, sdkInternals],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: folders('client', 'workers'), message: 'activities/ imports neither client/ nor workers/.' },
            notShipped,
            sdkInternals,
          ],
        },
      ],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [notShipped, sdkInternals] }] },
  },
  {
    files: ['simulator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: folders('client'), message: 'Nothing imports client/.' }, notShipped, sdkInternals] },
      ],
    },
  },
  // `up` leads from a workflow file to the top: there `activities` is the activities layer, while
  // `../activities` in workflows/series/ is workflows/activities.ts, the activity proxies.
  ...[
    ['workflows/*.ts', '\\.\\./'],
    ['workflows/*/**/*.ts', '(\\.\\./){2,}'],
  ].map(([files, up]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins.' })),
          patterns: [
            {
              regex: `^${up}activities(/|$)`,
              message: 'Workflows import activity types only.',
              allowTypeImports: true,
            },
            {
              group: ['openai', 'pino', 'yaml', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
              message: 'No I/O libraries in workflows.',
            },
            {
              regex: folders('client', 'workers', 'common', 'simulator'),
              message: 'Workflows import no layer above them.',
            },
            notShipped,
            sdkInternals,
          ],
        },
      ],
    },
  })),
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No environment reads in workflows.' },
        { name: 'fetch', message: 'No I/O in workflows: use an activity.' },
        { name: 'require', message: 'No dynamic requires in workflows.' },
        { name: 'setInterval', message: 'Use workflow timers (sleep).' },
      ],
    },
  },
);
