import { clearLine, cursorTo } from 'node:readline';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

/** A stream a terminal may sit behind: process.stderr, or a test's stand-in with `isTTY` and `columns`. */
export type TerminalStream = Writable & { isTTY?: boolean; columns?: number };

/** A progress bar; both calls do nothing when the stream is not a terminal. */
export interface ProgressBar {
  increment(n?: number): void;
  stop(): void;
}

/**
 * The one writer of a stream that a progress bar and log lines share. A bar
 * owns the line the cursor is on, so a log line first clears that line, then
 * takes it, and the bar is drawn again below it: the two never share a line.
 */
export interface TerminalOut {
  readonly isTTY: boolean;
  /** Writes whole lines (no trailing newline needed) above the bar, if one is showing. */
  writeLines(text: string): void;
  /** A progress bar on this stream when it is a terminal; silent otherwise (pipes, CI, --json). */
  bar(label: string, total: number): ProgressBar;
}

/** A TerminalOut over `stream`. */
export function createTerminalOut(stream: TerminalStream): TerminalOut {
  let active: cliProgress.SingleBar | null = null;
  const isTTY = Boolean(stream.isTTY);
  return {
    isTTY,
    writeLines(text) {
      if (!active) return void stream.write(`${text}\n`);
      cursorTo(stream, 0);
      clearLine(stream, 0);
      stream.write(`${text}\n`);
      active.render(); // forceRedraw: drawn again even though its text has not changed
    },
    bar(label, total) {
      if (!isTTY || total === 0) return { increment: () => {}, stop: () => {} };
      const bar = new cliProgress.SingleBar(
        { format: `${label} [{bar}] {value}/{total} {percentage}% · eta {eta_formatted}`, stream, hideCursor: true, forceRedraw: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      active = bar;
      return {
        increment: (n = 1) => bar.increment(n),
        stop: () => {
          bar.stop();
          if (active === bar) active = null;
        },
      };
    },
  };
}

// A process has one stderr, so one writer for it: the CLI's bars and every
// logger writing to stderr (the digest worker's, via the main thread) share it.
let stderr: TerminalOut | null = null;

/** The TerminalOut over this process's stderr. */
export function stderrOut(): TerminalOut {
  stderr ??= createTerminalOut(process.stderr);
  return stderr;
}

/** A progress bar on stderr when it is a terminal; silent otherwise (pipes, CI, --json). */
export function progressBar(label: string, total: number): ProgressBar {
  return stderrOut().bar(label, total);
}
