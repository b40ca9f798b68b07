/**
 * A small reader of the zip files `torch.save` writes: central directory (zip64 too), stored
 * entries only (torch never compresses; anything else is refused). Written here rather than taken
 * from npm because only this subset is needed and it must refuse everything else with a coded error.
 */
import { ModelError } from '../../errors.js';

/** One stored entry of a zip: its name and where its bytes are in the archive. */
export interface ZipEntry {
  name: string;
  /** Offset of the entry's data in the archive. */
  offset: number;
  size: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function bad(what: string, op: string): ModelError {
  return new ModelError('DE_MODEL_INVALID', `${op}: not a readable torch.save zip (${what})`, { op, details: { reason: what } });
}

function u64(buf: Buffer, at: number, op: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('a zip64 field is too large', op);
  return Number(v);
}

/** Whether the bytes start like a zip (local header signature). */
export function looksLikeZip(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === LOCAL;
}

/** The entries of a zip held in memory, by name; refuses compressed, encrypted or out-of-range entries. */
export function readZipEntries(buf: Buffer, op = 'checkpoint'): Map<string, ZipEntry> {
  // End of central directory: the last 22 bytes plus a comment of at most 65,535.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end of central directory', op);
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== EOCD64_LOCATOR) throw bad('zip64 locator missing', op);
    const at = u64(buf, loc + 8, op);
    if (at + 56 > buf.length || buf.readUInt32LE(at) !== EOCD64) throw bad('zip64 end record missing', op);
    count = u64(buf, at + 32, op);
    cdSize = u64(buf, at + 40, op);
    cdOffset = u64(buf, at + 48, op);
  }
  if (cdOffset + cdSize > buf.length) throw bad('central directory out of range', op);
  if (count > cdSize / 46) throw bad('entry count larger than the central directory', op);
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cdOffset + cdSize || buf.readUInt32LE(p) !== CENTRAL) throw bad('broken central directory', op);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) throw bad('central directory entry out of range', op);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 64-bit values, in this order, for those that are 0xffffffff.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (e + 4 + len > extraEnd) throw bad(`extra field of ${name} out of range`, op);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw bad(`short zip64 field in ${name}`, op);
          const v = u64(buf, q, op);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (local === 0xffffffff) local = take();
      }
      e += 4 + len;
    }
    if (flags & 1) throw bad(`entry ${name} is encrypted`, op);
    if (method !== 0) throw bad(`entry ${name} is compressed (method ${method}); torch.save stores entries`, op);
    if (csize !== usize) throw bad(`entry ${name} has different stored and real sizes`, op);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LOCAL) throw bad(`local header of ${name} missing`, op);
    const offset = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (offset + usize > buf.length) throw bad(`entry ${name} out of range`, op);
    if (entries.has(name)) throw bad(`entry ${name} twice`, op);
    entries.set(name, { name, offset, size: usize });
    p = end;
  }
  return entries;
}
