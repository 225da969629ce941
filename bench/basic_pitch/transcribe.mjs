#!/usr/bin/env node
// bench/basic_pitch/transcribe.mjs: runs Spotify's Basic Pitch (@spotify/basic-pitch, model +
// note creation) with TensorFlow.js's WebAssembly backend on WAV files and writes one MAPS-style
// note list per input (OnsetTime\tOffsetTime\tMidiPitch, seconds).
//
//   node transcribe.mjs [--out DIR [--rel-to ROOT]] [--threads N] [--onset 0.5] [--frame 0.3]
//                       [--min-frames 11] [--no-warmup] IN.wav...
//
// Inputs: WAV, 22050 Hz (the model's rate; resample beforehand, e.g. `sox IN -r 22050 -c 1
// OUT.wav`), 16/24/32-bit PCM or 32/64-bit float; more than one channel is averaged to mono
// (what Basic Pitch itself does). Output: DIR/NAME.txt for IN = .../NAME.wav, or with
// --rel-to ROOT DIR/SUB/NAME.txt for IN = ROOT/SUB/NAME.wav (keeps a MAPS tree's layout so
// `amt-eval notes` can match by relative path); without --out nothing is written.
//
// Note creation = outputToNotesPoly(frames, onsets, onset, frame, minFrames) (inferOnsets,
// melodiaTrick and energyTolerance 11 at their defaults) -> addPitchBendsToNoteEvents ->
// noteFramesToTime, as in the package README. Thresholds default to Basic Pitch's Python
// predict() defaults: onset 0.5, frame 0.3, minimum note length 127.70 ms = 11 frames at
// 22050/256 frames/s (the JS function's own default minNoteLen is 5 frames).
//
// Timing: "wall_s" per file = model (framing, inference, reading outputs back) + note creation,
// measured with performance.now() around those calls only; Node start-up, WASM backend
// initialisation, model load and one warm-up window of silence (reported as load_s /
// warmup_s) are excluded; WAV reading and TSV writing are excluded too. The model.json and
// weights are read from node_modules/@spotify/basic-pitch/model on disk (no network).
// cpu_s = the process's user + system CPU seconds over the same span (process.cpuUsage; all of
// node's threads), a figure less sensitive than wall_s to other jobs sharing the CPU.
// Prints one JSON object on stdout.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const bp = require('@spotify/basic-pitch');

const SAMPLE_RATE = 22050;          // Basic Pitch's model rate (Hz)
const FPS = SAMPLE_RATE / 256;      // model frames per second (hop 256)
const WARMUP_SECONDS = 2;           // silence run once before timing

