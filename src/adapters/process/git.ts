// Evidence of work: the HEAD commit of a session's working directory, before and after.
import { execa } from 'execa';

/** The HEAD commit, '' for a repository without commits, or null when cwd is not a git repository. */
export async function gitHead(cwd: string): Promise<string | null> {
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd, reject: false, stdin: 'ignore' });
  if (inside.exitCode !== 0) return null;
  const head = await execa('git', ['rev-parse', '--verify', '-q', 'HEAD'], { cwd, reject: false, stdin: 'ignore' });
  return head.exitCode === 0 ? head.stdout.trim() : '';
}

export function workEvidence(before: string | null, after: string | null): 'yes' | 'no' | 'unknown' {
  if (before === null || after === null) return 'unknown';
  return before !== after ? 'yes' : 'no';
}
