// Produces one key set to one topic with one client, for
// tests/python/test_node_wrapper.py. Reads JSON from a file (argv[2]) or stdin:
//   {"client": "kafkajs" | "kjs" | "kjs-rdkafka",
//    "brokers": "host:port,...", "topic": "...",
//    "config": {librdkafka properties, in order (kjs and kjs-rdkafka only)},
//    "kafkajs_block": true (default) | false (kjs only: Kafka({kafkaJS:
//        {brokers}}), or Kafka({"bootstrap.servers"}) without a kafkaJS block),
//    "keys": ["...", ...]}
// Message i has key keys[i] (a JS string: every client here sends it UTF-8
// encoded) and value String(i). Writes JSON {"sent": n, "partitions": [...]}
// (kjs-rdkafka: the partition of each message's delivery report; kafkajs
// and kjs: null, their send() reports per partition only) and exits 0, or
// writes the error to stderr and exits 1.
//   kafkajs      KafkaJS 2.2.4's own producer, its DefaultPartitioner
//   kjs          @confluentinc/kafka-javascript's KafkaJS-compatible API:
//                Kafka({kafkaJS: {brokers}}).producer(config), where config's
//                top-level keys are librdkafka properties (they follow the
//                ones the kafkaJS block becomes)
//   kjs-rdkafka  its node-rdkafka-style API: new Producer({bootstrap.servers,
//                dr_cb, ...config})
const path = require('path')
const fs = require('fs')

const root = path.join(__dirname, '..', '..', 'target')
const KAFKAJS_DIR = process.env.KAFKAJS_DIR || path.join(root, 'node', 'node_modules', 'kafkajs')
const KJS_DIR = process.env.KJS_DIR ||
  path.join(root, 'node-kjs', 'node_modules', '@confluentinc', 'kafka-javascript')

function expectVersion (dir, want) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  if (pkg.version !== want) throw new Error(`${pkg.name} ${pkg.version} in ${dir}, expected ${want}`)
}

async function viaKafkajs (input) {
  expectVersion(KAFKAJS_DIR, '2.2.4')
  const { Kafka, Partitioners, logLevel } = require(KAFKAJS_DIR)
  const kafka = new Kafka({ clientId: 'rdpart-node-test', brokers: input.brokers.split(','), logLevel: logLevel.ERROR })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const messages = input.keys.map((key, i) => ({ key, value: String(i) }))
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic: input.topic, acks: -1, messages: messages.slice(i, i + 500) })
    }
  } finally {
    await producer.disconnect()
  }
  return null
}

async function viaKjs (input) {
  expectVersion(KJS_DIR, '1.10.1')
  const { Kafka, logLevel } = require(KJS_DIR).KafkaJS
  // With a kafkaJS block, the compatibility layer puts its own properties
  // first, among them partitioner=murmur2_random; without one, the config
  // is librdkafka properties only.
  const kafka = new Kafka(input.kafkajs_block === false
    ? { 'bootstrap.servers': input.brokers, 'client.id': 'rdpart-node-test', log_level: 3 }
    : { kafkaJS: { clientId: 'rdpart-node-test', brokers: input.brokers.split(','), logLevel: logLevel.ERROR } })
  const producer = kafka.producer({ ...input.config })
  await producer.connect()
  try {
    const messages = input.keys.map((key, i) => ({ key, value: String(i) }))
    for (let i = 0; i < messages.length; i += 500) {
      // One RecordMetadata per partition comes back: the per-message
      // placement comes from reading the topic back.
      await producer.send({ topic: input.topic, messages: messages.slice(i, i + 500) })
    }
    return null
  } finally {
    await producer.disconnect()
  }
}

function viaKjsRdkafka (input) {
  expectVersion(KJS_DIR, '1.10.1')
  const { Producer } = require(KJS_DIR)
  return new Promise((resolve, reject) => {
    const producer = new Producer({ 'bootstrap.servers': input.brokers, dr_cb: true, ...input.config })
    const partitions = new Array(input.keys.length).fill(null)
    let done = 0
    producer.on('event.error', reject)
    producer.on('delivery-report', (err, report) => {
      if (err) return reject(err)
      partitions[report.opaque] = report.partition
      if (++done === input.keys.length) producer.disconnect(() => resolve(partitions))
    })
    producer.setPollInterval(20)
    producer.connect({}, err => {
      if (err) return reject(err)
      try {
        input.keys.forEach((key, i) => producer.produce(input.topic, null, Buffer.from(String(i)), key, 0, i))
        producer.flush(30000, e => { if (e) reject(e) })
      } catch (e) {
        reject(e)
      }
    })
  })
}

async function main () {
  const input = JSON.parse(fs.readFileSync(process.argv[2] || 0, 'utf8'))
  const run = { kafkajs: viaKafkajs, kjs: viaKjs, 'kjs-rdkafka': viaKjsRdkafka }[input.client]
  if (!run) throw new Error(`unknown client ${input.client}`)
  const partitions = await run(input)
  process.stdout.write(JSON.stringify({ sent: input.keys.length, partitions }) + '\n')
}

main().then(() => process.exit(0), err => {
  process.stderr.write(`produce.js (${process.argv[2] || 'stdin'}): ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
