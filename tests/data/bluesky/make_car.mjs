// Starts a local PLC directory and a local Bluesky PDS on 127.0.0.1, both
// real servers from npm (@did-plc/server, @atproto/pds). Used by make_car.sh,
// which copies this file next to its node_modules (ESM resolves packages
// relative to the file, not NODE_PATH) and kills us with SIGTERM when done.
//
// Env in:  PLC_PORT, PDS_PORT, DATABASE_URL (PostgreSQL for the PLC), WORK.
// Prints "READY" on stdout once both servers answer.
import { randomBytes } from 'node:crypto'
import plc from '@did-plc/server'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'

const { WORK, PLC_PORT, PDS_PORT, DATABASE_URL } = process.env

// PLC directory: the PDS registers every new account's did:plc here.
const db = plc.Database.postgres({ url: DATABASE_URL })
await db.migrateToLatestOrThrow()
const plcServer = plc.PlcServer.create({ db, port: Number(PLC_PORT) })
await plcServer.start()

// PDS configured purely through its documented PDS_* environment variables.
// Secrets are throwaway: this server lives for one run on loopback only.
Object.assign(process.env, {
  PDS_DEV_MODE: 'true', // allows http:// and a localhost hostname
  PDS_HOSTNAME: 'localhost',
  PDS_PORT,
  PDS_DATA_DIRECTORY: `${WORK}/pds-data`,
  PDS_BLOBSTORE_DISK_LOCATION: `${WORK}/pds-data/blobs`,
  PDS_DID_PLC_URL: `http://127.0.0.1:${PLC_PORT}`,
  PDS_SERVICE_HANDLE_DOMAINS: '.test', // so alice.test etc. are ours
  PDS_INVITE_REQUIRED: 'false',
  PDS_JWT_SECRET: randomBytes(16).toString('hex'),
  PDS_ADMIN_PASSWORD: 'admin-pass',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: randomBytes(32).toString('hex'),
  PDS_CRAWLERS: '', // no relay to notify
})
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.start()

console.log('READY')

const stop = async () => {
  await pds.destroy()
  await plcServer.destroy()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
