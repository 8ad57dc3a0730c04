'use strict'
// A JSON document on disk written so that a crash never loses it: a unique temporary file,
// fsync, a backup of the previous version, rename, fsync of the directory. Reading falls back to
// the backup when the file is corrupt, and keeps the corrupt file aside for the operator.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

class JsonFile {
  /** `file`: where the document lives (`null`: in memory only); `log`: a pino-style logger. */
  constructor(file, log = null) {
    this.file = file
    this.log = log
  }

  /** The document, or `fallback` when there is none yet. A corrupt file is renamed
   *  `<file>.corrupt-<time>` and the backup read instead; with no good backup either, the
   *  error names both files and the server does not start on half its configuration. */
  read(fallback) {
    if (!this.file) return fallback
    const parse = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))
    if (!fs.existsSync(this.file)) return fs.existsSync(this.backup) ? parse(this.backup) : fallback
    try {
      return parse(this.file)
    } catch (e) {
      const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
      fs.renameSync(this.file, aside)
      if (!fs.existsSync(this.backup)) throw new Error(`${this.file} is corrupt (${e.message}; kept as ${aside}) and there is no backup`)
      const restored = parse(this.backup)
      this.log?.warn({ file: this.file, kept_as: aside, error: e.message }, 'corrupt file: restored the backup')
      this.write(restored)
      return restored
    }
  }

  get backup() {
    return `${this.file}.bak`
  }

  /** Writes `doc` durably (see the module's comment); concurrent writers never share a
   *  temporary file. */
  write(doc) {
    if (!this.file) return
    const dir = path.dirname(this.file)
    fs.mkdirSync(dir, { recursive: true })
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`
    const fd = fs.openSync(tmp, 'wx', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify(doc, null, 2))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    try {
      if (fs.existsSync(this.file)) fs.copyFileSync(this.file, this.backup)
      fs.renameSync(tmp, this.file)
    } catch (e) {
      fs.rmSync(tmp, { force: true })
      throw e
    }
    const dirFd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(dirFd)
    } finally {
      fs.closeSync(dirFd)
    }
  }
}

module.exports = { JsonFile }
