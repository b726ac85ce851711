// A child process that accepts SMTP mail as fast as it can and throws it away,
// so the benchmark measures the sender, not the receiver. Prints its port on
// stdout, then answers "count" messages on IPC with the number received.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

let received = 0;
const server = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  logger: false,
  maxClients: 100,
  disableReverseLookup: true,
  onData(stream, _session, cb) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      received++;
      cb();
    });
  },
});
// Answer at once: without TCP_NODELAY each SMTP reply waits on Nagle's algorithm.
// A client hanging up mid-session is normal here.
server.on('error', () => undefined);
server.server.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay(true));
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.server.address() as AddressInfo).port });
});
process.on('message', (m) => {
  if (m === 'count') process.send?.({ received });
  if (m === 'stop') server.close(() => process.exit(0));
});
// The benchmark died (out of memory, Ctrl-C): do not linger.
process.on('disconnect', () => process.exit(0));
