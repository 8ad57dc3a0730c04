'use strict'
// Node reaches everything a Rust user can do: each public Rust operation in
// docs/api-parity.json (the Python tests check that the table covers the Rust sources) has a
// Node name that exists, or a reason; every error code maps to the class the table names, the
// same as in Python.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const ke = require('..')

const table = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'api-parity.json'), 'utf8'))
const catalog = ke.Catalog.standard()
const objects = {
  Engine: new ke.Engine(catalog),
  Catalog: catalog,
  ClientConfig: ke.ClientConfig.fromJson({ id: 'acme', name: 'Acme' }),
  'kpi_catalog::import': catalog,
  kpi_pricing: ke,
}

/** The attribute paths a Node name stands for: `register / registerAsync` → both. */
function names(entry) {
  return entry.split(' / ').map((part) => part.trim().replace(/^new /, '').split(/[ (]/)[0])
}

function resolve(section, name) {
  const parts = name.split('.')
  let obj = ['Engine', 'Catalog', 'ClientConfig', 'pricing', 'demo'].includes(parts[0]) ? ke : objects[section]
  for (const part of parts) obj = obj?.[part]
  return obj
}

for (const section of Object.keys(objects)) {
  test(`every Rust operation of ${section} has its Node name`, () => {
    for (const [rust, entry] of Object.entries(table[section])) {
      if (entry.node === null) {
        assert.ok(entry.why, `${section}::${rust} has no Node name and no reason`)
        continue
      }
      for (const name of names(entry.node)) assert.notEqual(resolve(section, name), undefined, `${section}::${rust} -> ${name}`)
    }
  })
}

test('every error code maps to the same class as in Python', () => {
  const codes = ke.errorCodes()
  assert.deepEqual(codes.map(([c]) => c).sort(), Object.keys(table.errors).sort())
  for (const [code, kind] of codes) {
    // The conversion every error of the addon goes through.
    const err = ke._fromDetail({ code, kind, message: 'm' })
    assert.ok(err instanceof ke.KpiError)
    assert.equal(err.constructor.name, table.errors[code], code)
    assert.deepEqual([err.code, err.kind], [code, kind])
  }
})
