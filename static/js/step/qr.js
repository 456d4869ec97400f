// A small QR code encoder: byte mode (UTF-8), error correction L or M, versions 1-40.
// Written for the share link of the step page, so the page needs no third-party code.
// Follows ISO/IEC 18004: Reed-Solomon over GF(256) (polynomial 0x11d), block interleaving,
// the eight masks scored by the four penalty rules, BCH-coded format and version information.

// Per version 1..40: [ec codewords per block, blocks in group 1, data codewords each,
// (blocks in group 2, data codewords each)].
const BLOCKS = {
  L: [[7,1,19],[10,1,34],[15,1,55],[20,1,80],[26,1,108],[18,2,68],[20,2,78],[24,2,97],[30,2,116],[18,2,68,2,69],[20,4,81],[24,2,92,2,93],[26,4,107],[30,3,115,1,116],[22,5,87,1,88],[24,5,98,1,99],[28,1,107,5,108],[30,5,120,1,121],[28,3,113,4,114],[28,3,107,5,108],[28,4,116,4,117],[28,2,111,7,112],[30,4,121,5,122],[30,6,117,4,118],[26,8,106,4,107],[28,10,114,2,115],[30,8,122,4,123],[30,3,117,10,118],[30,7,116,7,117],[30,5,115,10,116],[30,13,115,3,116],[30,17,115],[30,17,115,1,116],[30,13,115,6,116],[30,12,121,7,122],[30,6,121,14,122],[30,17,122,4,123],[30,4,122,18,123],[30,20,117,4,118],[30,19,118,6,119]],
  M: [[10,1,16],[16,1,28],[26,1,44],[18,2,32],[24,2,43],[16,4,27],[18,4,31],[22,2,38,2,39],[22,3,36,2,37],[26,4,43,1,44],[30,1,50,4,51],[22,6,36,2,37],[22,8,37,1,38],[24,4,40,5,41],[24,5,41,5,42],[28,7,45,3,46],[28,10,46,1,47],[26,9,43,4,44],[26,3,44,11,45],[26,3,41,13,42],[26,17,42],[28,17,46],[28,4,47,14,48],[28,6,45,14,46],[28,8,47,13,48],[28,19,46,4,47],[28,22,45,3,46],[28,3,45,23,46],[28,21,45,7,46],[28,19,47,10,48],[28,2,46,29,47],[28,10,46,23,47],[28,14,46,21,47],[28,14,46,23,47],[28,12,47,26,48],[28,6,47,34,48],[28,29,46,14,47],[28,13,46,32,47],[28,40,47,7,48],[28,18,47,31,48]],
};
const FORMAT_LEVEL = { L: 1, M: 0 };

// ---- GF(256) arithmetic ----
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let v = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = v;
    LOG[v] = i;
    v <<= 1;
    if (v & 0x100) v ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
}
const gfMul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

function generator(degree) {
  // Coefficients of prod_{i<degree} (x - a^i), highest power first, leading 1 dropped.
  let poly = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array(poly.length + 1).fill(0);
    for (let j = 0; j < poly.length; j++) {
      next[j] ^= poly[j];
      next[j + 1] ^= gfMul(poly[j], EXP[i]);
    }
    poly = next;
  }
  return poly.slice(1);
}

function remainder(data, gen) {
  const rem = new Array(gen.length).fill(0);
  for (const byte of data) {
    const factor = byte ^ rem.shift();
    rem.push(0);
    for (let i = 0; i < gen.length; i++) rem[i] ^= gfMul(gen[i], factor);
  }
  return rem;
}

// ---- capacity ----
function layout(version, level) {
  const [ec, n1, d1, n2 = 0, d2 = 0] = BLOCKS[level][version - 1];
  return { ec, groups: [[n1, d1], [n2, d2]], data: n1 * d1 + n2 * d2 };
}

function countBits(version) {
  return version < 10 ? 8 : 16;
}

