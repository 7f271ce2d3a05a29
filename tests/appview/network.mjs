// A whole local Bluesky network for kompas's integration tests: PLC directory, PDS and
// AppView (bsky, with its data plane and bsync) plus the Ozone moderation service that the
// AppView expects, all from npm's @atproto/dev-env (the network Bluesky's own tests use).
// Started by start_network.sh, which copies this file next to its node_modules (ESM
// resolves packages relative to the file) and stops us with SIGTERM.
//
// Env in:  DB_POSTGRES_URL (scratch PostgreSQL), REDIS_HOST (host:port), PDS_PORT,
//          APPVIEW_PORT, PLC_PORT, TMPDIR (the PDS keeps its data under it).
// Prints one line "READY {json}" on stdout once every service answers.
import net from 'node:net'

// Every service calls listen(port) without a host, which binds all interfaces. This is a
// test network: keep it on loopback by giving those calls 127.0.0.1.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const [port, ...rest] = args
    const host = typeof rest[0] === 'string' ? rest.shift() : '127.0.0.1'
    return listen.call(this, Number(port), host, ...rest)
  }
  if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].host) {
    args[0] = { ...args[0], host: '127.0.0.1' }
  }
  return listen.apply(this, args)
}

const { TestNetwork } = await import('@atproto/dev-env')
const { DB_POSTGRES_URL, REDIS_HOST, PDS_PORT, APPVIEW_PORT, PLC_PORT } = process.env

const network = await TestNetwork.create({
  dbPostgresUrl: DB_POSTGRES_URL,
  dbPostgresSchema: 'kompas',
  plc: { port: Number(PLC_PORT) },
  // The PDS keeps its scratch state (OAuth, scope lookups) in the Redis we started; the
  // AppView of this version no longer reads REDIS_HOST, dev-env only asks that it is set.
  pds: { port: Number(PDS_PORT), hostname: 'localhost', redisScratchAddress: REDIS_HOST },
  bsky: { port: Number(APPVIEW_PORT), publicUrl: `http://localhost:${APPVIEW_PORT}` },
})

console.log(
  'READY ' +
    JSON.stringify({
      pds: `http://127.0.0.1:${network.pds.port}`,
      appview: `http://127.0.0.1:${network.bsky.port}`,
      plc: `http://127.0.0.1:${network.plc.port}`,
      appviewDid: network.bsky.serverDid,
      pdsDid: network.pds.ctx.cfg.service.did,
    }),
)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