function usage(msg) {
  if (msg) process.stderr.write(`transcribe.mjs: ${msg}\n`);
  process.stderr.write('usage: node transcribe.mjs [--out DIR [--rel-to ROOT]] [--threads N] [--onset P] ' +
    '[--frame P] [--min-frames N] [--no-warmup] IN.wav...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { out: null, relTo: null, threads: 1, onset: 0.5, frame: 0.3, minFrames: 11, warmup: true,
              files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--out') o.out = val();
    else if (a === '--rel-to') o.relTo = val();
    else if (a === '--threads') o.threads = parseInt(val(), 10);
    else if (a === '--onset') o.onset = parseFloat(val());
    else if (a === '--frame') o.frame = parseFloat(val());
    else if (a === '--min-frames') o.minFrames = parseInt(val(), 10);
    else if (a === '--no-warmup') o.warmup = false;
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (!o.files.length) usage('no input files');
  if (!(o.threads >= 1)) usage('--threads must be >= 1');
  return o;
}

// readWav(path) -> Float32Array of mono samples at 22050 Hz; throws with the file name.
function readWav(path) {
  const b = readFileSync(path);
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${path}: not a RIFF/WAVE file`);
  let fmt = null, data = null;
  for (let p = 12; p + 8 <= b.length;) {
    const id = b.toString('ascii', p, p + 4);
    let size = b.readUInt32LE(p + 4);
    if (p + 8 + size > b.length) size = b.length - p - 8;   // tolerate a truncated last chunk
    if (id === 'fmt ') {
      let tag = b.readUInt16LE(p + 8);
      if (tag === 0xFFFE && size >= 26) tag = b.readUInt16LE(p + 8 + 24);   // WAVE_FORMAT_EXTENSIBLE
      fmt = { tag, channels: b.readUInt16LE(p + 10), rate: b.readUInt32LE(p + 12),
              bits: b.readUInt16LE(p + 22) };
    } else if (id === 'data') {
      data = b.subarray(p + 8, p + 8 + size);
    }
    p += 8 + size + (size & 1);
  }
  if (!fmt || !data) throw new Error(`${path}: no fmt or data chunk`);
  if (fmt.rate !== SAMPLE_RATE)
    throw new Error(`${path}: ${fmt.rate} Hz, Basic Pitch needs ${SAMPLE_RATE} Hz (resample with sox first)`);
  const bytes = fmt.bits / 8, ch = fmt.channels;
  const n = Math.floor(data.length / (bytes * ch));
  const read = fmt.tag === 3 && fmt.bits === 32 ? (o) => data.readFloatLE(o)
    : fmt.tag === 3 && fmt.bits === 64 ? (o) => data.readDoubleLE(o)
    : fmt.tag === 1 && fmt.bits === 16 ? (o) => data.readInt16LE(o) / 32768
    : fmt.tag === 1 && fmt.bits === 24 ? (o) => data.readIntLE(o, 3) / 8388608
    : fmt.tag === 1 && fmt.bits === 32 ? (o) => data.readInt32LE(o) / 2147483648
    : null;
  if (!read) throw new Error(`${path}: unsupported WAV encoding (format ${fmt.tag}, ${fmt.bits} bits)`);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < ch; c++) s += read((i * ch + c) * bytes);
    x[i] = s / ch;
  }
  return x;
}

// The graph model from the package's files on disk (an IOHandler, so tfjs does no fetch).
function loadModel() {
  const dir = join(dirname(require.resolve('@spotify/basic-pitch/package.json')), 'model');
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const specs = [], bufs = [];
  for (const g of json.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) bufs.push(readFileSync(join(dir, p)));
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy,
      convertedBy: json.convertedBy, signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
      weightSpecs: specs, weightData,
    }),
  };
  return { model: tf.loadGraphModel(handler), dir };
}

// transcribe(basicPitch, audio, opt) -> note list (NoteEventTime[]); model + note creation.
async function transcribe(basicPitch, audio, opt) {
  const frames = [], onsets = [], contours = [];
  await basicPitch.evaluateModel(audio, (f, o, c) => {
    frames.push(...f); onsets.push(...o); contours.push(...c);
  }, () => {});
  return bp.noteFramesToTime(bp.addPitchBendsToNoteEvents(contours,
    bp.outputToNotesPoly(frames, onsets, opt.onset, opt.frame, opt.minFrames)));
}

function writeTsv(path, notes) {
  const rows = notes
    .map((n) => [n.startTimeSeconds, n.startTimeSeconds + n.durationSeconds, n.pitchMidi])
    .sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  const lines = ['OnsetTime\tOffsetTime\tMidiPitch'];
  for (const [on, off, p] of rows) lines.push(`${on.toFixed(6)}\t${off.toFixed(6)}\t${p}`);
  writeFileSync(path, lines.join('\n') + '\n');
}

// tfjs-backend-wasm 3.21.0's Fill kernel needs an explicit dtype, but tf.signal.frame (used by
// BasicPitch.prepareData to pad the last window) calls fill() without one; the CPU backend then
// infers it from the value (a number -> float32). Re-register Fill with that same default.
function patchWasmFill() {
  const k = tf.getKernel('Fill', 'wasm');
  if (!k) return;
  tf.unregisterKernel('Fill', 'wasm');
  tf.registerKernel({ ...k, kernelFunc: (args) => k.kernelFunc({ ...args,
    attrs: { ...args.attrs, dtype: args.attrs.dtype || (typeof args.attrs.value === 'string' ? 'string' : 'float32') } }) });
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  wasm.setThreadsCount(opt.threads);       // must precede setBackend('wasm')
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  await tf.ready();
  patchWasmFill();
  const { model, dir } = loadModel();
  const basicPitch = new bp.BasicPitch(model);
  await basicPitch.model;
  const loadS = (performance.now() - t0) / 1000;
  let warmupS = 0;
  if (opt.warmup) {
    const t1 = performance.now();
    await transcribe(basicPitch, new Float32Array(WARMUP_SECONDS * SAMPLE_RATE), opt);
    warmupS = (performance.now() - t1) / 1000;
  }
  if (opt.out) mkdirSync(opt.out, { recursive: true });
  const files = [];
  let audioTotal = 0, wallTotal = 0, cpuTotal = 0, failed = 0;
  for (const f of opt.files) {
    let audio;
    const sub = opt.relTo ? dirname(relative(opt.relTo, f)) : '.';
    try {
      if (sub.startsWith('..')) throw new Error(`${f}: not under --rel-to ${opt.relTo}`);
      audio = readWav(f);
    } catch (e) {
      process.stderr.write(`transcribe.mjs: ${e.message}\n`); failed++; continue;
    }
    const c = process.cpuUsage();
    const t = performance.now();
    const notes = await transcribe(basicPitch, audio, opt);
    const wall = (performance.now() - t) / 1000;
    const cu = process.cpuUsage(c);
    const cpu = (cu.user + cu.system) / 1e6;
    const sec = audio.length / SAMPLE_RATE;
    audioTotal += sec; wallTotal += wall; cpuTotal += cpu;
    const rec = { file: f, audio_s: +sec.toFixed(3), wall_s: +wall.toFixed(3), cpu_s: +cpu.toFixed(3),
                  x_real_time: +(sec / wall).toFixed(2), notes: notes.length };
    if (opt.out) {
      mkdirSync(join(opt.out, sub), { recursive: true });
      rec.tsv = join(opt.out, sub, basename(f).replace(/\.wav$/i, '') + '.txt');
      writeTsv(rec.tsv, notes);
    }
    files.push(rec);
  }
  const out = {
    system: 'basic-pitch',
    versions: { '@spotify/basic-pitch': require('@spotify/basic-pitch/package.json').version,
                '@tensorflow/tfjs': tf.version.tfjs,
                '@tensorflow/tfjs-backend-wasm': wasm.version_wasm, node: process.version },
    backend: tf.getBackend(), threads_requested: opt.threads, threads: wasm.getThreadsCount(),
    wasm_simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    model_dir: dir,
    thresholds: { onset: opt.onset, frame: opt.frame, min_note_frames: opt.minFrames,
                  min_note_ms: +(1000 * opt.minFrames / FPS).toFixed(2) },
    timing_note: 'wall_s = model + note creation per file; excludes node start-up, backend init, ' +
                 'model load (load_s), one warm-up window (warmup_s), WAV reading and TSV writing',
    load_s: +loadS.toFixed(3), warmup_s: +warmupS.toFixed(3),
    audio_s: +audioTotal.toFixed(3), wall_s: +wallTotal.toFixed(3),
    x_real_time: wallTotal > 0 ? +(audioTotal / wallTotal).toFixed(2) : null,
    real_time_factor: audioTotal > 0 ? +(wallTotal / audioTotal).toFixed(4) : null,
    cpu_s: +cpuTotal.toFixed(3),
    x_real_time_cpu: cpuTotal > 0 ? +(audioTotal / cpuTotal).toFixed(2) : null,
    files_ok: files.length, files_failed: failed, files,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`transcribe.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
