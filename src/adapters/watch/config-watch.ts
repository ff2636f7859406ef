// Watches the configuration file so an edit reloads it, as SIGHUP does. Editors save in place or
// write a temporary file and rename it over the original, so the directory is watched and events
// for the file's name are taken, whatever their kind; a burst of them (a save in several writes)
// becomes one reload once the file has been quiet for settleMs.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface ConfigWatch {
  /** Resolves once the watcher sees changes (an edit before then is missed). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchConfigFile(
  file: string,
  onChange: () => void,
  opts: { settleMs?: number; onError?: (err: Error) => void } = {},
): ConfigWatch {
  const target = path.resolve(file);
  const settleMs = opts.settleMs ?? 300;
  let timer: NodeJS.Timeout | null = null;
  const watcher: FSWatcher = watch(path.dirname(target), {
    ignoreInitial: true,
    depth: 0,
    ignored: (p: string) => p !== path.dirname(target) && path.resolve(p) !== target,
  });
  watcher.on('all', (_event, p) => {
    if (path.resolve(p) !== target) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, settleMs);
  });
  watcher.on('error', (err) => opts.onError?.(err instanceof Error ? err : new Error(String(err))));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
