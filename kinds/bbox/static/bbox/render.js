/**
 * Drawing the box editor: an SVG over the image (see ../README.md for why SVG, not canvas).
 *
 * The image sits in a group transformed by the view (image pixels → stage pixels); boxes, handles,
 * labels and the crosshair are drawn in stage pixels from the state, so strokes and handles keep
 * their size at any zoom. `render()` redraws everything; it is cheap for the few hundred boxes an
 * image holds and runs at most once per animation frame.
 */

import { HANDLES, handlePoints, toScreen } from "./state.js";

const SVG = "http://www.w3.org/2000/svg";
export const HANDLE_SIZE = 8;

function el(name, attrs = {}, classes = "") {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (classes) node.setAttribute("class", classes);
  return node;
}

function screenRect(view, box) {
  const a = toScreen(view, { x: box.x, y: box.y });
  const b = toScreen(view, { x: box.x + box.w, y: box.y + box.h });
  return { x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y };
}

export class BoxRenderer {
  constructor({ root, state, ui }) {
    this.root = root;
    this.state = state;
    this.ui = ui; // { view, hidden, crosshair, pointer, draft, currentLabel }
    this.svg = root.querySelector(".bbox-svg");
    this.viewGroup = root.querySelector(".bbox-view");
    this.overlay = root.querySelector(".bbox-overlay");
    this.list = root.querySelector(".bbox-list");
    this.count = root.querySelector(".bbox-count");
    this.zoomLabel = root.querySelector(".bbox-zoom");
    this.cursorLabel = root.querySelector(".bbox-cursor");
    this.frame = null;
    this.colours = new Map(state.labels.map((label) => [label.name, label.colour]));
    this.onListRendered = null;
  }

  colour(label) {
    return this.colours.get(label) || "#888888";
  }

  /** Redraw at the next frame; `listChanged` also rebuilds the list (not on every pointer move). */
  schedule(listChanged = false) {
    this.listDirty = this.listDirty || listChanged;
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  render() {
    const { view } = this.ui;
    this.viewGroup.setAttribute(
      "transform",
      `translate(${view.tx} ${view.ty}) scale(${view.scale})`,
    );
    this.renderOverlay();
    if (this.listDirty !== false) this.renderList();
    this.listDirty = false;
    this.renderStatus();
  }

  renderOverlay() {
    const { view, hidden, draft, crosshair, pointer } = this.ui;
    const nodes = [];
    if (!hidden) {
      for (const box of this.state.boxes) {
        const r = screenRect(view, box);
        const selected = box.id === this.state.selectedId;
        const picked = selected && this.ui.picked ? " picked" : "";
        const group = el("g", { "data-box-id": box.id }, `bbox-box${selected ? " selected" : ""}${picked}`);
        group.dataset.testid = "box";
        const rect = el("rect", { x: r.x, y: r.y, width: Math.max(r.w, 0), height: Math.max(r.h, 0) });
        rect.style.stroke = this.colour(box.label);
        const tag = el("text", { x: r.x + 3, y: r.y - 4 }, "bbox-tag");
        tag.textContent = box.label;
        tag.style.fill = this.colour(box.label);
        group.append(rect, tag);
        if (selected) {
          const points = handlePoints(box);
          for (const handle of HANDLES) {
            const p = toScreen(view, points[handle]);
            const half = HANDLE_SIZE / 2;
            const knob = el(
              "rect",
              { x: p.x - half, y: p.y - half, width: HANDLE_SIZE, height: HANDLE_SIZE },
              `bbox-handle handle-${handle}`,
            );
            knob.dataset.handle = handle;
            group.append(knob);
          }
        }
        nodes.push(group);
      }
    }
    if (draft) {
      const r = screenRect(view, draft);
      const rect = el("rect", { x: r.x, y: r.y, width: r.w, height: r.h }, "bbox-draft");
      rect.style.stroke = this.colour(this.ui.currentLabel);
      if (draft.refused) rect.classList.add("refused");
      nodes.push(rect);
    }
    if (crosshair && pointer) {
      const width = this.svg.clientWidth;
      const height = this.svg.clientHeight;
      nodes.push(el("line", { x1: 0, x2: width, y1: pointer.y, y2: pointer.y }, "bbox-crosshair"));
      nodes.push(el("line", { x1: pointer.x, x2: pointer.x, y1: 0, y2: height }, "bbox-crosshair"));
    }
    this.overlay.replaceChildren(...nodes);
  }

  renderList() {
    const items = this.state.boxes.map((box, i) => {
      const li = document.createElement("li");
      const selected = box.id === this.state.selectedId;
      li.className = `bbox-item${selected ? " selected" : ""}${selected && this.ui.picked ? " picked" : ""}`;
      li.dataset.boxId = box.id;
      li.dataset.testid = "box-item";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = this.colour(box.label);
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "link bbox-pick";
      pick.dataset.action = "select-box";
      pick.textContent = `${i + 1}. ${box.label}`;
      const coords = document.createElement("span");
      coords.className = "bbox-coords";
      coords.textContent = `${box.x}, ${box.y} · ${box.w} × ${box.h}`;
      const select = document.createElement("select");
      select.className = "bbox-relabel";
      select.setAttribute("aria-label", `Label of box ${i + 1}`);
      for (const label of this.state.labels) {
        const option = document.createElement("option");
        option.value = label.name;
        option.textContent = label.name;
        option.selected = label.name === box.label;
        select.append(option);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link danger";
      remove.dataset.action = "delete-box";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete box ${i + 1}`);
      li.append(swatch, pick, coords, select, remove);
      return li;
    });
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "help";
      li.textContent = "No boxes yet: drag on the image to draw one.";
      items.push(li);
    }
    this.list.replaceChildren(...items);
    this.count.textContent = String(this.state.boxes.length);
  }

  renderStatus() {
    const { view, pointerImage } = this.ui;
    this.zoomLabel.textContent = `${Math.round(view.scale * 100)}%`;
    this.cursorLabel.textContent = pointerImage
      ? `x ${Math.round(pointerImage.x)}, y ${Math.round(pointerImage.y)}`
      : "";
  }
}
