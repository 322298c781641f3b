// A BMC that answers a dscli power call during the build's code-cache training
// (scripts/build.mjs trainCodeCache), and nothing else: it lives on an ephemeral loopback
// port for the few seconds of the training and is never part of what kanri runs. Without
// an answer the training compiles only the sending half of a session; the code that reads
// answers (RAKP 2 and 4, the integrity check and decryption, Get Chassis Status, Close
// Session, the registry's records) would then be compiled at every dscli call instead of
// read from the cache.
//
// It speaks just enough RMCP+ for that call, built from the driver's own codec and crypto
// (dist/ipmi/, emitted by tsc before the training): Open Session (granting whichever
// algorithms the console proposes: the registry's default cipher suite, as a registered
// BMC is called), RAKP 1-4, then Get Chassis Status, Set Session Privilege Level and Close
// Session inside the session. It checks nothing a test would: test/ipmi/ has the BMCs
// that do.
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** An IPMI response to the request message `req` (IPMI 2.0 §13.8). */
function response(req, cc, data) {
  const m = [0x81, ((req[1] >> 2) + 1) << 2, 0, 0x20, req[4], req[5], cc, ...data, 0];
  m[2] = (0x100 - ((m[0] + m[1]) & 0xff)) & 0xff;
  let s = 0;
  for (let i = 3; i < m.length - 1; i++) s += m[i];
  m[m.length - 1] = (0x100 - (s & 0xff)) & 0xff;
  return Buffer.from(m);
}

/** Starts the BMC on 127.0.0.1; resolves with its port and a close(). Answers user `user` with `password`. */
export async function startTrainingBmc(root, user, password) {
  const dist = (m) => import(pathToFileURL(join(root, 'dist/ipmi', m)).href);
  const { decodePacket, encodeV20Packet, openV20Payload } = await dist('rmcp.js');
  const { additionalKey, authHash, rakp2AuthCode, rakp3AuthCode, rakp4Icv, sessionIntegrityKey, userKey } = await dist('crypto.js');
  const sock = createSocket('udp4');
  const kuid = userKey(password);
  const bmcSid = 0x0badcafe;
  const guid = Buffer.alloc(16, 0x42);
  const bmcRandom = Buffer.alloc(16, 0x17);
  // One session at a time: the training makes one call after another.
  let params, suite, hash, keys, seq = 0;
  sock.on('message', (msg, r) => {
    const p = decodePacket(msg);
    if (p?.kind !== 'v20') return;
    const reply = (payloadType, payload, k) =>
      sock.send(encodeV20Packet({ payloadType, sessionId: k ? params.consoleSid : 0, seq: k ? ++seq : 0, payload, ...(k ? { keys: k } : {}) }), r.port, r.address);
    const d = p.payload;
    if (p.payloadType === 0x10) {
      const out = Buffer.alloc(36);
      out[0] = d[0];
      out[2] = d[1];
      d.copy(out, 4, 4, 8);
      out.writeUInt32LE(bmcSid, 8);
      d.copy(out, 12, 8, 32); // the proposed authentication, integrity and confidentiality algorithms
      suite = { auth: d[12], integ: d[20], conf: d[28] };
      hash = authHash(suite.auth);
      params = { consoleSid: d.readUInt32LE(4), bmcSid, consoleRandom: Buffer.alloc(0), bmcRandom, bmcGuid: guid, role: 0, user: Buffer.alloc(0) };
      keys = undefined;
      return reply(0x11, out);
    }
    if (!params) return;
    if (p.payloadType === 0x12) {
      params.consoleRandom = Buffer.from(d.subarray(8, 24));
      params.role = d[24];
      params.user = Buffer.from(d.subarray(28, 28 + d[27]));
      const head = Buffer.alloc(40);
      head[0] = d[0];
      head.writeUInt32LE(params.consoleSid, 4);
      if (params.user.toString() !== user) {
        head[1] = 0x0d; // unauthorized name
        return reply(0x13, head.subarray(0, 8));
      }
      bmcRandom.copy(head, 8);
      guid.copy(head, 24);
      return reply(0x13, Buffer.concat([head, rakp2AuthCode(hash, kuid, params)]));
    }
    if (p.payloadType === 0x14) {
      if (d[1] !== 0 || !d.subarray(8).equals(rakp3AuthCode(hash, kuid, params))) return;
      const sik = sessionIntegrityKey(hash, kuid, params);
      keys = { integrity: suite.integ, confidentiality: suite.conf, k1: additionalKey(hash, sik, 1), k2: additionalKey(hash, sik, 2) };
      const out = Buffer.alloc(8);
      out[0] = d[0];
      out.writeUInt32LE(params.consoleSid, 4);
      return reply(0x15, Buffer.concat([out, rakp4Icv(hash, sik, params)]));
    }
    if (p.payloadType !== 0 || !keys) return;
    const req = openV20Payload(p, keys);
    if (!req) return;
    const netFn = req[1] >> 2, cmd = req[5];
    if (netFn === 0x00 && cmd === 0x01) return reply(0, response(req, 0, [0x01, 0, 0]), keys); // power on
    if (netFn === 0x06 && cmd === 0x3b) return reply(0, response(req, 0, [req[6] & 0x0f]), keys);
    if (netFn === 0x06 && cmd === 0x3c) return reply(0, response(req, 0, []), keys);
    return reply(0, response(req, 0xc1, []), keys); // invalid command
  });
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', resolve);
  });
  return { port: sock.address().port, close: () => new Promise((resolve) => sock.close(resolve)) };
}
