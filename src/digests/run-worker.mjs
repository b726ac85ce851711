// Entry of the digest-run worker thread: TypeScript sources run through tsx
// here as in bin/paperboy.js, whatever started the main thread.
import { register } from 'tsx/esm/api';

register();
await import('./run-worker-main.ts');
