// Holds a file with flock(2), non-blocking, the way legacy shell loops do (`flock -n FILE …`), so
// such a loop and lanekeeper never run the same lane at once. Node has no flock, so the util-linux
// `flock` command holds it: `flock --nonblock FILE sh -c 'echo locked; exec cat'`, with cat reading
// a pipe from this process. The command runs only once flock holds the lock, so its "locked" line
// is the sign (flock's own --verbose lines go to its buffered stdout and show only at exit).
// Releasing closes the pipe; if lanekeeper dies, even by SIGKILL, the pipe closes with it and the
// lock is freed — no lock outlives its holder.
import { execa } from 'execa';

/** `busy`: another process holds the lock (as opposed to flock failing or missing). */
export type FlockHold = { ok: true; release(): Promise<void> } | { ok: false; reason: string; busy?: boolean };

export interface FlockOptions {
  /**
   * The hold does not keep Node's event loop alive: for a lock held as long as the process lives
   * (the instance lock), so a process that ends on an error path is not kept waiting by it.
   */
  unref?: boolean;
}

const CONFLICT = 75;

export async function holdFlock(file: string, timeoutMs = 5000, opts: FlockOptions = {}): Promise<FlockHold> {
  const child = execa(
    'flock',
    ['--nonblock', '--conflict-exit-code', String(CONFLICT), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'],
    {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      buffer: false,
    },
  );
  let said = '';
  let text = '';
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const acquired = new Promise<boolean>((resolve) => {
    child.stdout?.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('locked')) resolve(true);
    });
    void child.then(() => resolve(false));
  });
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  const got = await Promise.race([acquired, timer]);
  if (got === true) {
    if (opts.unref) {
      child.unref();
      for (const pipe of [child.stdin, child.stdout, child.stderr]) (pipe as { unref?: () => void } | null)?.unref?.();
    }
    return {
      ok: true,
      release: async () => {
        // Waiting for flock to exit must keep the process alive (an unsettled top-level await would end it).
        if (opts.unref) child.ref();
        child.stdin?.end();
        await child;
      },
    };
  }
  child.kill('SIGKILL');
  const r = await child;
  if (got === 'timeout') return { ok: false, reason: `flock on ${file} did not answer within ${timeoutMs} ms` };
  if (r.exitCode === CONFLICT)
    return { ok: false, reason: `lock_file ${file} is held by another process (flock)`, busy: true };
  if ((r as { code?: string }).code === 'ENOENT')
    return { ok: false, reason: 'the flock command (util-linux) is not installed; lock_file needs it' };
  return { ok: false, reason: `flock on ${file} failed (exit ${r.exitCode}): ${text.trim().split('\n').pop() ?? ''}` };
}
