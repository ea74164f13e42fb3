#!/usr/bin/env node
// Build step: put xterm.js (and its fit addon and stylesheet) from
// node_modules into the portal's assets, since the portal loads nothing
// from a CDN.
//   node portal/web/vendor.mjs [--modules DIR] [--out DIR] [--stamp FILE]
// --modules: the node_modules holding @xterm (default: portal/node_modules).
// --out: a whole assets tree to make (index.html, js/, css/, vendor/) for
//   `assets` in the build dir; without it only portal/web/vendor/ is filled
//   (the source tree then serves as the assets, for development).
// --stamp: a file written last, for a build system's output.
import { cpSync, mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = { modules: join(web, '..', 'node_modules'), out: null, stamp: null };
for (let i = 0; i < args.length; i += 2) {
  const key = args[i].replace(/^--/, '');
  if (!(key in opt) || args[i + 1] === undefined) {
    console.error(`vendor.mjs: unknown or incomplete option "${args[i]}" (--modules DIR, --out DIR, --stamp FILE)`);
    process.exit(2);
  }
  opt[key] = resolve(args[i + 1]);
}

// What xterm needs in the browser: [package file, name in vendor/].
const files = [
  ['@xterm/xterm/lib/xterm.js', 'xterm.js'],
  ['@xterm/xterm/css/xterm.css', 'xterm.css'],
  ['@xterm/addon-fit/lib/addon-fit.js', 'addon-fit.js'],
  ['@xterm/xterm/LICENSE', 'LICENSE.xterm'],
];

for (const [from] of files) {
  if (!existsSync(join(opt.modules, from))) {
    console.error(`vendor.mjs: ${join(opt.modules, from)} is missing (run "npm ci" in portal/ first)`);
    process.exit(1);
  }
}
const root = opt.out ?? web;
if (opt.out) {
  rmSync(opt.out, { recursive: true, force: true });
  for (const part of ['index.html', 'js', 'css'])
    cpSync(join(web, part), join(opt.out, part), { recursive: true });
}
const vendor = join(root, 'vendor');
mkdirSync(vendor, { recursive: true });
for (const [from, to] of files)
  writeFileSync(join(vendor, to), readFileSync(join(opt.modules, from)));
if (opt.stamp)
  writeFileSync(opt.stamp, files.map(([, to]) => to).join('\n') + '\n');
