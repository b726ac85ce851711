import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

// A minimal IMAP4rev1 server for tests (RFC 3501), on 127.0.0.1 at a port chosen
// at run time: just the commands imapflow sends to read a mailbox and mark
// messages \Seen (CAPABILITY, LOGIN, NAMESPACE, SELECT/EXAMINE, UID SEARCH,
// UID FETCH, UID STORE, NOOP, CLOSE/UNSELECT, LOGOUT). No npm IMAP server
// works without a database behind it (wildduck needs MongoDB) or is kept up
// (hoodiecrow). Anything else gets BAD, so a client that needs more fails the
// test instead of being humoured. Every command line is recorded.

/** One stored message. */
export interface StoredMessage {
  uid: number;
  flags: Set<string>;
  raw: Buffer;
}

/** Starts the server with `messages` in INBOX; only `user`/`pass` may log in. */
export async function startImapServer(options: { user: string; pass: string; messages: Buffer[] }) {
  const inbox: StoredMessage[] = options.messages.map((raw, i) => ({ uid: i + 1, flags: new Set(), raw }));
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    let state: 'greeted' | 'auth' | 'selected' = 'greeted';
    let readOnly = false;
    const send = (line: string | Buffer): void => void socket.write(line);
    send('* OK [CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS] paperboy test IMAP ready\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let at: number;
      while ((at = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        commands.push(line.replace(/^(\S+ LOGIN) .*/i, '$1 ***'));
        handle(line);
      }
    });

    const seq = (m: StoredMessage) => inbox.indexOf(m) + 1;
    /** A UID set like 3, 1:4, 2,5:*. */
    const byUidSet = (set: string) => {
      const max = inbox.at(-1)?.uid ?? 0;
      const uids = new Set<number>();
      for (const range of set.split(',')) {
        const [a, b = a] = range.split(':').map((v) => (v === '*' ? max : Number(v)));
        for (let u = Math.min(a!, b!); u <= Math.max(a!, b!); u++) uids.add(u);
      }
      return inbox.filter((m) => uids.has(m.uid));
    };
    const flagList = (m: StoredMessage) => `(${[...m.flags].join(' ')})`;

    function handle(line: string): void {
      const m = /^(\S+) (?:(UID) )?(\S+)(?: (.*))?$/i.exec(line);
      if (!m) return void send(`* BAD unreadable command\r\n`);
      const [, tag, uid, name, args = ''] = m;
      const command = `${uid ? 'UID ' : ''}${name!.toUpperCase()}`;
      const ok = (text = `${command} completed`): void => send(`${tag} OK ${text}\r\n`);
      const bad = (text: string): void => send(`${tag} BAD ${text}\r\n`);
      switch (command) {
        case 'CAPABILITY':
          send('* CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS\r\n');
          return ok();
        case 'NOOP':
          return ok();
        case 'LOGOUT':
          send('* BYE logging out\r\n');
          ok();
          return void socket.end();
        case 'LOGIN': {
          const [user, pass] = [...args.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((x) => (x[1] ?? x[2])!.replace(/\\(.)/g, '$1'));
          if (user !== options.user || pass !== options.pass) return void send(`${tag} NO [AUTHENTICATIONFAILED] invalid credentials\r\n`);
          state = 'auth';
          return ok('[CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS] logged in');
        }
      }
      if (state === 'greeted') return bad('log in first');
      switch (command) {
        case 'NAMESPACE':
          send('* NAMESPACE (("" "/")) NIL NIL\r\n');
          return ok();
        case 'LIST':
        case 'LSUB': {
          // One mailbox, INBOX; LIST "" "" asks for the hierarchy delimiter.
          const pattern = args.replace(/^"[^"]*" /, '').replace(/"/g, '').toUpperCase();
          if (pattern === '') send('* LIST (\\Noselect) "/" ""\r\n');
          else if (['INBOX', '*', '%'].includes(pattern)) send('* LIST (\\HasNoChildren) "/" INBOX\r\n');
          return ok();
        }
        case 'SELECT':
        case 'EXAMINE': {
          if (args.replace(/"/g, '').toUpperCase() !== 'INBOX') return void send(`${tag} NO [NONEXISTENT] no such mailbox\r\n`);
          state = 'selected';
          readOnly = command === 'EXAMINE';
          send(`* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n* OK [PERMANENTFLAGS (\\Seen \\Deleted)] ok\r\n* ${inbox.length} EXISTS\r\n* 0 RECENT\r\n`);
          send(`* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT ${(inbox.at(-1)?.uid ?? 0) + 1}] ok\r\n`);
          return ok(`[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${command} completed`);
        }
        case 'CLOSE':
        case 'UNSELECT':
          state = 'auth';
          return ok();
      }
      if (state !== 'selected') return bad('select a mailbox first');
      switch (command) {
        case 'UID SEARCH': {
          const criteria = args.toUpperCase().trim();
          let found: StoredMessage[];
          if (criteria === 'UNSEEN' || criteria === 'NOT SEEN') found = inbox.filter((x) => !x.flags.has('\\Seen'));
          else if (criteria === 'ALL') found = inbox;
          else return bad(`search criteria not supported here: ${criteria}`);
          send(`* SEARCH${found.map((x) => ` ${x.uid}`).join('')}\r\n`);
          return ok();
        }
        case 'UID FETCH': {
          const f = /^(\S+) \((.*)\)$/.exec(args) ?? /^(\S+) (.*)$/.exec(args);
          if (!f) return bad('fetch what?');
          const items = f[2]!.toUpperCase();
          for (const msg of byUidSet(f[1]!)) {
            const parts: (string | Buffer)[] = [`* ${seq(msg)} FETCH (UID ${msg.uid}`];
            if (items.includes('FLAGS')) parts.push(` FLAGS ${flagList(msg)}`);
            if (items.includes('RFC822.SIZE')) parts.push(` RFC822.SIZE ${msg.raw.length}`);
            const body = /BODY(\.PEEK)?\[\](?:<(\d+)\.(\d+)>)?/.exec(items);
            if (body) {
              const start = Number(body[2] ?? 0);
              const bytes = msg.raw.subarray(start, body[3] ? start + Number(body[3]) : undefined);
              parts.push(` BODY[]${body[2] ? `<${start}>` : ''} {${bytes.length}}\r\n`, bytes);
              if (!body[1]) msg.flags.add('\\Seen');
            }
            parts.push(')\r\n');
            send(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))));
          }
          return ok();
        }
        case 'UID STORE': {
          const s = /^(\S+) ([+-]?)FLAGS(\.SILENT)? \(?([^)]*)\)?$/i.exec(args);
          if (!s) return bad('store what?');
          if (readOnly) return void send(`${tag} NO mailbox is read-only\r\n`);
          const flags = s[4]!.split(/\s+/).filter(Boolean);
          for (const msg of byUidSet(s[1]!)) {
            if (s[2] === '+') flags.forEach((x) => msg.flags.add(x));
            else if (s[2] === '-') flags.forEach((x) => msg.flags.delete(x));
            else msg.flags = new Set(flags);
            if (!s[3]) send(`* ${seq(msg)} FETCH (UID ${msg.uid} FLAGS ${flagList(msg)})\r\n`);
          }
          return ok();
        }
      }
      return bad(`${command} is not implemented by this test server`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (user = options.user, pass = options.pass) => `imap://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}/INBOX`,
    inbox,
    commands,
    /** Delivers one more message to INBOX, unseen. */
    add: (raw: Buffer) => void inbox.push({ uid: (inbox.at(-1)?.uid ?? 0) + 1, flags: new Set(), raw }),
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
