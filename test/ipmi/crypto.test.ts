// Known answers computed independently (Python hmac/hashlib, `openssl enc`), not with
// this code.
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  additionalKey, aesDecrypt, aesEncrypt, hmac, integrityCode, rakp2AuthCode, rakp3AuthCode, rakp4Icv, sessionIntegrityKey,
  userKey, INTEG_HMAC_SHA1_96, INTEG_HMAC_SHA256_128, type RakpParams,
} from '../../src/ipmi/crypto.js';

const p: RakpParams = {
  consoleSid: 0x11223344,
  bmcSid: 0xa0b0c0d0,
  consoleRandom: Buffer.from([...Array(16).keys()]),
  bmcRandom: Buffer.from([...Array(16).keys()].map((i) => i + 16)),
  bmcGuid: Buffer.from([...Array(16).keys()].map((i) => i + 32)),
  role: 0x14,
  user: Buffer.from('admin'),
};
const kuid = userKey('adminpass');
const signed = Buffer.from('0640d0c0b0a00100000008002018c88104380ef5ffff0207', 'hex');

const KAT = {
  sha1: {
    rakp2: '3887d793fc9d595a1cd77a796d925ba38f393477',
    rakp3: 'b9d880fc4b318d11859cc4154a8142e9e489a01a',
    sik: '25ff256061ccae254a38234690ac995f2b2693ca',
    k1: '83c96a30c6cdd1edb32490a96f7afdf37f4648a8',
    k2: '9373c6deb376c33b7b6377d00089c6347d9f2ff1',
    rakp4: 'ad326d53d449b1945e020fae',
    integ: 'ca43cd735da7fdfd7e694c42',
  },
  sha256: {
    rakp2: 'f78b4113ce0083d94ebd734fa0eeec74fafc8300f07b6f34053573d2f5ca8841',
    rakp3: 'a2b5720e446356634fa5403301940987dbe627900bc72da1436a52b33433607d',
    sik: '8730ff92be47561d280bcaaad25035a27436ba5cc34e567795f392d593e42753',
    k1: '18219317392c04bedde7dcb04415e549e47c434ad7a91674ea7b97f9635c2b2b',
    k2: '193651273f402c07815d335faf27f113a990591d92027948e05d10fddb39ade7',
    rakp4: '5308b8cc2932c7df820319f02c135c61',
    integ: 'd5ce6d413aa8e665e7204979606e03be',
  },
} as const;

describe('RAKP and key derivation known answers', () => {
  for (const hash of ['sha1', 'sha256'] as const) {
    const k = KAT[hash];
    it(`${hash}: RAKP2/RAKP3 codes, SIK, K1, K2, RAKP4 ICV, packet integrity`, () => {
      expect(rakp2AuthCode(hash, kuid, p).toString('hex')).toBe(k.rakp2);
      expect(rakp3AuthCode(hash, kuid, p).toString('hex')).toBe(k.rakp3);
      const sik = sessionIntegrityKey(hash, kuid, p);
      expect(sik.toString('hex')).toBe(k.sik);
      const k1 = additionalKey(hash, sik, 1);
      expect(k1.toString('hex')).toBe(k.k1);
      expect(additionalKey(hash, sik, 2).toString('hex')).toBe(k.k2);
      expect(rakp4Icv(hash, sik, p).toString('hex')).toBe(k.rakp4);
      const integ = hash === 'sha1' ? INTEG_HMAC_SHA1_96 : INTEG_HMAC_SHA256_128;
      expect(integrityCode(integ, k1, signed).toString('hex')).toBe(k.integ);
    });
  }

  it('gives the same codes when one key signs many messages (its prepared state is reused, not altered)', () => {
    // Each key buffer keeps its HMAC pads for its lifetime: a session's K1 signs and checks
    // every packet. Checked against node:crypto's own HMAC, a separate implementation.
    for (const hash of ['sha1', 'sha256'] as const) {
      const key = Buffer.alloc(hash === 'sha1' ? 20 : 32, 0x5a);
      const integ = hash === 'sha1' ? INTEG_HMAC_SHA1_96 : INTEG_HMAC_SHA256_128;
      for (let n = 0; n < 150; n += 7) {
        const m = Buffer.alloc(n, n);
        const want = createHmac(hash, key).update(m).digest();
        expect(hmac(hash, key, m.subarray(0, n >> 1), m.subarray(n >> 1))).toEqual(want);
        expect(integrityCode(integ, key, m)).toEqual(want.subarray(0, hash === 'sha1' ? 12 : 16));
      }
    }
  });

  it('pads the password to 20 bytes and refuses longer ones', () => {
    expect(userKey('abc')).toEqual(Buffer.concat([Buffer.from('abc'), Buffer.alloc(17)]));
    expect(() => userKey('x'.repeat(21))).toThrow(/20 bytes/);
  });
});

describe('AES-CBC-128 with the IPMI confidentiality trailer', () => {
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const iv = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
  const plain = Buffer.from('2018c881040173', 'hex');

  it('matches openssl for pad 01..08 + length 08', () => {
    const out = aesEncrypt(key, plain, iv);
    expect(out.subarray(0, 16)).toEqual(iv);
    expect(out.subarray(16).toString('hex')).toBe('615c3c709488d854b0c27754c3d01a35');
  });

  it('round-trips every length and strips the pad', () => {
    for (let n = 0; n < 40; n++) {
      const m = Buffer.alloc(n, 0xa5);
      const c = aesEncrypt(key, m);
      expect(c.length % 16).toBe(0);
      expect(aesDecrypt(key, c)).toEqual(m);
    }
  });

  it('chains blocks like openssl across many messages under one key (its contexts are reused)', () => {
    // Independent reference: node:crypto's AES-128-CBC, a new context per message.
    for (let n = 0; n < 70; n += 5) {
      const m = Buffer.alloc(n, n + 1);
      const out = aesEncrypt(key, m, iv);
      const padLen = out.length - 16 - n - 1;
      const padded = Buffer.concat([m, Buffer.from([...Array(padLen).keys()].map((i) => i + 1)), Buffer.from([padLen])]);
      const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      expect(out.subarray(16)).toEqual(Buffer.concat([c.update(padded), c.final()]));
      expect(aesDecrypt(key, out)).toEqual(m);
    }
  });

  it('rejects malformed ciphertext instead of throwing', () => {
    expect(aesDecrypt(key, Buffer.alloc(15))).toBeUndefined();
    expect(aesDecrypt(key, Buffer.alloc(33))).toBeUndefined();
  });
});
