// Lint: typescript-eslint with type-aware rules, plus the layering rule from the
// architecture guide: the sans-I/O protocol core may not import Node built-ins.
import tseslint from 'typescript-eslint';

/** Node built-ins by bare name (the `node:` form is matched by a pattern). */
const NODE_BUILTINS = ['fs', 'net', 'http', 'https', 'zlib', 'crypto', 'stream', 'events', 'buffer', 'tls', 'timers'];

/**
 * Import patterns for every folder of src/ (and its top-level modules) seen from one level below
 * src/ (`up` = '../'). Each folder's rule below filters out what it may import: the layering of
 * the architecture guide, protocol -> node -> realtime -> server/apps/cli, with
 * protocol -> pubsub -> realtime beside it and the wire codec shared by the engine, the binding
 * and the browser client.
 */
function layers(up) {
  const folders = ['protocol', 'node', 'pubsub', 'realtime', 'wire', 'client', 'redis', 'server', 'apps', 'cli'];
  return [...folders.flatMap((folder) => [`${up}${folder}/*`, `${up}${folder}`]), `${up}index.js`, `${up}ws-exports.js`];
}

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
    // Code that must also run in browsers: the protocol core, the parley.v1 wire codec and the
    // browser client. No Node built-ins, no Buffer, no timers of its own.
    files: ['src/protocol/**/*.ts', 'src/wire/**/*.ts', 'src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'The protocol core is sans-I/O: no Node built-ins (architecture guide).' },
          // Leaving the folder at all: the protocol core and the codec import nothing, but for the
          // browser-safe error model (one error class for the whole library, client included).
          { regex: '^\\.\\./(?!protocol/(errors|constants)\\.js$)', message: 'The protocol core and the wire codec import nothing outside their folder but the error model.' },
        ],
        paths: NODE_BUILTINS.map((name) => ({ name, message: 'The protocol core is sans-I/O: no Node built-ins.' })),
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
    // The browser client: besides itself, only the wire codec it shares with the server.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'Browser code: no Node built-ins.' },
          { regex: '^\\.\\./(?!(client/|wire/envelope\\.js$|protocol/(errors|constants)\\.js$))',
            message: 'The browser client imports only the parley.v1 wire codec (src/wire/envelope.ts), the error model (src/protocol/errors.ts) and the protocol constants (src/protocol/constants.ts).' },
        ],
        paths: NODE_BUILTINS.map((name) => ({ name, message: 'Browser code: no Node built-ins.' })),
      }],
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
        { group: layers('../').filter((p) => !p.startsWith('../protocol') && !p.startsWith('../node')),
          message: 'The Node layer imports only the protocol core (architecture guide: protocol -> node).' },
      ] }],
    },
  },
  {
    // The pub/sub engine knows subscribers, not sockets: the protocol core (prepared frames) and
    // the wire codec, nothing of the Node layer or above.
    files: ['src/pubsub/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: layers('../').filter((p) => !p.startsWith('../protocol') && !p.startsWith('../pubsub') && !p.startsWith('../wire')),
          message: 'The pub/sub engine imports only the protocol core and the wire codec; the Node binding is src/realtime.' },
      ] }],
    },
  },
  {
    // The real-time binding: where the engine meets the Node classes, below the server and apps.
    files: ['src/realtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: layers('../').filter((p) => ['../server', '../apps', '../cli', '../redis', '../client', '../index.js', '../ws-exports.js'].some((layer) => p.startsWith(layer))),
          message: 'The real-time binding imports the protocol core, the Node layer, the engine and the wire codec only.' },
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
    // (tsconfig.web.json), no Node. Besides the browser client and the wire codec, only the
    // protocol's constants (close codes), a file with no imports that esbuild bundles as is.
    files: ['src/apps/*/web/**/*.ts', 'src/server/web/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: false, project: './tsconfig.web.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*'], message: 'Browser code: no Node built-ins.' },
        { group: ['../../', '../../../'].flatMap((up) => [
          ...['protocol', 'node', 'pubsub', 'realtime', 'server', 'cli', 'redis', 'apps', 'wire'].map((layer) => `${up}${layer}/*`),
          `${up}index.js`, `!${up}wire/envelope.js`, `!${up}protocol/constants.js`,
        ]),
          message: 'Browser code uses the browser client (src/client/index.js), the wire codec (src/wire/envelope.js) and the protocol constants (src/protocol/constants.js) only.' },
      ] }],
    },
  },
);
