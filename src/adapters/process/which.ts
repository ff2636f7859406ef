// Whether a command would start, asked before any session tries: found where the kernel would look
// for it (a name with a "/" from the working directory, a bare name in each directory of PATH) and
// executable. The wording is the runner's (`command not found: …`), so a warning from `validate`
// reads like the failure it foretells.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** null when `file` would start, else why not. `pathVar` is the PATH the process would get. */
export function commandProblem(file: string, cwd: string, pathVar: string | undefined): string | null {
  if (file.includes('/')) {
    const full = path.resolve(cwd, file);
    const kind = executable(full);
    return kind === 'ok' ? null : kind === 'missing' ? `command not found: ${file}` : `command not executable: ${file}`;
  }
  // An empty entry in PATH means the working directory, as it does for execvp.
  const dirs = (pathVar ?? '').split(':').map((d) => d || cwd);
  let found = false;
  for (const dir of dirs) {
    const kind = executable(path.resolve(cwd, dir, file));
    if (kind === 'ok') return null;
    if (kind === 'not executable') found = true;
  }
  return found
    ? `command not executable: ${file} (on PATH, without execute permission)`
    : `command not found: ${file} (not on PATH)`;
}

function executable(file: string): 'ok' | 'missing' | 'not executable' {
  try {
    if (!statSync(file).isFile()) return 'not executable';
  } catch {
    return 'missing';
  }
  try {
    accessSync(file, constants.X_OK);
    return 'ok';
  } catch {
    return 'not executable';
  }
}
