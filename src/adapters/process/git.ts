// Evidence of work: the HEAD commit of a session's working directory, before and after.
//
// Read from the repository's files when it has the common layout (a `.git` directory with loose or
// packed refs): spawning git twice per session cost tens of milliseconds on the path from a tick to
// its sessions. Anything else (a `.git` file of a worktree or submodule, the reftable format, an
// unreadable file) asks git itself, so the answer is always git's.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** The HEAD commit, '' for a repository without commits, or null when cwd is not a git repository. */
export async function gitHead(cwd: string): Promise<string | null> {
  const fast = await headFromFiles(cwd).catch(() => undefined);
  return fast !== undefined ? fast : headFromGit(cwd);
}

async function headFromGit(cwd: string): Promise<string | null> {
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd, reject: false, stdin: 'ignore' });
  if (inside.exitCode !== 0) return null;
  const head = await execa('git', ['rev-parse', '--verify', '-q', 'HEAD'], { cwd, reject: false, stdin: 'ignore' });
  return head.exitCode === 0 ? head.stdout.trim() : '';
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** HEAD from the files, or undefined when the layout is not the plain one (git decides then). */
async function headFromFiles(cwd: string): Promise<string | null | undefined> {
  let dir = path.resolve(cwd);
  for (;;) {
    const dotGit = path.join(dir, '.git');
    const s = await stat(dotGit).catch(() => null);
    if (s?.isDirectory()) return readHead(dotGit);
    if (s) return undefined; // a .git file: a worktree or submodule
    const parent = path.dirname(dir);
    // No repository up to the root; git may still know one through GIT_DIR or the like.
    if (parent === dir) return process.env.GIT_DIR ? undefined : null;
    dir = parent;
  }
}

async function readHead(gitDir: string): Promise<string | undefined> {
  if (await stat(path.join(gitDir, 'reftable')).catch(() => null)) return undefined;
  const head = (await readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim();
  if (SHA.test(head)) return head; // detached
  if (!head.startsWith('ref: ')) return undefined;
  const ref = head.slice(5).trim();
  const loose = await readFile(path.join(gitDir, ref), 'utf8').catch(() => null);
  if (loose !== null) return SHA.test(loose.trim()) ? loose.trim() : undefined;
  const packed = await readFile(path.join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
  for (const line of packed.split('\n')) {
    const [sha, name] = line.trim().split(' ');
    if (name === ref && sha && SHA.test(sha)) return sha;
  }
  return ''; // an unborn branch: no commits yet
}

export function workEvidence(before: string | null, after: string | null): 'yes' | 'no' | 'unknown' {
  if (before === null || after === null) return 'unknown';
  return before !== after ? 'yes' : 'no';
}
