// gitHead reads HEAD from the files for plain repositories and agrees with git in every layout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { gitHead } from '../../src/adapters/process/git.js';
import { tmpDir } from '../helpers/tmp.js';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], { cwd, encoding: 'utf8' }).trim();
const commit = (cwd: string, name: string) => {
  writeFileSync(path.join(cwd, name), name);
  git(cwd, 'add', name);
  git(cwd, 'commit', '-qm', name);
  return git(cwd, 'rev-parse', 'HEAD');
};

describe('gitHead', () => {
  test('agrees with git: no repository, no commits, loose and packed refs, detached, a subdirectory, a worktree', async () => {
    const root = tmpDir();
    expect(await gitHead(root)).toBeNull();

    const repo = path.join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    expect(await gitHead(repo)).toBe('');

    const first = commit(repo, 'a');
    expect(await gitHead(repo)).toBe(first);
    mkdirSync(path.join(repo, 'sub'));
    expect(await gitHead(path.join(repo, 'sub'))).toBe(first);

    git(repo, 'pack-refs', '--all');
    expect(await gitHead(repo)).toBe(first);
    const second = commit(repo, 'b');
    expect(await gitHead(repo)).toBe(second);

    git(repo, 'checkout', '-q', first);
    expect(await gitHead(repo)).toBe(first);
    git(repo, 'checkout', '-q', 'main');

    const wt = path.join(root, 'wt');
    git(repo, 'worktree', 'add', '-q', '-b', 'side', wt);
    expect(await gitHead(wt)).toBe(second);
  });
});
