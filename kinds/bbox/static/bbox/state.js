/**
 * The box editor's state and geometry: pure functions and one class, no DOM.
 *
 * Every coordinate here is in original-image pixels (origin top-left), whatever the zoom. Boxes are
 * snapped to whole pixels as they are drawn, moved or resized, so what the screen shows is exactly
 * what the result holds. The view (zoom and pan) maps image pixels to stage pixels:
 * `screen = image * scale + (tx, ty)`.
 */

export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
export const MIN_SCALE = 0.05;
export const MAX_SCALE = 40;
const HISTORY_LIMIT = 500;

export function clamp(value, low, high) {
  return Math.min(Math.max(value, low), high);
}

/** The rectangle spanned by two corner points, in any order. */
export function rectFromPoints(a, b) {
  return {
    x: Math.min(a.x, b.x),
    y: Math.min(a.y, b.y),
    w: Math.abs(a.x - b.x),
    h: Math.abs(a.y - b.y),
  };
}

/** Snap a rectangle's edges to whole pixels (edges, not width, so nothing drifts). */
export function snapRect(rect) {
  const x = Math.round(rect.x);
  const y = Math.round(rect.y);
  return { x, y, w: Math.round(rect.x + rect.w) - x, h: Math.round(rect.y + rect.h) - y };
}

