#!/usr/bin/env node
'use strict'
// Before `npm pack` / `npm publish`: copies the Rust sources the addon is built from into
// `native/` (a workspace of just these crates, with the repository's lock file and linker
// configuration), so a tarball installs on a platform without a prebuilt addon. Run from the
// repository checkout; the copy is removed again after packing (scripts/pack-clean.js).

const fs = require('node:fs')
const path = require('node:path')
const addon = require('./addon')

const repo = path.join(addon.root, '..')
const native = path.join(addon.root, 'native')
const crates = ['kpi-formula', 'kpi-catalog', 'kpi-core', 'kpi-pricing', 'workspace-hack']

if (!fs.existsSync(path.join(repo, 'Cargo.toml')) || !fs.existsSync(path.join(repo, 'kpi-core'))) {
  console.error('kpi-engine: pack from the repository checkout (the Rust sources are in the folders around this one)')
  process.exit(1)
}

fs.rmSync(native, { recursive: true, force: true })
fs.mkdirSync(native)
const copy = (from, to) => fs.cpSync(path.join(repo, from), path.join(native, to ?? from), { recursive: true, dereference: true })
for (const crate of crates) {
  copy(crate)
  // Tests and benches are not needed to build, and some are large.
  for (const dir of ['tests', 'benches']) fs.rmSync(path.join(native, crate, dir), { recursive: true, force: true })
}
fs.mkdirSync(path.join(native, 'bindings-node'))
for (const item of ['Cargo.toml', 'build.rs', 'src']) copy(path.join('bindings-node', item))
copy('Cargo.lock')
copy('LICENSE')
copy('.cargo')
copy(path.join('scripts', 'linker'))

// The repository's workspace manifest, with only the copied crates as members.
const workspace = fs.readFileSync(path.join(repo, 'Cargo.toml'), 'utf8')
const members = ['bindings-node', ...crates].map((m) => `    "${m}",`).join('\n')
const rewritten = workspace.replace(/members = \[[^\]]*\]/, `members = [\n${members}\n]`)
if (rewritten === workspace) {
  console.error('kpi-engine: could not find the members of the workspace manifest')
  process.exit(1)
}
fs.writeFileSync(path.join(native, 'Cargo.toml'), rewritten)
console.error(`kpi-engine: packed the Rust sources of ${crates.length + 1} crates into native/`)
