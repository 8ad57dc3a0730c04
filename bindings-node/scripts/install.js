#!/usr/bin/env node
'use strict'
// The install script: nothing to do when the package holds a prebuilt addon for this
// platform; otherwise it builds one from the Rust sources (scripts/build.js).

const fs = require('node:fs')
const addon = require('./addon')

if (!fs.existsSync(addon.file)) require('./build')
