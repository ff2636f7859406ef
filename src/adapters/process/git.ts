// Evidence of work: the HEAD commit of a session's working directory, before and after.
//
// Read from the repository's files in the common layouts: a `.git` directory, or a `.git` file
// pointing at one (a linked worktree, whose branches live in the main repository, or a
// submodule), with loose or packed refs. Spawning git twice per session cost tens of
// milliseconds on the path from a tick to its sessions. The files are read synchronously: a stat
// or a read of a small local file takes microseconds, while each asynchronous one is a round trip
// through the thread pool and the event loop, and a session outside any repository makes nine
// (three per directory up to the root) before its agent can start: measured, the first of a
// tick's six sessions started 20 ms later that way, and the sixth no sooner.
//
// Anything else asks git itself, so the answer is always git's: the reftable format, a symbolic
// ref to a symbolic ref, a repository owned by another user (git refuses it), a `.git` beyond a
// file-system boundary, GIT_DIR and the like in the environment, a bare repository or a cwd
// inside a git directory.
import { readFileSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** The HEAD commit, '' for a repository without commits, or null when cwd is not a git repository. */
export async function gitHead(cwd: string): Promise<string | null> {
  let fast: string | null | undefined;
  try {
    fast = headFromFiles(cwd);
  } catch {
    fast = undefined;
  }
  return fast !== undefined ? fast : headFromGit(cwd);
}

async function headFromGit(cwd: string): Promise<string | null> {
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd, reject: false, stdin: 'ignore' });
  if (inside.exitCode !== 0) return null;
  const head = await execa('git', ['rev-parse', '--verify', '-q', 'HEAD'], { cwd, reject: false, stdin: 'ignore' });
  return head.exitCode === 0 ? head.stdout.trim() : '';
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** Variables that change where git looks for the repository. */
const GIT_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CEILING_DIRECTORIES', 'GIT_OBJECT_DIRECTORY'];
/** Refs kept per worktree (in its own git directory); every other ref lives in the common one. */
const PER_WORKTREE = /^refs\/(bisect|worktree|rewritten)\//;

const statOrNull = (p: string): Stats | null => statSync(p, { throwIfNoEntry: false }) ?? null;

/** HEAD from the files, or undefined when the layout is not one of the plain ones (git decides then). */
function headFromFiles(cwd: string): string | null | undefined {
  if (GIT_ENV.some((v) => process.env[v])) return undefined;
  // Run as root through sudo, git judges ownership against SUDO_UID.
  if (process.getuid?.() === 0 && process.env.SUDO_UID) return undefined;
  let dir = path.resolve(cwd);
  const start = statOrNull(dir);
  if (!start) return undefined; // git says why
  let here = start;
  for (;;) {
    const dotGit = path.join(dir, '.git');
    const s = statOrNull(dotGit);
    if (s) {
      // git stops at a file-system boundary unless told otherwise, and refuses a repository
      // someone else owns ("dubious ownership"): its call.
      if (here.dev !== start.dev || !ours(here) || !ours(s)) return undefined;
      if (s.isDirectory()) return readHead(dotGit, dotGit);
      if (!s.isFile()) return undefined;
      const gitDir = gitDirOf(dotGit);
      const g = gitDir ? statOrNull(gitDir) : null;
      if (!gitDir || !g || !ours(g)) return undefined;
      // A linked worktree names the main repository's git directory; a submodule has none.
      const common = readFileOrNull(path.join(gitDir, 'commondir'));
      return readHead(gitDir, common === null ? gitDir : path.resolve(gitDir, common.trim()));
    }
    // A git directory itself (a bare repository, or a cwd inside `.git`): git's discovery stops here.
    if (statOrNull(path.join(dir, 'HEAD'))?.isFile() && statOrNull(path.join(dir, 'objects'))?.isDirectory())
      return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return null; // no repository up to the root
    const p = statOrNull(parent);
    if (!p) return undefined;
    dir = parent;
    here = p;
  }
}

const ours = (s: Stats) => !process.getuid || s.uid === process.getuid();

/** The git directory a `.git` file points at ("gitdir: <path>", relative to the file's directory). */
function gitDirOf(dotGitFile: string): string | undefined {
  const m = /^gitdir: (.+)$/m.exec(readFileSync(dotGitFile, 'utf8'));
  return m ? path.resolve(path.dirname(dotGitFile), m[1]!.trim()) : undefined;
}

/**
 * HEAD of a git directory whose shared refs live in `commonDir` (itself for a main repository or
 * a submodule, the main repository's for a linked worktree).
 */
function readHead(gitDir: string, commonDir: string): string | undefined {
  if (statOrNull(path.join(commonDir, 'reftable'))) return undefined;
  const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
  if (SHA.test(head)) return head; // detached
  if (!head.startsWith('ref: ')) return undefined;
  const ref = head.slice(5).trim();
  if (!ref.startsWith('refs/') || ref.includes('..')) return undefined;
  const refsDir = PER_WORKTREE.test(ref) ? gitDir : commonDir;
  const loose = readFileOrNull(path.join(refsDir, ref));
  if (loose !== null) return SHA.test(loose.trim()) ? loose.trim() : undefined;
  const packed = readFileOrNull(path.join(refsDir, 'packed-refs')) ?? '';
  for (const line of packed.split('\n')) {
    const [sha, name] = line.trim().split(' ');
    if (name === ref && sha && SHA.test(sha)) return sha;
  }
  return ''; // an unborn branch: no commits yet
}

/** A file's text, or null when it does not exist (other errors throw: git decides then). */
function readFileOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function workEvidence(before: string | null, after: string | null): 'yes' | 'no' | 'unknown' {
  if (before === null || after === null) return 'unknown';
  return before !== after ? 'yes' : 'no';
}
