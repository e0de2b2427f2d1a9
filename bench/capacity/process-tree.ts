/**
 * Resident memory of a process and all its descendants, read from /proc (Linux): the server's
 * cost with `--workers` is the primary plus every worker.
 */
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Lists a process and its descendants.
 * @param root - the top process id
 * @returns the ids, root first
 */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // Field 4 is the parent id; the command (field 2) may hold spaces, so read after its ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = Number(fields[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(name));
      children.set(parent, list);
    } catch {
      // The process ended while the list was read.
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    out.push(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(root);
  return out;
}

/**
 * Sums VmRSS over a process tree.
 * @param root - the top process id
 * @returns bytes resident, and how many processes were counted
 */
export function treeRss(root: number): { bytes: number; processes: number } {
  let bytes = 0;
  let processes = 0;
  for (const pid of processTree(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      if (kb !== undefined) {
        bytes += Number(kb) * 1024;
        processes++;
      }
    } catch {
      // Gone.
    }
  }
  return { bytes, processes };
}
