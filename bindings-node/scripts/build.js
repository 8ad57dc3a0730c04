#!/usr/bin/env node
'use strict'
// Builds the native addon with cargo and puts it where index.js loads it
// (`kpi-engine.<platform>-<arch>.node`). `npm run build` runs it; so does the install script
// when no prebuilt addon for the platform is in the package.
//
// The profile is `release` unless KPI_ENGINE_PROFILE says otherwise (the repository's tests
// build with `dev`, sharing the workspace's target directory). The sources are the
// repository's workspace around this folder, or, in a packed tarball, the copy in `native/`
// (scripts/pack.js).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const addon = require('./addon')

function fail(message) {
  console.error(`kpi-engine: ${message}`)
  process.exit(1)
}

const vendored = path.join(addon.root, 'native', 'bindings-node', 'Cargo.toml')
const manifest = fs.existsSync(vendored) ? vendored : path.join(addon.root, 'Cargo.toml')
// Cargo reads its configuration (the linker) from the directory it runs in.
const cwd = fs.existsSync(vendored) ? path.join(addon.root, 'native') : addon.root
const profile = process.env.KPI_ENGINE_PROFILE || 'release'
if (!/^[a-z][a-z0-9_-]*$/.test(profile)) fail(`KPI_ENGINE_PROFILE must be a cargo profile name, not \`${profile}\``)

const cargo = process.env.CARGO || 'cargo'
const probe = spawnSync(cargo, ['--version'], { encoding: 'utf8' })
if (probe.error || probe.status !== 0) {
  fail(
    `no prebuilt addon for ${process.platform}-${process.arch} and no Rust toolchain to build one: ` +
      'install Rust (https://rustup.rs) and run `npm rebuild kpi-engine`',
  )
}

if (profile === 'release') console.error('kpi-engine: building the native addon (release; the first build takes a while)...')
const args = ['build', '--manifest-path', manifest, '--lib', '--profile', profile, '--message-format', 'json-render-diagnostics']
// Progress and diagnostics go to the terminal; the JSON messages on stdout name the library.
const build = spawnSync(cargo, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 })
if (build.error) fail(`could not run cargo: ${build.error.message}`)
if (build.status !== 0) fail(`cargo build failed (exit ${build.status})`)

let library
for (const line of build.stdout.split('\n')) {
  if (!line.startsWith('{')) continue
  const message = JSON.parse(line)
  if (message.reason === 'compiler-artifact' && message.target.name === 'kpi_engine_node') {
    library = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f))
  }
}
if (!library) fail('cargo built no kpi_engine_node library')
// Copy to a temporary name and rename, so a running process never loads a half-written file.
const temporary = `${addon.file}.${process.pid}.tmp`
fs.copyFileSync(library, temporary)
fs.renameSync(temporary, addon.file)
console.error(`kpi-engine: built ${addon.fileName}`)
