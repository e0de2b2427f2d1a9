#!/usr/bin/env node
/**
 * The `parley` command line: `parley serve`, `parley echo`, `parley connect`, `--help` on each.
 * @packageDocumentation
 */
import { UsageError } from './args.js';
import { CONNECT_HELP, runConnect } from './connect.js';
import { ECHO_HELP, runEcho } from './echo.js';
import { SERVE_HELP, runServe } from './serve.js';

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
      case 'serve':
        await runServe(rest);
        return undefined;
      case 'echo':
        await runEcho(rest);
        return undefined;
      case 'connect':
        return await runConnect(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const help = command === 'serve' ? SERVE_HELP : command === 'echo' ? ECHO_HELP : command === 'connect' ? CONNECT_HELP : MAIN_HELP;
      process.stderr.write(`parley: ${error.message}\n\n${help}`);
      return 2;
    }
    process.stderr.write(`parley: ${(error as Error).message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
