/**
 * A minimal but structurally valid MP4 (ISO/IEC 14496-12): ftyp, moov (mvhd + one video trak with
 * empty sample tables), a `free` box naming the job, and an mdat of filler. Players show nothing,
 * but parsers, hashers and storage code see a real file whose bytes differ per job.
 */

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

/** A full box: version (1 byte) and flags (3 bytes) before the payload. */
function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
}

function u32(...values: number[]): Buffer {
  const buf = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => buf.writeUInt32BE(v >>> 0, i * 4));
  return buf;
}

function u16(...values: number[]): Buffer {
  const buf = Buffer.alloc(2 * values.length);
  values.forEach((v, i) => buf.writeUInt16BE(v & 0xffff, i * 2));
  return buf;
}

/** The identity transformation matrix every mvhd/tkhd carries (16.16 and 2.30 fixed point). */
const IDENTITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);
const TIMESCALE = 1000;
/** Seconds between 1904-01-01 (the MP4 epoch) and 1970-01-01. */
const MP4_EPOCH_OFFSET = 2082844800;

/**
 * An `avc1` sample description (ISO 14496-12 §12.1.3). Demuxers such as ffmpeg refuse a track
 * without one; with zero samples no decoder configuration (avcC) is ever needed.
 */
function visualSampleEntry(width: number, height: number): Buffer {
  const compressorName = Buffer.alloc(32);
  compressorName.write('\u0009simulator', 0, 'latin1'); // Pascal string: length byte first
  return box(
    'avc1',
    Buffer.alloc(6),
    u16(1), // reserved, data_reference_index
    u16(0, 0),
    u32(0, 0, 0), // pre_defined, reserved, pre_defined
    u16(width, height),
    u32(0x00480000, 0x00480000, 0), // 72 dpi, 72 dpi, reserved
    u16(1), // frame_count per sample
    compressorName,
    u16(0x0018, 0xffff), // depth 24, pre_defined -1
  );
}

export interface Mp4Spec {
  width: number;
  height: number;
  durationSeconds: number;
  createdAtSeconds: number;
  /** Text stored in a `free` box: makes the bytes (and so the sha256) unique per job. */
  label: string;
  /** Deterministic filler for the mdat, so files have a realistic few-KB size. */
  filler: Buffer;
}

export function buildMp4(spec: Mp4Spec): Buffer {
  const created = (spec.createdAtSeconds + MP4_EPOCH_OFFSET) >>> 0;
  const duration = Math.round(spec.durationSeconds * TIMESCALE);
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(0x200), Buffer.from('isomiso2mp41', 'latin1'));
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(created, created, TIMESCALE, duration, 0x00010000), // times, timescale, duration, rate 1.0
    u16(0x0100, 0),
    u32(0, 0), // volume 1.0, reserved
    IDENTITY_MATRIX,
    Buffer.alloc(24), // pre_defined
    u32(2), // next_track_ID
  );
  const tkhd = fullBox(
    'tkhd',
    0,
    0x000003, // enabled + in movie
    u32(created, created, 1, 0, duration), // times, track_ID, reserved, duration
    u32(0, 0),
    u16(0, 0, 0, 0), // reserved, layer, alternate_group, volume (0 for video), reserved
    IDENTITY_MATRIX,
    u32(spec.width << 16, spec.height << 16),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(created, created, TIMESCALE, duration), u16(0x55c4, 0)); // language "und"
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    u32(0),
    Buffer.from('vide', 'latin1'),
    u32(0, 0, 0),
    Buffer.from('VideoHandler\0', 'latin1'),
  );
  const vmhd = fullBox('vmhd', 0, 1, u16(0, 0, 0, 0));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), visualSampleEntry(spec.width, spec.height)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', vmhd, dinf, stbl)));
  const moov = box('moov', mvhd, trak);
  const free = box('free', Buffer.from(spec.label, 'utf8'));
  const mdat = box('mdat', spec.filler);
  return Buffer.concat([ftyp, moov, free, mdat]);
}

/** True when `data` starts like an MP4 (an ftyp box first), the check an upload endpoint makes. */
export function looksLikeMp4(data: Buffer): boolean {
  return data.length >= 16 && data.toString('latin1', 4, 8) === 'ftyp' && data.readUInt32BE(0) <= data.length;
}
