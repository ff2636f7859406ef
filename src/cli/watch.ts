// Redraws a command's view every interval until Ctrl-C (or SIGTERM), which ends it cleanly with
// exit 0. On a terminal each frame is drawn in place (cursor home, each line cleared to its end,
// the rest of the screen cleared), so the view does not flicker; into a pipe or a file the frames
// follow one another, with a separator line between them when one is given.

export interface WatchOptions {
  intervalMs: number;
  /** Printed on a line of its own between frames when not on a terminal; null: nothing. */
  separator: string | null;
  stream?: NodeJS.WriteStream;
}

const HOME = '\x1b[H';
const CLEAR_SCREEN = '\x1b[2J';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

export async function watch(frame: () => Promise<string>, opts: WatchOptions): Promise<void> {
  const stream = opts.stream ?? process.stdout;
  const tty = stream.isTTY === true;
  let stopped = false;
  let wake = () => {};
  const stop = () => {
    stopped = true;
    wake();
  };
  // A reader that went away (`| head`) ends the watch like Ctrl-C, not with a stack trace.
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  stream.on('error', onError);
  try {
    for (let n = 0; !stopped; n++) {
      const text = await frame();
      if (stopped) break;
      if (tty)
        stream.write(
          `${n === 0 ? CLEAR_SCREEN : ''}${HOME}${text.split('\n').join(`${CLEAR_LINE_END}\n`)}${CLEAR_LINE_END}\n${CLEAR_BELOW}`,
        );
      else stream.write(`${n > 0 && opts.separator !== null ? `${opts.separator}\n` : ''}${text}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stream.off('error', onError);
  }
}
