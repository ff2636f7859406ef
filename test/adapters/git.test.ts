// gitHead reads HEAD from the files in the common layouts (so it answers even where no git can be
// run) and agrees with git in every layout, asking git itself for the unusual ones.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { gitHead } from '../../src/adapters/process/git.js';
import { tmpDir } from '../helpers/tmp.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', '-c', 'protocol.file.allow=always', ...args],
    { cwd, encoding: 'utf8' },
  ).trim();
const commit = (cwd: string, name: string) => {
  writeFileSync(path.join(cwd, name), name);
  git(cwd, 'add', name);
  git(cwd, 'commit', '-qm', name);
  return git(cwd, 'rev-parse', 'HEAD');
};

/** gitHead with no git on PATH: only the repository's files can answer. */
async function fromFilesOnly(cwd: string): Promise<string | null> {
  const saved = process.env.PATH;
  process.env.PATH = tmpDir('lk-no-git-');
  try {
    return await gitHead(cwd);
  } finally {
    process.env.PATH = saved;
  }
}

/** What git says HEAD is ('' for an unborn branch). */
const gitSays = (cwd: string) => {
  try {
    return git(cwd, 'rev-parse', '--verify', '-q', 'HEAD');
  } catch {
    return '';
  }
};

/** Both answers: from the files alone, and with git at hand; both must be git's. */
async function expectHead(cwd: string, expected: string | null) {
  if (expected !== null) expect(gitSays(cwd)).toBe(expected);
  expect(await fromFilesOnly(cwd)).toBe(expected);
  expect(await gitHead(cwd)).toBe(expected);
}

describe('gitHead', () => {
  test('a repository: unborn branch, loose and packed refs, a subdirectory, a detached HEAD; no repository at all', async () => {
    const root = tmpDir();
    await expectHead(root, null);

    const repo = path.join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    await expectHead(repo, ''); // unborn: no commits yet

    const first = commit(repo, 'a');
    await expectHead(repo, first);
    mkdirSync(path.join(repo, 'sub', 'deeper'), { recursive: true });
    await expectHead(path.join(repo, 'sub', 'deeper'), first);

    // Packed only: pack-refs --all removes the loose file.
    git(repo, 'pack-refs', '--all');
    await expectHead(repo, first);
    // A new commit writes a loose ref that wins over the stale packed one.
    const second = commit(repo, 'b');
    await expectHead(repo, second);

    git(repo, 'checkout', '-q', '--detach', first);
    await expectHead(repo, first);
    git(repo, 'checkout', '-q', 'main');
    await expectHead(repo, second);

    // A branch switched to but never committed on (unborn, while other branches have commits).
    git(repo, 'checkout', '-q', '--orphan', 'fresh');
    await expectHead(repo, '');
    git(repo, 'checkout', '-q', '-f', 'main');
  });

  test('a linked worktree: its own HEAD, the main repository’s branches (loose and packed), detached', async () => {
    const root = tmpDir();
    const repo = path.join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    const first = commit(repo, 'a');

    const wt = path.join(root, 'wt');
    git(repo, 'worktree', 'add', '-q', '-b', 'side', wt);
    await expectHead(wt, first);
    const onSide = commit(wt, 'c');
    await expectHead(wt, onSide);
    await expectHead(repo, first); // the main worktree's HEAD is its own
    mkdirSync(path.join(wt, 'sub'));
    await expectHead(path.join(wt, 'sub'), onSide);

    git(repo, 'pack-refs', '--all');
    await expectHead(wt, onSide);

    git(wt, 'checkout', '-q', '--detach', first);
    await expectHead(wt, first);
  });

  test('a submodule: its `.git` file points into the superproject', async () => {
    const root = tmpDir();
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    git(lib, 'init', '-q', '-b', 'main');
    const libHead = commit(lib, 'l');
    const app = path.join(root, 'app');
    mkdirSync(app);
    git(app, 'init', '-q', '-b', 'main');
    commit(app, 'x');
    git(app, 'submodule', 'add', '-q', lib, 'lib');
    await expectHead(path.join(app, 'lib'), libHead);
  });

  test('what the files cannot settle is left to git: a bare repository, a cwd inside .git, GIT_DIR', async () => {
    const root = tmpDir();
    const repo = path.join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    const head = commit(repo, 'a');

    const bare = path.join(root, 'bare.git');
    git(root, 'clone', '-q', '--bare', repo, bare);
    expect(await gitHead(bare)).toBe(head);
    expect(await fromFilesOnly(bare)).toBeNull(); // no git to ask: no answer rather than a wrong one
    expect(await gitHead(path.join(repo, '.git', 'refs'))).toBe(head);

    const other = path.join(root, 'other');
    mkdirSync(other);
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = path.join(repo, '.git');
    try {
      expect(await gitHead(other)).toBe(head); // git follows GIT_DIR, so must gitHead
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
    expect(await gitHead(other)).toBeNull();
  });
});
