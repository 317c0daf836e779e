// A minimal PNG reader for tests: 8-bit greyscale, RGB or RGBA, not interlaced (what Chromium
// and plotly write). Enough to tell a picture from a blank.

/** Decoded pixels: `channels` bytes per pixel, row by row. */
export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decodes a PNG's pixels. */
export async function decodePng(png: Uint8Array): Promise<Pixels> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!signature.every((b, i) => png[i] === b)) {
    throw new TypeError("Cannot decode PNG: bad signature");
  }
  let offset = 8;
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(png.subarray(offset + 4, offset + 8));
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = bodyView.getUint32(0);
      height = bodyView.getUint32(4);
      const [depth, colorType, , , interlace] = body.subarray(8, 13);
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType!] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) {
        throw new TypeError(
          `Cannot decode PNG: unsupported format (depth ${depth}, type ${colorType})`,
        );
      }
    } else if (type === "IDAT") idat.push(body);
    offset += 12 + length;
  }
  const raw = await inflate(new Uint8Array(idat.flatMap((c) => [...c])));
  const stride = width * channels;
  const data = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? data[y * stride + x - channels]! : 0;
      const b = y > 0 ? data[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      data[y * stride + x] = (src[x]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, data };
}

/**
 * How much of a picture is not its background (the colour of its top-left pixel), and how many
 * distinct colours it has: a blank image scores 0 and 1.
 */
export function inkStats(pixels: Pixels): { inkFraction: number; colors: number } {
  const { data, channels } = pixels;
  const key = (i: number) => Array.from(data.subarray(i, i + Math.min(channels, 3))).join(",");
  const background = key(0);
  const colors = new Set<string>();
  let ink = 0;
  const n = data.length / channels;
  for (let i = 0; i < data.length; i += channels) {
    const k = key(i);
    if (k !== background) ink++;
    if (colors.size < 1000) colors.add(k);
  }
  return { inkFraction: ink / n, colors: colors.size };
}
