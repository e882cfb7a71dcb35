/**
 * What ffprobe finds in a media file. `probeMedia` decodes every frame of its first video stream:
 * decoding, not just reading headers, since a file cut short or scrambled in its middle still has a
 * valid header (the `moov` comes first in a fast-start MP4) and only fails frame by frame.
 * `probeLayout` reads the headers of its streams, which is what deciding how to join files needs.
 */
import { MediaToolError, runMediaTool, type MediaToolOptions } from './media-tools';

export interface ProbedVideo {
  codec: string;
  width: number;
  height: number;
  /** Width over height as displayed: sample aspect ratio and a quarter-turn rotation applied. */
  displayAspect: number;
  /** Frames ffprobe decoded. */
  decodedFrames: number;
  /** Frames the container says it holds, where it says so. */
  declaredFrames?: number;
}

export interface MediaProbe {
  /** The first video stream, if ffprobe found one. */
  video?: ProbedVideo;
  /** Container duration (else the stream's), if known. */
  durationSeconds?: number;
  /** Demuxer and decoder errors (ffprobe at `-v error`), or why the file could not be opened. */
  errors: string[];
}

interface ProbeJson {
  streams?: Array<{
    codec_name?: string;
    width?: number;
    height?: number;
    sample_aspect_ratio?: string;
    nb_frames?: string;
    nb_read_frames?: string;
    duration?: string;
    side_data_list?: Array<{ rotation?: number }>;
  }>;
  format?: { duration?: string };
}

const ENTRIES =
  'stream=codec_name,width,height,sample_aspect_ratio,nb_frames,nb_read_frames,duration' +
  ':stream_side_data=rotation:format=duration';

const number = (text: string | undefined): number | undefined => {
  const value = text === undefined ? NaN : Number(text);
  return Number.isFinite(value) ? value : undefined;
};

function ratio(text: string | undefined): number {
  const match = /^(\d+):(\d+)$/.exec(text ?? '');
  const value = match ? Number(match[1]) / Number(match[2]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : 1; // 0:1 means unknown, i.e. square
}

export async function probeMedia(path: string, options: MediaToolOptions = {}): Promise<MediaProbe> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', ENTRIES];
  let stdout: Buffer;
  let stderr: string;
  try {
    ({ stdout, stderr } = await runMediaTool('ffprobe', [...args, '-of', 'json', path], undefined, options));
  } catch (err) {
    if (err instanceof MediaToolError) return { errors: lines(err.stderr, 'ffprobe could not open the file') };
    throw err;
  }
  const json = JSON.parse(stdout.toString('utf8')) as ProbeJson;
  const stream = json.streams?.[0];
  const durationSeconds = number(json.format?.duration) ?? number(stream?.duration);
  const probe: MediaProbe = { errors: lines(stderr), ...(durationSeconds !== undefined ? { durationSeconds } : {}) };
  if (!stream?.codec_name || !stream.width || !stream.height) return probe;
  const rotation = stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
  const aspect = (stream.width * ratio(stream.sample_aspect_ratio)) / stream.height;
  const declaredFrames = number(stream.nb_frames);
  probe.video = {
    codec: stream.codec_name,
    width: stream.width,
    height: stream.height,
    displayAspect: Math.abs(rotation) % 180 === 90 ? 1 / aspect : aspect,
    decodedFrames: number(stream.nb_read_frames) ?? 0,
    ...(declaredFrames !== undefined ? { declaredFrames } : {}),
  };
  return probe;
}

function lines(text: string, fallback?: string): string[] {
  const found = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return found.length === 0 && fallback ? [fallback] : found;
}

/** A file's streams as its headers describe them: what joining files without re-encoding needs to be equal. */
export interface MediaLayout {
  video?: {
    codec: string;
    width: number;
    height: number;
    /** Sample aspect ratio (1 for square pixels). */
    pixelAspect: number;
    pixelFormat: string;
    /** As ffprobe writes it, exact: `30000/1001`. */
    frameRate: string;
    /** sha256 of the codec's private data (H.264's SPS and PPS): decoders of a joined stream get only one. */
    codecData: string;
  };
  audio?: { codec: string; sampleRate: number; channels: number; codecData: string };
  durationSeconds?: number;
}

interface LayoutJson {
  streams?: Array<{
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    sample_aspect_ratio?: string;
    pix_fmt?: string;
    r_frame_rate?: string;
    sample_rate?: string;
    channels?: number;
    extradata_hash?: string;
  }>;
  format?: { duration?: string };
}

const LAYOUT_ENTRIES =
  'stream=codec_type,codec_name,width,height,sample_aspect_ratio,pix_fmt,r_frame_rate,sample_rate,channels,extradata_hash' +
  ':format=duration';

/** The first video and audio stream from the headers only (quick: nothing is decoded); throws MediaToolError. */
export async function probeLayout(path: string, options: MediaToolOptions = {}): Promise<MediaLayout> {
  const args = ['-v', 'error', '-show_data_hash', 'sha256', '-show_entries', LAYOUT_ENTRIES, '-of', 'json', path];
  const { stdout } = await runMediaTool('ffprobe', args, undefined, options);
  const json = JSON.parse(stdout.toString('utf8')) as LayoutJson;
  const video = json.streams?.find((s) => s.codec_type === 'video' && s.codec_name && s.width && s.height);
  const audio = json.streams?.find((s) => s.codec_type === 'audio' && s.codec_name);
  const durationSeconds = number(json.format?.duration);
  return {
    ...(video
      ? {
          video: {
            codec: video.codec_name!,
            width: video.width!,
            height: video.height!,
            pixelAspect: ratio(video.sample_aspect_ratio),
            pixelFormat: video.pix_fmt ?? '',
            frameRate: video.r_frame_rate ?? '',
            codecData: video.extradata_hash ?? '',
          },
        }
      : {}),
    ...(audio
      ? {
          audio: {
            codec: audio.codec_name!,
            sampleRate: number(audio.sample_rate) ?? 0,
            channels: audio.channels ?? 0,
            codecData: audio.extradata_hash ?? '',
          },
        }
      : {}),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
  };
}
