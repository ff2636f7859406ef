// Runs the real `systemd-analyze verify --user` on unit files and returns what it said about them.
// The user manager it simulates needs XDG_RUNTIME_DIR, which a test machine may not have, so it gets a
// temporary one. Only lines naming one of the files (by path or unit name) count: anything else is
// the host's own noise, not a problem of ours.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { tmpDir } from './tmp.js';

export const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

/** The lines systemd-analyze printed about these files (empty: they verify cleanly). */
export function verifyUnits(files: readonly string[], env: Record<string, string> = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      SYSTEMD_ANALYZE,
      ['verify', '--user', '--man=no', ...files],
      { env: { ...process.env, XDG_RUNTIME_DIR: tmpDir('lk-runtime-'), ...env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        const names = files.flatMap((f) => [f, path.basename(f)]);
        resolve(
          `${stdout}\n${stderr}`
            .split('\n')
            .filter((line) => line.trim() !== '' && names.some((n) => line.includes(n))),
        );
      },
    );
  });
}
