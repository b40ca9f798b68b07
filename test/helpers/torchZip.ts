// Builds torch.save-shaped zips (stored entries, `<archive>/data.pkl` + `<archive>/data/<key>`)
// around hand-written pickles, for hostile-input tests of the checkpoint reader.
import { crc32 } from 'node:zlib';

/** A stored (uncompressed) zip of the given entries, in order. */
export function storedZip(entries: Array<[name: string, data: Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** A checkpoint whose data.pkl is `pickle` (protocol 2 framing added) plus optional storages. */
export function torchZip(pickle: Buffer, storages: Record<string, Buffer> = {}): Buffer {
  const body = Buffer.concat([Buffer.from([0x80, 0x02]), pickle, Buffer.from('.')]);
  return storedZip([['archive/data.pkl', body], ...Object.entries(storages).map(([k, v]): [string, Buffer] => [`archive/data/${k}`, v])]);
}
