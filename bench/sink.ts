import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starts the SMTP sink in its own process (so it does not compete for our event loop). */
export async function startSink(): Promise<{ url: string; child: ChildProcess; count: () => Promise<number>; stop: () => void }> {
  const child = fork(fileURLToPath(new URL('./smtp-sink.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    url: `smtp://127.0.0.1:${port}`,
    child,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (m: { received: number }) => resolve(m.received));
        child.send('count');
      }),
    stop: () => child.send('stop'),
  };
}

