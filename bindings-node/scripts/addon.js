'use strict'
// Where the native addon of this platform lives: `kpi-engine.<platform>-<arch>.node` in the
// package folder (prebuilt and shipped, or built by scripts/build.js at install).

const path = require('node:path')

const root = path.join(__dirname, '..')
const fileName = `kpi-engine.${process.platform}-${process.arch}.node`

module.exports = { root, fileName, file: path.join(root, fileName) }