/** The smallest version (1..maxVersion) that holds `length` bytes, or 0 if none does. */
export function pickVersion(length, level = "M", maxVersion = 40) {
  for (let v = 1; v <= maxVersion; v++) {
    if (4 + countBits(v) + 8 * length <= layout(v, level).data * 8) return v;
  }
  return 0;
}

function codewords(bytes, version, level) {
  const { ec, groups, data } = layout(version, level);
  const bits = [];
  const push = (value, n) => { for (let i = n - 1; i >= 0; i--) bits.push((value >>> i) & 1); };
  push(0b0100, 4);
  push(bytes.length, countBits(version));
  for (const b of bytes) push(b, 8);
  const capacity = data * 8;
  push(0, Math.min(4, capacity - bits.length));
  while (bits.length % 8) bits.push(0);
  const out = [];
  for (let i = 0; i < bits.length; i += 8) {
    out.push(bits.slice(i, i + 8).reduce((acc, b) => (acc << 1) | b, 0));
  }
  for (let pad = 0xec; out.length < data; pad ^= 0xec ^ 0x11) out.push(pad);

  const gen = generator(ec);
  const dataBlocks = [];
  const ecBlocks = [];
  let at = 0;
  for (const [count, size] of groups) {
    for (let i = 0; i < count; i++) {
      const block = out.slice(at, at + size);
      at += size;
      dataBlocks.push(block);
      ecBlocks.push(remainder(block, gen));
    }
  }
  const result = [];
  const longest = Math.max(...dataBlocks.map((b) => b.length));
  for (let i = 0; i < longest; i++) for (const b of dataBlocks) if (i < b.length) result.push(b[i]);
  for (let i = 0; i < ec; i++) for (const b of ecBlocks) result.push(b[i]);
  return result;
}

// ---- the matrix ----
function alignmentPositions(version, size) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const step = version === 32 ? 26 : Math.ceil((version * 4 + 4) / (count * 2 - 2)) * 2;
  const result = [6];
  for (let pos = size - 7; result.length < count; pos -= step) result.splice(1, 0, pos);
  return result;
}

