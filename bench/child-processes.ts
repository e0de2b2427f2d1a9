/**
 * Every child process the orchestrator starts is registered here and killed when the orchestrator
 * exits for any reason: normal end, an error, an uncaught exception, Ctrl-C or SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

/** Kills every registered child that is still running, synchronously. */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/**
 * Registers a child so it dies with the orchestrator.
 * @param child - a started child process
 */
export function trackChild(child: ChildProcess): void {
  installExitHooks();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Installs the hooks once; the signal handlers exit with the shell's 128 + signal number. */
function installExitHooks(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllChildren);
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    process.stderr.write(`\nbench: ${signal}, stopping servers\n`);
    killAllChildren();
    process.exit(code);
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('SIGHUP', () => onSignal('SIGHUP', 129));
}
