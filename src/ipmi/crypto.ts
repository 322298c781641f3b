// RMCP+ cryptography (IPMI 2.0 §13.28–13.32). Everything is a pure function of its inputs
// so that it can be checked against known answers without a BMC.
import { createCipheriv, createDecipheriv, hash as digest, randomBytes, timingSafeEqual, type Cipher, type Decipher } from 'node:crypto';

/** Authentication (RAKP) algorithm numbers. */
export const AUTH_NONE = 0, AUTH_HMAC_SHA1 = 1, AUTH_HMAC_MD5 = 2, AUTH_HMAC_SHA256 = 3;
/** Integrity algorithm numbers. */
export const INTEG_NONE = 0, INTEG_HMAC_SHA1_96 = 1, INTEG_HMAC_MD5_128 = 2, INTEG_MD5_128 = 3, INTEG_HMAC_SHA256_128 = 4;
/** Confidentiality algorithm numbers. */
export const CONF_NONE = 0, CONF_AES_CBC_128 = 1;

export interface CipherSuite {
  id: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

// Only the suites whose algorithms are implemented here. Suite 0 (no authentication) is
// left out on purpose: it lets anyone with a user name in.
export const CIPHER_SUITES: Readonly<Record<number, CipherSuite>> = {
  1: { id: 1, auth: AUTH_HMAC_SHA1, integrity: INTEG_NONE, confidentiality: CONF_NONE },
  2: { id: 2, auth: AUTH_HMAC_SHA1, integrity: INTEG_HMAC_SHA1_96, confidentiality: CONF_NONE },
  3: { id: 3, auth: AUTH_HMAC_SHA1, integrity: INTEG_HMAC_SHA1_96, confidentiality: CONF_AES_CBC_128 },
  15: { id: 15, auth: AUTH_HMAC_SHA256, integrity: INTEG_NONE, confidentiality: CONF_NONE },
  16: { id: 16, auth: AUTH_HMAC_SHA256, integrity: INTEG_HMAC_SHA256_128, confidentiality: CONF_NONE },
  17: { id: 17, auth: AUTH_HMAC_SHA256, integrity: INTEG_HMAC_SHA256_128, confidentiality: CONF_AES_CBC_128 },
};

// One getrandom call per 4 KiB instead of one per packet: IVs and nonces for hundreds of
// sessions a second otherwise show up in profiles. A pool is never written again once
// made (a new one replaces it), so each caller gets a view of its own bytes, not a copy.
let pool = Buffer.alloc(0);
let poolAt = 0;
export function random(n: number): Buffer {
  if (poolAt + n > pool.length) {
    pool = randomBytes(Math.max(4096, n));
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

export function isSupportedSuite(id: number): boolean {
  return CIPHER_SUITES[id] !== undefined;
}

export type HashName = 'sha1' | 'sha256';

export function authHash(auth: number): HashName {
  if (auth === AUTH_HMAC_SHA1) return 'sha1';
  if (auth === AUTH_HMAC_SHA256) return 'sha256';
  throw new RangeError(`authentication algorithm ${auth} not implemented`);
}

/**
 * HMAC (RFC 2104) under one key, kept for as long as the key lives: the key's inner and
 * outer pads are computed once, and each code is two one-shot hashes. node:crypto's
 * createHmac builds and tears down a new context object per call, which is most of what an
 * HMAC of a 40-byte message costs; a session signs and checks several packets with K1 and
 * derives three values from SIK.
 */
class HmacKey {
  private readonly ipad: Buffer;
  private readonly opad: Buffer;

  constructor(private readonly name: HashName, key: Buffer) {
    const block = 64; // SHA-1 and SHA-256 both hash 64-byte blocks
    const k = key.length > block ? digest(name, key, 'buffer') : key;
    this.ipad = Buffer.alloc(block, 0x36);
    this.opad = Buffer.alloc(block, 0x5c);
    for (let i = 0; i < k.length; i++) {
      this.ipad[i]! ^= k[i]!;
      this.opad[i]! ^= k[i]!;
    }
  }

  code(parts: readonly Buffer[]): Buffer {
    const pad = this.ipad.length;
    let n = pad;
    for (let i = 0; i < parts.length; i++) n += parts[i]!.length;
    const inner = Buffer.allocUnsafe(n);
    inner.set(this.ipad, 0);
    // TypedArray set: a builtin, where Buffer's copy is JavaScript around a native call.
    for (let i = 0, at = pad; i < parts.length; i++) {
      inner.set(parts[i]!, at);
      at += parts[i]!.length;
    }
    const h = digest(this.name, inner, 'buffer');
    const outer = Buffer.allocUnsafe(pad + h.length);
    outer.set(this.opad, 0);
    outer.set(h, pad);
    return digest(this.name, outer, 'buffer');
  }
}

/** The prepared HMAC state of each key buffer (a session's Kuid, SIK and K1), for as long as the buffer lives. */
const hmacKeys = new WeakMap<Buffer, { sha1?: HmacKey; sha256?: HmacKey }>();

export function hmac(hash: HashName, key: Buffer, ...parts: Buffer[]): Buffer {
  let byHash = hmacKeys.get(key);
  if (!byHash) hmacKeys.set(key, (byHash = {}));
  const k = (byHash[hash] ??= new HmacKey(hash, key));
  return k.code(parts);
}

/**
 * Kuid: the user's password as the RAKP key. IPMI 2.0 passwords are at most 20 bytes and
 * are zero-padded to 20; padding changes nothing for HMAC but keeps the key explicit.
 */
export function userKey(password: Buffer | string): Buffer {
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  if (pw.length > 20) throw new RangeError('IPMI 2.0 passwords are at most 20 bytes');
  const k = Buffer.alloc(20);
  pw.copy(k);
  return k;
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export interface RakpParams {
  /** Remote console (our) session ID. */
  consoleSid: number;
  /** Managed system (BMC) session ID. */
  bmcSid: number;
  /** Remote console random number Rm (16 bytes). */
  consoleRandom: Buffer;
  /** Managed system random number Rc (16 bytes). */
  bmcRandom: Buffer;
  /** Managed system GUID (16 bytes, as sent in RAKP2). */
  bmcGuid: Buffer;
  /** The role byte exactly as sent in RAKP1 (privilege and the name-only lookup bit). */
  role: number;
  user: Buffer;
}

function roleUser(p: RakpParams): Buffer {
  return Buffer.concat([Buffer.from([p.role & 0xff, p.user.length]), p.user]);
}

/** Key exchange authentication code the BMC puts in RAKP2. */
export function rakp2AuthCode(hash: HashName, kuid: Buffer, p: RakpParams): Buffer {
  return hmac(hash, kuid, u32le(p.consoleSid), u32le(p.bmcSid), p.consoleRandom, p.bmcRandom, p.bmcGuid, roleUser(p));
}

/** Key exchange authentication code we send in RAKP3. */
export function rakp3AuthCode(hash: HashName, kuid: Buffer, p: RakpParams): Buffer {
  return hmac(hash, kuid, p.bmcRandom, u32le(p.consoleSid), roleUser(p));
}

/** Session Integrity Key. KG is the BMC key when one is set, else Kuid. */
export function sessionIntegrityKey(hash: HashName, kg: Buffer, p: RakpParams): Buffer {
  return hmac(hash, kg, p.consoleRandom, p.bmcRandom, roleUser(p));
}

/** K1 (integrity) and K2 (confidentiality): HMAC of a constant block under SIK. */
export function additionalKey(hash: HashName, sik: Buffer, n: 1 | 2 | 3): Buffer {
  const len = hash === 'sha1' ? 20 : 32;
  return hmac(hash, sik, Buffer.alloc(len, n));
}

/** Integrity check value in RAKP4: HMAC-SHA1-96 for RAKP-HMAC-SHA1, HMAC-SHA256-128 for SHA256. */
export function rakp4Icv(hash: HashName, sik: Buffer, p: RakpParams): Buffer {
  const full = hmac(hash, sik, p.consoleRandom, u32le(p.bmcSid), p.bmcGuid);
  return full.subarray(0, hash === 'sha1' ? 12 : 16);
}

export function integrityLength(integ: number): number {
  switch (integ) {
    case INTEG_NONE: return 0;
    case INTEG_HMAC_SHA1_96: return 12;
    case INTEG_HMAC_SHA256_128: return 16;
    default: throw new RangeError(`integrity algorithm ${integ} not implemented`);
  }
}

/** AuthCode of a session packet, over the bytes from the auth-type byte to Next Header. */
export function integrityCode(integ: number, k1: Buffer, signed: Buffer): Buffer {
  switch (integ) {
    case INTEG_HMAC_SHA1_96: return hmac('sha1', k1, signed).subarray(0, 12);
    case INTEG_HMAC_SHA256_128: return hmac('sha256', k1, signed).subarray(0, 16);
    default: throw new RangeError(`integrity algorithm ${integ} not implemented`);
  }
}

export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * AES-128-CBC under one key, kept for as long as the key lives: one ECB context each way,
 * created once, with the CBC chaining done here (a block is XORed with the previous
 * ciphertext before encryption, after decryption). createCipheriv costs a new OpenSSL
 * context per packet; an ECB context without padding can be fed block after block.
 */
class AesKey {
  private readonly enc: Cipher;
  private readonly dec: Decipher;
  /** The block being chained (plaintext XOR previous ciphertext). */
  private readonly block = Buffer.allocUnsafe(16);

  constructor(key: Buffer) {
    this.enc = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    this.dec = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  }

  /** CBC encryption of whole blocks into out[at..]: the IV, then the ciphertext. */
  encrypt(iv: Buffer, plain: Buffer, out: Buffer, at: number): void {
    out.set(iv.subarray(0, 16), at);
    const block = this.block;
    for (let i = 0; i < plain.length; i += 16) {
      const prev = at + i; // the previous ciphertext block, the IV first
      for (let j = 0; j < 16; j++) block[j] = plain[i + j]! ^ out[prev + j]!;
      out.set(this.enc.update(block), prev + 16);
    }
  }

  /** CBC decryption of IV ‖ ciphertext (whole blocks). */
  decrypt(payload: Buffer): Buffer {
    const plain = this.dec.update(payload.subarray(16));
    for (let i = 0; i < plain.length; i++) plain[i]! ^= payload[i]!; // XOR with the IV, then each previous ciphertext block
    return plain;
  }
}

const aesKeys = new WeakMap<Buffer, AesKey>();

function aesKey(k2: Buffer): AesKey {
  let k = aesKeys.get(k2);
  if (!k) aesKeys.set(k2, (k = new AesKey(k2.subarray(0, 16))));
  return k;
}

/** Length of an encrypted payload: IV, then the plaintext, its pad and pad length in whole blocks. */
export function aesLength(plainLength: number): number {
  return 16 + (plainLength + 1 + ((16 - ((plainLength + 1) % 16)) % 16));
}

/**
 * AES-CBC-128 with the IPMI confidentiality trailer: pad bytes 1,2,3… then the pad length,
 * so that the plaintext is a multiple of 16. Writes IV ‖ ciphertext (aesLength bytes) into
 * out at `at`.
 */
export function aesEncryptInto(k2: Buffer, plain: Buffer, iv: Buffer, out: Buffer, at: number): void {
  const padded = Buffer.allocUnsafe(aesLength(plain.length) - 16);
  const padLen = padded.length - plain.length - 1;
  padded.set(plain, 0);
  for (let i = 0; i < padLen; i++) padded[plain.length + i] = i + 1;
  padded[padded.length - 1] = padLen;
  aesKey(k2).encrypt(iv, padded, out, at);
}

/** aesEncryptInto a new buffer: IV ‖ ciphertext. */
export function aesEncrypt(k2: Buffer, plain: Buffer, iv: Buffer = random(16)): Buffer {
  const out = Buffer.allocUnsafe(aesLength(plain.length));
  aesEncryptInto(k2, plain, iv, out, 0);
  return out;
}

/** Inverse of aesEncrypt; undefined when the payload is not a well-formed IPMI AES payload. */
export function aesDecrypt(k2: Buffer, payload: Buffer): Buffer | undefined {
  if (payload.length < 32 || payload.length % 16 !== 0) return undefined;
  try {
    const plain = aesKey(k2).decrypt(payload);
    const padLen = plain[plain.length - 1]!;
    if (padLen > 15 || padLen + 1 > plain.length) return undefined;
    // Some BMCs fill the pad with zeros instead of 1,2,3…; the length byte is what counts.
    return plain.subarray(0, plain.length - 1 - padLen);
  } catch {
    return undefined;
  }
}
