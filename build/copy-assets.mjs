// Copies the front-end packages the portal serves from node_modules into wwwroot/lib (git-ignored).
// Run by the web project's build when wwwroot/lib is missing; `npm ci` restores node_modules first.
import { cpSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'wwwroot', 'lib');

const files = [
  ['bootstrap/dist/css/bootstrap.min.css', 'bootstrap/css/bootstrap.min.css'],
  ['bootstrap/dist/js/bootstrap.bundle.min.js', 'bootstrap/js/bootstrap.bundle.min.js'],
  ['bootstrap-icons/font/bootstrap-icons.min.css', 'bootstrap-icons/font/bootstrap-icons.min.css'],
  ['bootstrap-icons/font/fonts', 'bootstrap-icons/font/fonts'],
  ['htmx.org/dist/htmx.min.js', 'htmx/htmx.min.js'],
  ['htmx-ext-sse/dist/sse.min.js', 'htmx/ext/sse.min.js'],
];

for (const [from, to] of files) {
  const source = join(root, 'node_modules', from);
  if (!existsSync(source)) {
    console.error(`copy-assets: ${from} is missing; run 'npm ci' at the repository root.`);
    process.exit(1);
  }
  mkdirSync(dirname(join(lib, to)), { recursive: true });
  cpSync(source, join(lib, to), { recursive: true });
}

writeFileSync(join(lib, '.restored'), new Date().toISOString() + '\n');
console.log(`copy-assets: ${files.length} entries copied to wwwroot/lib`);
