/**
 * The contact sheet: one labelled frame per scene in a grid, drawn in JS with the pixel font
 * (common/frames.ts), so the same scenes always give the same pixels. Tiles have the episode's
 * shape (long side at most 320 px); each scene's frame is letterboxed into its tile and labelled
 * with its scene number, provider and take.
 */
import { Frame, LINE_PITCH, wrap, type Rgb } from '../../common/frames';
import { even, fitInside, type Size } from './plan';

const TILE_LONG_SIDE = 320;
const MAX_WIDTH = 1280;
const GAP = 8;
/** Room under a tile: the scene number (font scale 2) and `provider, take n` (scale 1). */
const LABEL_HEIGHT = 4 + 2 * LINE_PITCH + 2 + LINE_PITCH + 4;

const BACKGROUND: Rgb = [24, 24, 28];
const LETTERBOX: Rgb = [0, 0, 0];
const WHITE: Rgb = [240, 240, 240];
const ACCENT: Rgb = [255, 210, 90];

export interface SheetLayout extends Size {
  tile: Size;
  columns: number;
  rows: number;
}

/** The grid for `count` scenes of an episode whose frames are `frame`: as many columns as fit in 1280 px. */
export function contactSheetLayout(count: number, frame: Size): SheetLayout {
  const scale = Math.min(1, TILE_LONG_SIDE / Math.max(frame.width, frame.height));
  const tile = { width: even(frame.width * scale), height: even(frame.height * scale) };
  const columns = Math.max(1, Math.min(count, Math.floor((MAX_WIDTH - GAP) / (tile.width + GAP))));
  const rows = Math.ceil(count / columns);
  return {
    tile,
    columns,
    rows,
    width: columns * (tile.width + GAP) + GAP,
    height: rows * (tile.height + LABEL_HEIGHT + GAP) + GAP,
  };
}

export interface SheetScene {
  index: number;
  take: number;
  provider: string;
  /** Its poster frame: any size, best tileFrame's. */
  frame: Frame;
}

/** `frame` as big as it is drawn in a tile of the sheet for an episode of `episodeFrame`s (letterboxed). */
export function tileFrame(frame: Frame, episodeFrame: Size): Frame {
  const picture = fitInside(frame, contactSheetLayout(1, episodeFrame).tile);
  return frame.resized(picture.width, picture.height);
}

export function drawContactSheet(scenes: SheetScene[], episodeFrame: Size): Frame {
  const layout = contactSheetLayout(scenes.length, episodeFrame);
  const { tile } = layout;
  const sheet = new Frame(layout.width, layout.height);
  sheet.rect(0, 0, sheet.width, sheet.height, BACKGROUND);
  scenes.forEach((scene, i) => {
    const x = GAP + (i % layout.columns) * (tile.width + GAP);
    const y = GAP + Math.floor(i / layout.columns) * (tile.height + LABEL_HEIGHT + GAP);
    sheet.rect(x, y, tile.width, tile.height, LETTERBOX);
    const fits = scene.frame.width <= tile.width && scene.frame.height <= tile.height;
    const picture = fits ? scene.frame : tileFrame(scene.frame, episodeFrame);
    sheet.paste(
      picture,
      x + Math.floor((tile.width - picture.width) / 2),
      y + Math.floor((tile.height - picture.height) / 2),
    );
    const [title] = wrap(`SCENE ${scene.index}`, tile.width, 2, 1);
    sheet.text(x, y + tile.height + 4, title ?? '', 2, WHITE);
    const [detail] = wrap(`${scene.provider}, take ${scene.take}`, tile.width, 1, 1);
    sheet.text(x, y + tile.height + 4 + 2 * LINE_PITCH + 2, detail ?? '', 1, ACCENT);
  });
  return sheet;
}
