#!/usr/bin/env node
/**
 * The `parley` command line: `parley serve`, `parley echo`, `parley connect`, `--help` on each.
 * @packageDocumentation
 */
import { UsageError, closestFlag } from './args.js';

const COMMANDS = ['serve', 'echo', 'connect'] as const;

/** Top-level help. */
export const MAIN_HELP = `Usage: parley <command> [options]

Commands:
  serve      run the Parley server (real-time endpoint, HTTP API, metrics, admin, apps)
  echo       run a WebSocket echo server
  connect    connect to a WebSocket server (interactive, or --echo)

Run 'parley <command> --help' for a command's options.
`;

/** Runs the CLI with `argv` (without node and script); returns the exit status, or undefined while serving. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      // Each command is loaded when it runs: `serve` brings the whole server (its adapters,
      // logging, metrics, the apps), which `echo`, `connect` and `--help` never use.
      case 'serve':
        await (await import('./serve.js')).runServe(rest);
        return undefined;
      case 'echo':
        await (await import('./echo.js')).runEcho(rest);
        return undefined;
      case 'connect':
        return await (await import('./connect.js')).runConnect(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return command === undefined ? 2 : 0;
      default: {
        const close = closestFlag(command.replace(/^-+/, ''), COMMANDS);
        throw new UsageError(`unknown command '${command}'${close === undefined ? '' : ` (did you mean ${close}?)`}`);
      }
    }
  } catch (error) {
    const known = (COMMANDS as readonly string[]).includes(command ?? '');
    const who = known ? `parley ${command}` : 'parley';
    if (error instanceof UsageError) {
      // The error and where to look, not the whole help: a long help scrolls the error away.
      process.stderr.write(`${who}: ${error.message}\nRun '${who} --help' for ${known ? 'its options' : 'the commands'}.\n`);
      return 2;
    }
    process.stderr.write(`${who}: ${(error as Error).message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