/** Cut a rectangle to the image: its edges are clamped to [0, width] × [0, height]. */
export function clampRect(rect, width, height) {
  if (!width || !height) return { ...rect };
  const x0 = clamp(rect.x, 0, width);
  const y0 = clamp(rect.y, 0, height);
  const x1 = clamp(rect.x + rect.w, 0, width);
  const y1 = clamp(rect.y + rect.h, 0, height);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Move a rectangle by (dx, dy), keeping it whole inside the image. */
export function moveRect(rect, dx, dy, width, height) {
  let x = rect.x + dx;
  let y = rect.y + dy;
  if (width && height) {
    x = clamp(x, 0, Math.max(0, width - rect.w));
    y = clamp(y, 0, Math.max(0, height - rect.h));
  }
  return { ...rect, x: Math.round(x), y: Math.round(y) };
}

/** The eight handle points of a rectangle. */
export function handlePoints(rect) {
  const { x, y, w, h } = rect;
  return {
    nw: { x, y }, n: { x: x + w / 2, y }, ne: { x: x + w, y },
    e: { x: x + w, y: y + h / 2 }, se: { x: x + w, y: y + h },
    s: { x: x + w / 2, y: y + h }, sw: { x, y: y + h }, w: { x, y: y + h / 2 },
  };
}

/**
 * Drag one handle of `rect` to `point`: the opposite edges stay; the moved edge stops at the image
 * border and `minSize` pixels short of the opposite edge (a box cannot be turned inside out).
 */
export function resizeRect(rect, handle, point, { width, height, minSize = 1 }) {
  const size = Math.max(1, minSize);
  let left = rect.x;
  let top = rect.y;
  let right = rect.x + rect.w;
  let bottom = rect.y + rect.h;
  const maxX = width || Infinity;
  const maxY = height || Infinity;
  if (handle.includes("w")) left = clamp(Math.round(point.x), 0, right - size);
  if (handle.includes("e")) right = clamp(Math.round(point.x), left + size, maxX);
  if (handle.includes("n")) top = clamp(Math.round(point.y), 0, bottom - size);
  if (handle.includes("s")) bottom = clamp(Math.round(point.y), top + size, maxY);
  return { ...rect, x: left, y: top, w: right - left, h: bottom - top };
}

/**
 * What lies under `point` (image pixels): a handle of the selected box, else the smallest box that
 * contains the point (so a box inside another stays reachable). `tolerance` is in image pixels.
 */
export function hitTest(boxes, point, { selectedId = null, tolerance = 4 } = {}) {
  const selected = boxes.find((box) => box.id === selectedId);
  if (selected) {
    const points = handlePoints(selected);
    for (const handle of HANDLES) {
      const p = points[handle];
      if (Math.abs(p.x - point.x) <= tolerance && Math.abs(p.y - point.y) <= tolerance) {
        return { id: selected.id, part: handle };
      }
    }
  }
  let best = null;
  for (const box of boxes) {
    const inside =
      point.x >= box.x - tolerance / 2 && point.x <= box.x + box.w + tolerance / 2 &&
      point.y >= box.y - tolerance / 2 && point.y <= box.y + box.h + tolerance / 2;
    if (inside && (!best || box.w * box.h < best.w * best.h)) best = box;
  }
  return best ? { id: best.id, part: "body" } : null;
}

// --- the view: zoom and pan ------------------------------------------------------------------

export function toImage(view, point) {
  return { x: (point.x - view.tx) / view.scale, y: (point.y - view.ty) / view.scale };
}

export function toScreen(view, point) {
  return { x: point.x * view.scale + view.tx, y: point.y * view.scale + view.ty };
}

/** Zoom by `factor` keeping the image point under `anchor` (stage pixels) where it is. */
export function zoomAt(view, factor, anchor) {
  const scale = clamp(view.scale * factor, MIN_SCALE, MAX_SCALE);
  const ratio = scale / view.scale;
  return {
    scale,
    tx: anchor.x - (anchor.x - view.tx) * ratio,
    ty: anchor.y - (anchor.y - view.ty) * ratio,
  };
}

export function panBy(view, dx, dy) {
  return { ...view, tx: view.tx + dx, ty: view.ty + dy };
}

/** The view that shows the whole image centred in a stage of `stageWidth` × `stageHeight`. */
export function fitView(width, height, stageWidth, stageHeight, margin = 0.96) {
  if (!width || !height || !stageWidth || !stageHeight) return { scale: 1, tx: 0, ty: 0 };
  const scale = clamp(Math.min(stageWidth / width, stageHeight / height) * margin, MIN_SCALE, MAX_SCALE);
  return { scale, tx: (stageWidth - width * scale) / 2, ty: (stageHeight - height * scale) / 2 };
}

// --- the boxes, with undo and redo ----------------------------------------------------------

/**
 * The boxes of one image. Every change that a person makes is one step of undo: simple changes
 * record themselves; a drag calls `begin()` at the start and `commit()` at the end.
 */
export class BoxState {
  constructor({ width = null, height = null, labels = [], minSize = 0, boxes = [] } = {}) {
    this.width = width;
    this.height = height;
    this.labels = labels;
    this.minSize = minSize || 0;
    this.nextId = 1;
    this.boxes = [];
    this.selectedId = null;
    this.undoStack = [];
    this.redoStack = [];
    this.pending = null;
    this.replace(boxes, { record: false });
  }

  setSize(width, height) {
    this.width = width;
    this.height = height;
  }

  get selected() {
    return this.boxes.find((box) => box.id === this.selectedId) || null;
  }

  find(id) {
    return this.boxes.find((box) => box.id === id) || null;
  }

  isLabel(name) {
    return this.labels.some((label) => label.name === name);
  }

  snapshot() {
    return JSON.stringify(this.boxes.map(({ id, label, x, y, w, h }) => ({ id, label, x, y, w, h })));
  }

  restore(snapshot) {
    this.boxes = JSON.parse(snapshot);
    if (!this.find(this.selectedId)) this.selectedId = null;
  }

  record(before) {
    if (before === this.snapshot()) return false;
    this.undoStack.push(before);
    if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
    this.redoStack = [];
    return true;
  }

  /** Run `change()` as one undo step; returns whether anything changed. */
  change(change) {
    const before = this.snapshot();
    change();
    return this.record(before);
  }

  begin() {
    this.pending = this.snapshot();
  }

  commit() {
    if (this.pending === null) return false;
    const before = this.pending;
    this.pending = null;
    return this.record(before);
  }

  /** Abandon a drag: put the boxes back as they were at `begin()`. */
  cancel() {
    if (this.pending === null) return;
    this.restore(this.pending);
    this.pending = null;
  }

  undo() {
    if (!this.undoStack.length) return false;
    this.redoStack.push(this.snapshot());
    this.restore(this.undoStack.pop());
    return true;
  }

  redo() {
    if (!this.redoStack.length) return false;
    this.undoStack.push(this.snapshot());
    this.restore(this.redoStack.pop());
    return true;
  }

  /** Why a rectangle cannot be a box ("" when it can). */
  refusal(rect) {
    const size = Math.max(1, this.minSize);
    if (rect.w < size || rect.h < size) {
      return `Too small: a box is at least ${size} × ${size} pixels (this one is ${rect.w} × ${rect.h}).`;
    }
    return "";
  }

  /** Add a box (clamped to the image, snapped to pixels) unless it is below the minimum size. */
  add({ label, ...rect }) {
    const cleaned = snapRect(clampRect(rect, this.width, this.height));
    const reason = this.refusal(cleaned);
    if (reason) return { ok: false, reason, rect: cleaned };
    const box = { id: this.nextId++, label, ...cleaned };
    this.change(() => {
      this.boxes.push(box);
      this.selectedId = box.id;
    });
    return { ok: true, box };
  }

  remove(id = this.selectedId) {
    if (!this.find(id)) return false;
    return this.change(() => {
      this.boxes = this.boxes.filter((box) => box.id !== id);
      if (this.selectedId === id) this.selectedId = null;
    });
  }

  relabel(id, label) {
    const box = this.find(id);
    if (!box || !this.isLabel(label) || box.label === label) return false;
    return this.change(() => {
      box.label = label;
    });
  }

  /** A copy of a box, 10 px right and down (kept inside the image), selected. */
  duplicate(id = this.selectedId) {
    const box = this.find(id);
    if (!box) return null;
    const moved = moveRect(box, 10, 10, this.width, this.height);
    const copy = { ...moved, id: this.nextId++ };
    this.change(() => {
      this.boxes.push(copy);
      this.selectedId = copy.id;
    });
    return copy;
  }

  nudge(id, dx, dy) {
    const box = this.find(id);
    if (!box) return false;
    return this.change(() => Object.assign(box, moveRect(box, dx, dy, this.width, this.height)));
  }

  /** During a drag: put a box at `origin` moved by (dx, dy). Call between begin() and commit(). */
  dragMove(id, origin, dx, dy) {
    const box = this.find(id);
    if (box) Object.assign(box, moveRect(origin, dx, dy, this.width, this.height));
  }

  /** During a drag: a handle of a box moved to `point`. Call between begin() and commit(). */
  dragResize(id, origin, handle, point) {
    const box = this.find(id);
    if (!box) return;
    const resized = resizeRect(origin, handle, point, {
      width: this.width,
      height: this.height,
      minSize: this.minSize,
    });
    Object.assign(box, resized);
  }

  select(id) {
    this.selectedId = this.find(id) ? id : null;
  }

  /** Select the next (step 1) or previous (step -1) box in list order. */
  cycle(step) {
    if (!this.boxes.length) return;
    const index = this.boxes.findIndex((box) => box.id === this.selectedId);
    const next = index < 0 ? (step > 0 ? 0 : this.boxes.length - 1)
      : (index + step + this.boxes.length) % this.boxes.length;
    this.selectedId = this.boxes[next].id;
  }

  /** Replace all boxes (e.g. from a prediction); one undo step unless `record` is false. */
  replace(boxes, { record = true } = {}) {
    const before = this.snapshot();
    this.boxes = (boxes || []).map((box) => ({
      id: this.nextId++,
      label: box.label,
      x: Number(box.x), y: Number(box.y), w: Number(box.w), h: Number(box.h),
    }));
    this.selectedId = null;
    if (record) this.record(before);
    else this.undoStack = [];
  }

  /** The result, in the public shape: boxes in image pixels, with the image's natural size. */
  toResult() {
    const result = { boxes: this.boxes.map(({ label, x, y, w, h }) => ({ label, x, y, w, h })) };
    if (this.width && this.height) {
      result.width = this.width;
      result.height = this.height;
    }
    return result;
  }

  /** Problems that would stop a submission, in words. */
  validate({ allowEmpty = true } = {}) {
    const messages = [];
    if (!allowEmpty && !this.boxes.length) {
      messages.push("Draw at least one box: this project does not accept empty images.");
    }
    this.boxes.forEach((box, i) => {
      if (!this.isLabel(box.label)) messages.push(`Box ${i + 1} has no valid label.`);
      const reason = this.refusal(box);
      if (reason) messages.push(`Box ${i + 1}: ${reason}`);
    });
    return messages;
  }
}
