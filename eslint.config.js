// Lint rules, including the layering of DESIGN.md: folders import downward only.
// base ← mailboxes ← actors, supervisors ← kernel ← services, cluster ← node, cli, index.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const layer = (folders) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          regex: `(^|/)(${folders.join('|')})/`,
          message: 'Layering: this folder may only import layers below it (see DESIGN.md).',
        },
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.agentos/', 'test-artifacts/', '.tmp-crash/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/base/**'], rules: layer(['mailboxes', 'actors', 'supervisors', 'kernel', 'services', 'cluster', 'cli', 'node']) },
  { files: ['src/mailboxes/**'], rules: layer(['actors', 'supervisors', 'kernel', 'services', 'cluster', 'cli', 'node']) },
  { files: ['src/actors/**'], rules: layer(['supervisors', 'kernel', 'services', 'cluster', 'cli', 'node']) },
  { files: ['src/supervisors/**'], rules: layer(['actors', 'kernel', 'services', 'cluster', 'cli', 'node']) },
  { files: ['src/kernel/**'], rules: layer(['services', 'cluster', 'cli', 'node']) },
  { files: ['src/services/**', 'src/cluster/**'], rules: layer(['cli', 'node']) },
  {
    // The inspector's page: plain browser ES modules served as they are (no build step).
    files: ['src/services/inspector/ui/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
  },
  {
    // The kernel and everything below it take time from the injected Clock.
    files: ['src/base/!(clock).ts', 'src/mailboxes/**', 'src/actors/**', 'src/supervisors/**', 'src/kernel/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use the injected Clock.' },
        { object: 'Math', property: 'random', message: 'Use the seeded Rng.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use the injected Clock.' },
        { name: 'setInterval', message: 'Use the injected Clock.' },
      ],
    },
  },
);
