// Shrinks chosen photos in the browser and sends them to the app one piece at a time.
// Each piece waits for the app to acknowledge the one before (the app passes the last piece it
// took back as `data.ack`), so no piece is lost to a rerun and each message stays small.
const PIECE_CHARS = 4 * 1024 * 1024; // base64 characters per message, far under Streamlit's 25 MB state limit
const MAX_FILE_BYTES = 20 * 1024 * 1024; // the app's limit: files at or over it are not read
const ACK_TIMEOUT_MS = 120000;
const LOSSLESS_TYPES = new Set(["image/png", "image/webp", "image/gif"]);
const pickers = new Map(); // component key -> {send, data, waiting, busy}

export default function (component) {
  const { data, key, parentElement, setTriggerValue, setStateValue } = component;
  const picker = pickers.get(key) || { waiting: null, busy: false };
  pickers.set(key, picker);
  picker.send = setTriggerValue;
  picker.data = data || {};
  if (picker.waiting && picker.data.ack === picker.waiting.id) {
    const { resolve } = picker.waiting;
    picker.waiting = null;
    resolve();
  }
  if (typeof createImageBitmap !== "function" || typeof FileReader !== "function") {
    setStateValue("unsupported", true);
    return;
  }
  const input = parentElement.querySelector("[data-input]");
  const zone = parentElement.querySelector("[data-zone]");
  const hint = parentElement.querySelector("[data-hint]");
  hint.textContent = picker.data.hint || "";
  if (input.dataset.bound) return;
  input.dataset.bound = "1";
  parentElement.querySelector(".picker").dataset.ready = "1"; // files chosen from now on are taken
  input.addEventListener("change", () => {
    const files = Array.from(input.files || []);
    input.value = "";
    start(picker, parentElement, files);
  });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    start(picker, parentElement, Array.from(event.dataTransfer.files || []));
  });
}

async function start(picker, root, files) {
  if (!files.length || picker.busy) return;
  picker.busy = true;
  const list = root.querySelector("[data-list]");
  list.replaceChildren();
  const rows = files.map((file) => addRow(list, file.name));
  const batch = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (let index = 0; index < files.length; index++) {
      await sendFile(picker, batch, index, files.length, files[index], rows[index]);
    }
  } catch (error) {
    rows.forEach((row) => { if (!row.done) row.state.textContent = "not sent"; });
    console.error("image picker:", error);
  } finally {
    picker.busy = false;
  }
}

function addRow(list, name) {
  const item = document.createElement("li");
  const label = document.createElement("span");
  label.className = "name";
  label.textContent = name; // a file name is shown as plain text
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = 0;
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = "waiting";
  item.append(label, bar, state);
  list.append(item);
  return { bar, state, done: false };
}

async function sendFile(picker, batch, index, count, file, row) {
  const about = { batch, index, count, name: file.name, size: file.size, type: file.type || "" };
  if (file.size >= MAX_FILE_BYTES) {
    await sendPieces(picker, { ...about, kind: "too_big" }, "", row);
    return finish(row, "too large");
  }
  row.state.textContent = "shrinking";
  let shrunk = null;
  if (picker.data.max_side) {
    try {
      shrunk = await shrink(file, picker.data.max_side);
    } catch (error) {
      shrunk = null; // not decodable here (TIFF, HEIF, a broken file): the app reads the original
    }
  }
  if (shrunk && shrunk.blob.size < file.size) {
    const { blob, width, height, originalWidth, originalHeight } = shrunk;
    const payload = { ...about, kind: "shrunk", mime: blob.type, width, height, original_width: originalWidth, original_height: originalHeight };
    await sendPieces(picker, payload, await toBase64(blob), row);
  } else {
    await sendPieces(picker, { ...about, kind: "original", mime: file.type || "" }, await toBase64(file), row);
  }
  finish(row, shrunk && shrunk.blob.size < file.size ? "sent" : "sent as is");
}

function finish(row, text) {
  row.done = true;
  row.bar.value = 1;
  row.state.textContent = text;
}

async function sendPieces(picker, payload, text, row) {
  const parts = Math.max(1, Math.ceil(text.length / PIECE_CHARS));
  row.state.textContent = "sending";
  for (let part = 0; part < parts; part++) {
    const id = `${payload.batch}:${payload.index}:${part}`;
    const acknowledged = new Promise((resolve, reject) => {
      picker.waiting = { id, resolve };
      setTimeout(() => reject(new Error(`no answer for ${id}`)), ACK_TIMEOUT_MS);
    });
    picker.send("piece", { ...payload, id, part, parts, data: text.slice(part * PIECE_CHARS, (part + 1) * PIECE_CHARS) });
    await acknowledged;
    row.bar.value = (part + 1) / parts;
  }
}

function canvasOf(width, height) {
  if (typeof OffscreenCanvas === "function") return new OffscreenCanvas(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function drawScaled(source, width, height) {
  const canvas = canvasOf(width, height);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(source, 0, 0, width, height);
  return canvas;
}

async function shrink(file, maxSide) {
  // The browser applies the EXIF orientation while decoding, so what is sent is upright.
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const originalWidth = bitmap.width;
  const originalHeight = bitmap.height;
  const scale = Math.min(1, maxSide / Math.max(originalWidth, originalHeight));
  const width = Math.max(1, Math.round(originalWidth * scale));
  const height = Math.max(1, Math.round(originalHeight * scale));
  // Halving steps, then the last step to the size sent: one big step would skip most pixels.
  let source = bitmap;
  let w = originalWidth;
  let h = originalHeight;
  while (w / 2 >= width && h / 2 >= height) {
    w = Math.round(w / 2);
    h = Math.round(h / 2);
    source = drawScaled(source, w, h);
  }
  const canvas = drawScaled(source, width, height);
  bitmap.close();
  // PNG only when the picture really has transparency, seen in the alpha channel after drawing
  // (a PNG/WebP/GIF may well be opaque); everything else is sent as JPEG at quality 0.9.
  const type = LOSSLESS_TYPES.has(file.type) && hasTransparency(canvas) ? "image/png" : "image/jpeg";
  const blob = await toBlob(canvas, type, 0.9);
  return { blob, width, height, originalWidth, originalHeight };
}

function hasTransparency(canvas) {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) {
    if (pixels[i] < 255) return true;
  }
  return false;
}

function toBlob(canvas, type, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encoding failed"))), type, quality));
}

function toBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
