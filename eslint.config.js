// Lint: typescript-eslint with type-aware rules, plus the layering rule from the
// architecture guide: the sans-I/O protocol core may not import Node built-ins.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'autobahn-reports/**', 'bench-results/**', '.node24/**', 'eslint.config.js', 'scripts/**',
    // Programs written for `ws`, compiled by test/types/ws-types.test.ts under the user's own settings.
    'test/types/corpus/**', 'test/types/negative/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Code that must also run in browsers: the protocol core, the real-time envelope codec and
    // the browser client.
    files: ['src/protocol/**/*.ts', 'src/pubsub/envelope.ts', 'src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'The protocol core is sans-I/O: no Node built-ins (architecture guide).' },
          // The browser-safe envelope codec is the one later-layer module browser code may use.
          { group: ['../node/*', '../node', '../cli/*', '../pubsub/*', '!../pubsub/envelope.js'], message: 'The protocol core and browser code import nothing from later layers.' },
        ],
        paths: ['fs', 'net', 'http', 'https', 'zlib', 'crypto', 'stream', 'events', 'buffer', 'tls', 'timers'].map((name) => ({
          name, message: 'The protocol core is sans-I/O: no Node built-ins.',
        })),
      }],
      'no-restricted-globals': ['error',
        { name: 'Buffer', message: 'Use Uint8Array in the protocol core.' },
        { name: 'setTimeout', message: 'The clock is passed in: the protocol core has no timers.' },
        { name: 'setInterval', message: 'The clock is passed in: the protocol core has no timers.' },
        { name: 'process', message: 'The protocol core is sans-I/O.' },
      ],
    },
  },
  {
    // The core carries no Redis dependency: only the Redis adapter (parley/redis) imports the
    // client. A rule of its own (not no-restricted-imports) so it adds to the layering rules
    // above and below instead of replacing them.
    files: ['src/**/*.ts'],
    // The poker app's Redis link loads the client at run time, only on a host that runs on Redis.
    ignores: ['src/redis/**', 'src/apps/poker/cluster/redis-link.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: 'ImportDeclaration[source.value=/^(redis|@redis\\u002F.*)$/]', message: 'Only src/redis may import the Redis client (the core has no Redis dependency).' },
        { selector: 'ExportNamedDeclaration[source.value=/^(redis|@redis\\u002F.*)$/]', message: 'Only src/redis may import the Redis client.' },
        { selector: 'ExportAllDeclaration[source.value=/^(redis|@redis\\u002F.*)$/]', message: 'Only src/redis may import the Redis client.' },
        { selector: 'ImportExpression[source.value=/^(redis|@redis\\u002F.*)$/]', message: 'Only src/redis may import the Redis client.' },
      ],
    },
  },
  {
    files: ['src/node/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../cli/*', '../pubsub/*'], message: 'The Node layer imports only the protocol core.' },
      ] }],
    },
  },
  // Applications are built on the public API only (architecture guide: apps are thin): the
  // package entry (src/index.ts), the browser client (src/client/index.ts) and the server's public
  // app API (src/server/app.ts: the host contract and the host services apps use). An app's own
  // files are its own; nothing else of the source tree is, another app included. One block per
  // depth, since a relative specifier means another place at each.
  ...[
    { files: ['src/apps/*.ts'], regex: '^\\.\\./(?!(index|client/index|server/app)\\.js$)' },
    { files: ['src/apps/*/*.ts'], regex: '^\\.\\./(?!\\.\\./(index|client/index|server/app)\\.js$)' },
    { files: ['src/apps/*/*/**/*.ts'], regex: '^\\.\\./\\.\\./(?!\\.\\./(index|client/index|server/app)\\.js$)' },
  ].map(({ files, regex }) => ({
    files,
    ignores: ['src/apps/*/web/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { regex, message: 'Apps use the public API only: import from src/index.js, src/client/index.js or src/server/app.js.' },
      ] }],
    },
  })),
  {
    // The server hosts apps but never imports one: the command line hands them over
    // (startServer's `apps` option). Nor does it import the command line.
    files: ['src/server/**/*.ts'],
    ignores: ['src/server/web/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../apps', '../apps/*', '../cli', '../cli/*'], message: 'The server never imports the apps or the CLI: the CLI hands the bundled apps to startServer.' },
      ] }],
    },
  },
  {
    // Browser code of the applications and of the server's admin page: typed against the DOM
    // (tsconfig.web.json), no Node.
    files: ['src/apps/*/web/**/*.ts', 'src/server/web/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: false, project: './tsconfig.web.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*'], message: 'Browser code: no Node built-ins.' },
        { group: ['../../../protocol/*', '../../../node/*', '../../../pubsub/*', '../../../server/*', '../../../cli/*', '../../../index.js'],
          message: 'Browser code uses the browser client only: src/client/index.js.' },
      ] }],
    },
  },
);
