// Compiles MJML templates in a worker thread. MJML and its dependencies take
// ~55 MB of memory once loaded; loaded here, they go away with the worker
// instead of staying in the process that sends 100,000 digests.
// Plain JavaScript so it runs the same under node, tsx and vitest.
import { parentPort, workerData } from 'node:worker_threads';
import mjml2html from 'mjml';

const { dir, files } = workerData;
const out = [];
for (const file of files) {
  const result = await mjml2html(file.source, {
    filePath: dir + file.name,
    // MJML 5 ignores mj-include unless asked; only the templates folder may be included.
    ignoreIncludes: false,
    includePath: dir,
    validationLevel: 'strict',
    minify: false,
    // No web fonts: MJML otherwise links Google Fonts for any stack naming
    // Roboto, Open Sans…, and every open tells Google the reader's IP address.
    fonts: {},
  });
  out.push(result.html);
}
parentPort.postMessage(out);
