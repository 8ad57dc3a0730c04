#!/usr/bin/env node
'use strict'
// After `npm pack`: removes the copy of the Rust sources that scripts/pack.js made.
const fs = require('node:fs')
const path = require('node:path')
fs.rmSync(path.join(__dirname, '..', 'native'), { recursive: true, force: true })