const MASKS = [
  (x, y) => (x + y) % 2 === 0,
  (x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

class Grid {
  constructor(version) {
    this.version = version;
    this.size = version * 4 + 17;
    this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.fixed = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
  }
  set(x, y, dark) {
    this.dark[y][x] = dark;
    this.fixed[y][x] = true;
  }
  drawPatterns() {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      this.set(6, i, i % 2 === 0);
      this.set(i, 6, i % 2 === 0);
    }
    for (const [cx, cy] of [[3, 3], [n - 4, 3], [3, n - 4]]) {
      for (let dy = -4; dy <= 4; dy++) {
        for (let dx = -4; dx <= 4; dx++) {
          const x = cx + dx;
          const y = cy + dy;
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          const d = Math.max(Math.abs(dx), Math.abs(dy));
          this.set(x, y, d !== 2 && d !== 4);
        }
      }
    }
    const pos = alignmentPositions(this.version, n);
    const last = pos.length - 1;
    pos.forEach((cy, i) => pos.forEach((cx, j) => {
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          this.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
        }
      }
    }));
    this.drawFormat("M", 0); // reserves the modules; redrawn with the chosen mask
    if (this.version >= 7) {
      let rem = this.version;
      for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
      const bits = (this.version << 12) | rem;
      for (let i = 0; i < 18; i++) {
        const bit = ((bits >>> i) & 1) === 1;
        const a = n - 11 + (i % 3);
        const b = Math.floor(i / 3);
        this.set(a, b, bit);
        this.set(b, a, bit);
      }
    }
  }
  drawFormat(level, mask) {
    const n = this.size;
    const data = (FORMAT_LEVEL[level] << 3) | mask;
    let rem = data;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const bits = ((data << 10) | rem) ^ 0x5412;
    const bit = (i) => ((bits >>> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.set(n - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, n - 15 + i, bit(i));
    this.set(8, n - 8, true);
  }
  drawData(words) {
    const n = this.size;
    let i = 0;
    const total = words.length * 8;
    for (let right = n - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      const upward = ((right + 1) & 2) === 0;
      for (let v = 0; v < n; v++) {
        const y = upward ? n - 1 - v : v;
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          if (this.fixed[y][x]) continue;
          this.dark[y][x] = i < total && ((words[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
          i++;
        }
      }
    }
  }
  applyMask(mask) {
    const test = MASKS[mask];
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        if (!this.fixed[y][x] && test(x, y)) this.dark[y][x] = !this.dark[y][x];
      }
    }
  }
  penalty() {
    const n = this.size;
    const m = this.dark;
    let score = 0;
    const line = (get) => {
      let run = 1;
      for (let i = 1; i <= n; i++) {
        if (i < n && get(i) === get(i - 1)) run++;
        else {
          if (run >= 5) score += run - 2;
          run = 1;
        }
      }
      const finder = [1, 0, 1, 1, 1, 0, 1];
      for (let i = 0; i + 7 <= n; i++) {
        if (!finder.every((f, k) => get(i + k) === (f === 1))) continue;
        const lightBefore = [1, 2, 3, 4].every((k) => i - k < 0 || !get(i - k));
        const lightAfter = [0, 1, 2, 3].every((k) => i + 7 + k >= n || !get(i + 7 + k));
        if (lightBefore || lightAfter) score += 40;
      }
    };
    for (let y = 0; y < n; y++) line((x) => m[y][x]);
    for (let x = 0; x < n; x++) line((y) => m[y][x]);
    let darkCount = 0;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        if (m[y][x]) darkCount++;
        if (x + 1 < n && y + 1 < n && m[y][x] === m[y][x + 1] && m[y][x] === m[y + 1][x]
            && m[y][x] === m[y + 1][x + 1]) score += 3;
      }
    }
    const percent = (darkCount * 100) / (n * n);
    score += Math.floor(Math.abs(percent - 50) / 5) * 10;
    return score;
  }
}

/**
 * Encode `text` (UTF-8, byte mode) and return {version, size, mask, level, modules}, where
 * modules[row][col] is true for a dark module. Throws RangeError when it does not fit.
 * `mask` forces one of the eight masks (tests compare with other encoders that way).
 */
export function encodeQR(text, { level = "M", minVersion = 1, maxVersion = 40, mask = null } = {}) {
  if (!(level in BLOCKS)) throw new RangeError(`QR level must be L or M, got ${level}`);
  const bytes = new TextEncoder().encode(text);
  let version = 0;
  for (let v = Math.max(1, minVersion); v <= maxVersion; v++) {
    if (4 + countBits(v) + 8 * bytes.length <= layout(v, level).data * 8) { version = v; break; }
  }
  if (!version) throw new RangeError(`text of ${bytes.length} bytes is too long for a QR code`);
  const words = codewords(bytes, version, level);
  const base = new Grid(version);
  base.drawPatterns();
  base.drawData(words);
  let best = null;
  for (let k = 0; k < 8; k++) {
    if (mask !== null && k !== mask) continue;
    const grid = new Grid(version);
    grid.dark = base.dark.map((row) => row.slice());
    grid.fixed = base.fixed;
    grid.applyMask(k);
    grid.drawFormat(level, k);
    const score = mask !== null ? 0 : grid.penalty();
    if (!best || score < best.score) best = { score, grid, mask: k };
  }
  return { version, size: best.grid.size, mask: best.mask, level, modules: best.grid.dark };
}

/** Paint a QR code on a canvas with a quiet zone of four modules. */
export function drawQR(canvas, qr, { scale = 6, dark = "#000", light = "#fff" } = {}) {
  const quiet = 4;
  const side = (qr.size + 2 * quiet) * scale;
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = light;
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = dark;
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (qr.modules[y][x]) ctx.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
    }
  }
}
