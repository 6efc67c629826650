// KafkaJS's own partitioners as an oracle. Reads JSON from stdin:
//   {"cases": [[key, n], ...], "null_calls": [n, ...]}
// where key is {"hex": "..."} (bytes, a Buffer) or {"str": "..."} (a JS
// string, which KafkaJS encodes as UTF-8). Writes JSON:
//   {"default": [...], "legacy": [...], "null_default": [[...]], "null_legacy": [[...]]}
// with one partition per case, and for each null_calls entry n the
// partitions of n consecutive NULL-key messages to an n-partition topic.
const path = require('path')
const root = process.env.KAFKAJS_DIR || path.join(__dirname, '..', '..', 'target', 'node', 'node_modules', 'kafkajs')
const { Partitioners } = require(root)
const pkg = require(path.join(root, 'package.json'))
if (pkg.version !== '2.2.4') throw new Error(`kafkajs ${pkg.version}, expected 2.2.4`)

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const metadata = new Map()
const partitionMetadata = n => {
  if (!metadata.has(n)) {
    metadata.set(n, Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1 })))
  }
  return metadata.get(n)
}
const out = { default: [], legacy: [], null_default: [], null_legacy: [] }
for (const [name, make] of [['default', Partitioners.DefaultPartitioner], ['legacy', Partitioners.LegacyPartitioner]]) {
  const partitioner = make()
  for (const [k, n] of input.cases) {
    const key = 'hex' in k ? Buffer.from(k.hex, 'hex') : k.str
    out[name].push(partitioner({ topic: 't', partitionMetadata: partitionMetadata(n), message: { key } }))
  }
  for (const n of input.null_calls) {
    const p = make() // a fresh partitioner: a fresh round-robin counter
    const got = []
    for (let i = 0; i < n; i++) got.push(p({ topic: 't', partitionMetadata: partitionMetadata(n), message: { key: null } }))
    out['null_' + name].push(got)
  }
}
process.stdout.write(JSON.stringify(out))
