import { promises as fs } from 'node:fs';
import { ifPresent, listDir, readTextIfPresent } from './absent.js';

/*
 * Who listens on a local TCP port, read from /proc: the listeners (/proc/net/tcp{,6}), the
 * process holding a socket, its environment and mount namespace. Effects only: what a listener
 * means for a compile server is host/sccache.ts's to decide.
 */

export interface Listener {
  port: number;
  uid: number;
  inode: number;
}

/** Pure: the TCP listeners on 127.0.0.1 (or any address) in /proc/net/tcp's format. */
export function parseListeners(procNetTcp: string): Listener[] {
  const out: Listener[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
    const [addr, port] = f[1].split(':');
    if (addr !== '0100007F' && addr !== '00000000') continue;
    out.push({ port: parseInt(port, 16), uid: Number(f[7]), inode: Number(f[9]) });
  }
  return out;
}

/** Other processes' entries in /proc: gone (ENOENT, ESRCH) or another uid's (EACCES) is the normal case there. */
const PROCESSES = { alsoAbsent: ['ESRCH', 'EACCES'] };

/** The TCP listeners on 127.0.0.1 or any address, v4 and v6, in this network namespace. */
export async function tcpListeners(): Promise<Listener[]> {
  const [v4, v6] = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map(async (f) => (await readTextIfPresent(f)) ?? ''));
  // tcp6 addresses are longer; only ::ffff:127.0.0.1 and :: could matter, and sccache 0.4 binds v4.
  return [...parseListeners(v4), ...parseListeners(v6.replace(/ 0{24}0100007F:/g, ' 0100007F:').replace(/ 0{32}:/g, ' 00000000:'))];
}

/**
 * The process holding a socket inode: `hint` (a pid seen before) first, then only processes
 * whose command is `comm`, which keeps the scan of /proc cheap.
 */
export async function socketOwner(inode: number, comm: string, hint?: number): Promise<number | undefined> {
  const want = `socket:[${inode}]`;
  const holds = async (p: string) => {
    for (const fd of await listDir(`/proc/${p}/fd`, PROCESSES)) {
      if ((await ifPresent(`/proc/${p}/fd/${fd}`, () => fs.readlink(`/proc/${p}/fd/${fd}`), PROCESSES)) === want) return true;
    }
    return false;
  };
  if (hint && (await holds(String(hint)))) return hint;
  for (const p of await listDir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const name = await readTextIfPresent(`/proc/${p}/comm`, PROCESSES);
    if (name?.trim() === comm && (await holds(p))) return Number(p);
  }
  return undefined;
}

/** A process's environment (/proc/<pid>/environ); undefined when it is gone or not ours to read. */
export async function environOf(pid: number): Promise<Record<string, string> | undefined> {
  const raw = await readTextIfPresent(`/proc/${pid}/environ`, PROCESSES);
  if (raw === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const kv of raw.split('\0')) if (kv.includes('=')) out[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  return out;
}

/** Whether `pid` sees the same files as this process (the same mount namespace). */
export async function sameMountNamespace(pid: number): Promise<boolean> {
  const ns = (p: string) => ifPresent(`/proc/${p}/ns/mnt`, () => fs.readlink(`/proc/${p}/ns/mnt`), PROCESSES);
  const [theirs, ours] = await Promise.all([ns(String(pid)), ns('self')]);
  return theirs !== undefined && theirs === ours;
}
