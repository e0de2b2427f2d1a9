/**
 * Reads a process's CPU time from outside, through /proc/PID/stat (Linux). Used when a server is
 * too busy to answer its IPC 'stats' in time (a 1,000-client broadcast burst keeps its event loop
 * occupied for seconds): the kernel's account is the same user + system time `process.cpuUsage()`
 * reports, at clock-tick resolution.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(result.stdout.trim());
    ticksPerSecond = result.status === 0 && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/**
 * User + system CPU seconds of a process, or undefined where /proc is not available.
 * @param pid - the process
 * @returns seconds
 */
export function procCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name (0-based).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / clockTicks();
}
