/**
 * The bounding-box editor: `mount(root, config)` → { getResult, setResult, validate, onChange, destroy }.
 *
 * Pieces: ./state.js (boxes, undo, geometry, the view; no DOM), ./render.js (SVG
 * drawing), ./handlers.js (pointer and wheel). Keys are registered here, on the page's shared
 * shortcut registry (`config.shortcuts`), so the `?` overlay lists them.
 *
 * A box can be drawn without a mouse: Enter shows a crosshair in the middle of the image, the
 * arrows move it (Shift: 10 px), Enter anchors the first corner, the arrows stretch the box and
 * Enter anchors the opposite corner (the box takes the current label); Esc gives up.
 */

import { Shortcuts, isTyping } from "../js/lib/keyboard.js";
import { mediaBroken, reportBrokenMedia } from "../js/lib/media.js";
import { BoxRenderer } from "./render.js";
import { attachPointerHandlers } from "./handlers.js";
import { BoxState, clamp, fitView, rectFromPoints, toScreen, zoomAt } from "./state.js";

const ZOOM_STEP = 1.25;
const MIN_STAGE_HEIGHT = 240;
const GROUP = "Boxes";
const BROKEN = "The image did not load, so no box can be drawn on it: skip this task as broken media.";

export function mount(root, config) {
  const schema = config.schema || {};
  const data = config.data || {};
  const labels = schema.labels || [];
  const initial = config.initial_result || {};
  const state = new BoxState({
    width: data.width || null,
    height: data.height || null,
    labels,
    minSize: schema.min_size || 0,
    boxes: initial.boxes || [],
  });
  const ui = {
    view: { scale: 1, tx: 0, ty: 0 },
    fitted: true,
    hidden: false,
    crosshair: true,
    pointer: null,
    pointerImage: null,
    draft: null,
    currentLabel: labels[0] ? labels[0].name : "",
    // A box selected on purpose (clicked, or reached with [ ]): label keys relabel it. The box
    // just drawn is selected too (handles, Delete, arrows) but keys then choose the next label.
    picked: false,
    broken: false, // the image never loaded: nothing can be drawn
  };
  const stage = root.querySelector(".bbox-stage");
  const svg = root.querySelector(".bbox-svg");
  const image = root.querySelector(".bbox-image");
  const hintBox = root.querySelector(".bbox-hint");
  const keyMode = root.querySelector(".bbox-key-mode");
  const renderer = new BoxRenderer({ root, state, ui });
  const listeners = new Set();
  const shortcuts = config.shortcuts || new Shortcuts();
  const cleanups = [];
  let spaceHeld = false;
  let hintTimer = null;

  function emit() {
    const result = state.toResult();
    for (const listener of listeners) listener(result);
  }

  const editor = {
    svg,
    stage,
    state,
    ui,
    spaceHeld: () => spaceHeld,
    redraw(listChanged = false) {
      renderer.schedule(listChanged);
    },
    changed() {
      renderer.schedule(true);
      syncChips();
      emit();
    },
    hint(text) {
      clearTimeout(hintTimer);
      hintBox.textContent = text;
      hintBox.hidden = !text;
      if (text) hintTimer = setTimeout(() => editor.hint(""), 4000);
    },
  };

  // --- image size and the view --------------------------------------------------------------

  function stageSize() {
    return { width: svg.clientWidth, height: svg.clientHeight };
  }

  function fit() {
    const { width, height } = stageSize();
    ui.view = fitView(state.width, state.height, width, height);
    ui.fitted = true;
    renderer.schedule();
  }

  function zoomBy(factor) {
    const { width, height } = stageSize();
    ui.view = zoomAt(ui.view, factor, { x: width / 2, y: height / 2 });
    ui.fitted = false;
    renderer.schedule();
  }

  function sizeKnown(width, height) {
    state.setSize(width, height);
    image.setAttribute("width", String(width));
    image.setAttribute("height", String(height));
    fit();
    emit();
  }

  const probe = new Image();
  probe.addEventListener("load", () => {
    // An uploaded image's size was measured by the server (after EXIF rotation); a URL's is not.
    if (!state.width || !state.height) sizeKnown(probe.naturalWidth, probe.naturalHeight);
    root.dataset.ready = "true";
  });
  probe.addEventListener("error", () => {
    ui.broken = true;
    clearTimeout(hintTimer);
    hintBox.textContent = BROKEN;
    hintBox.hidden = false;
    reportBrokenMedia(root, BROKEN);
  });
  probe.src = data.image;
  if (state.width && state.height) {
    image.setAttribute("width", String(state.width));
    image.setAttribute("height", String(state.height));
  }

  // The stage takes the height left in the window: below it only the page's sticky footer
  // (`[data-editor-footer]`, e.g. the work screen's Submit bar), so the fitted image is never
  // under it, whatever the toolbars and banners above take.
  const side = root.querySelector(".bbox-side");
  function fitStageToWindow() {
    const footer = document.querySelector("[data-editor-footer]");
    const reserve = footer ? footer.getBoundingClientRect().height : 0;
    const top = stage.getBoundingClientRect().top + window.scrollY;
    const height = Math.max(MIN_STAGE_HEIGHT, Math.floor(window.innerHeight - top - reserve - 8));
    if (stage.style.height === `${height}px`) return;
    stage.style.height = `${height}px`;
    if (side) side.style.maxHeight = `${height}px`;
  }
  fitStageToWindow();
  window.addEventListener("resize", fitStageToWindow);
  cleanups.push(() => window.removeEventListener("resize", fitStageToWindow));

  const resize = new ResizeObserver(() => {
    if (ui.fitted) fit();
    else renderer.schedule();
  });
  resize.observe(svg);
  // Toolbars that wrap (or stop wrapping) move the stage: fit it again.
  const above = new ResizeObserver(() => fitStageToWindow());
  above.observe(root.querySelector(".editor-toolbar"));
  cleanups.push(() => resize.disconnect(), () => above.disconnect());
  cleanups.push(attachPointerHandlers(editor));

  // --- labels -------------------------------------------------------------------------------

  const chips = [...root.querySelectorAll(".label-chip")];
  for (const swatch of root.querySelectorAll(".swatch[data-colour]")) {
    swatch.style.background = swatch.dataset.colour;
  }

  function pickedBox() {
    return ui.picked ? state.selected : null;
  }

  function syncChips() {
    for (const chip of chips) {
      chip.setAttribute("aria-checked", String(chip.dataset.label === ui.currentLabel));
    }
    // Say what a label key will do now: choose the next box's label, or relabel the picked box.
    const picked = pickedBox();
    root.dataset.keyMode = picked ? "relabel" : "next";
    if (keyMode) {
      const index = state.boxes.indexOf(picked) + 1;
      keyMode.textContent = picked
        ? `Label keys relabel box ${index} (${picked.label}) · Esc to stop`
        : `Label keys choose the next box's label: ${ui.currentLabel}`;
    }
  }

  function chooseLabel(name) {
    ui.currentLabel = name;
    const picked = pickedBox();
    if (picked) state.relabel(picked.id, name);
    editor.changed();
  }

  // --- actions (buttons and keys) -----------------------------------------------------------

  const actions = {
    undo: () => state.undo() && editor.changed(),
    redo: () => state.redo() && editor.changed(),
    delete: () => state.remove() && editor.changed(),
    duplicate: () => {
      if (!state.duplicate()) return;
      ui.picked = true; // the copy is the box being worked on
      editor.changed();
    },
    "zoom-in": () => zoomBy(ZOOM_STEP),
    "zoom-out": () => zoomBy(1 / ZOOM_STEP),
    fit,
    "toggle-boxes": () => {
      ui.hidden = !ui.hidden;
      root.querySelector('[data-action="toggle-boxes"]').setAttribute("aria-pressed", String(ui.hidden));
      renderer.schedule();
    },
    "toggle-crosshair": () => {
      ui.crosshair = !ui.crosshair;
      root.querySelector('[data-action="toggle-crosshair"]').setAttribute("aria-pressed", String(ui.crosshair));
      renderer.schedule();
    },
  };

  function onClick(event) {
    const chip = event.target.closest(".label-chip");
    if (chip) return chooseLabel(chip.dataset.label);
    const button = event.target.closest("[data-action]");
    if (!button || !root.contains(button)) return;
    const item = button.closest(".bbox-item");
    if (button.dataset.action === "select-box" && item) {
      state.select(Number(item.dataset.boxId));
      ui.picked = true;
      editor.changed();
    } else if (button.dataset.action === "delete-box" && item) {
      state.remove(Number(item.dataset.boxId));
      editor.changed();
    } else if (actions[button.dataset.action]) {
      actions[button.dataset.action]();
    }
  }

  function onListChange(event) {
    const select = event.target.closest(".bbox-relabel");
    if (!select) return;
    state.relabel(Number(select.closest(".bbox-item").dataset.boxId), select.value);
    editor.changed();
  }

  root.addEventListener("click", onClick);
  root.addEventListener("change", onListChange);
  cleanups.push(() => root.removeEventListener("click", onClick));
  cleanups.push(() => root.removeEventListener("change", onListChange));

  function nudge(dx, dy) {
    if (!state.selected) return false;
    state.nudge(state.selectedId, dx, dy);
    editor.changed();
    return true;
  }

  const add = (keys, description, run) => cleanups.push(shortcuts.add({ keys, description, group: GROUP, run }));

  // --- drawing by keyboard: a crosshair moved by the arrows, corners anchored with Enter ------
  let keyDraw = null; // { point: {x, y}, anchor: {x, y} | null }, in image pixels

  function showKeyDraw() {
    ui.pointerImage = { ...keyDraw.point };
    ui.pointer = toScreen(ui.view, keyDraw.point);
    ui.draft = keyDraw.anchor ? rectFromPoints(keyDraw.anchor, keyDraw.point) : null;
    root.dataset.keyDrawing = keyDraw.anchor ? "corner" : "point";
    renderer.schedule();
  }

  function endKeyDraw() {
    keyDraw = null;
    ui.draft = null;
    ui.pointer = null;
    ui.pointerImage = null;
    delete root.dataset.keyDrawing;
    renderer.schedule();
  }

  function keyDrawStep(event) {
    const target = event.target;
    if (target instanceof Element && target.closest("button, a, summary, select, [role=button]")) return false;
    if (ui.broken || !state.width || !state.height) return false;
    if (!keyDraw) {
      const centre = { x: Math.round(state.width / 2), y: Math.round(state.height / 2) };
      keyDraw = { point: centre, anchor: null };
      ui.crosshair = true;
      editor.hint("Drawing by keyboard: arrows move the crosshair (Shift: 10 px), Enter anchors a corner, Esc gives up.");
    } else if (!keyDraw.anchor) {
      keyDraw.anchor = { ...keyDraw.point };
      editor.hint("First corner set: move to the opposite corner and press Enter.");
    } else {
      const made = state.add({ label: ui.currentLabel, ...rectFromPoints(keyDraw.anchor, keyDraw.point) });
      if (!made.ok) {
        editor.hint(made.reason);
        return true;
      }
      ui.picked = false;
      endKeyDraw();
      editor.changed();
      return true;
    }
    showKeyDraw();
    return true;
  }

  function keyDrawMove(event) {
    if (!keyDraw) return false;
    const step = event.shiftKey ? 10 : 1;
    const dx = { ArrowLeft: -step, ArrowRight: step }[event.key] || 0;
    const dy = { ArrowUp: -step, ArrowDown: step }[event.key] || 0;
    keyDraw.point = {
      x: clamp(keyDraw.point.x + dx, 0, state.width),
      y: clamp(keyDraw.point.y + dy, 0, state.height),
    };
    showKeyDraw();
    return true;
  }

  add(["enter"], "Draw a box by keyboard: show the crosshair, then anchor each corner", keyDrawStep);
  add(
    ["arrowleft", "arrowright", "arrowup", "arrowdown", "shift+arrowleft", "shift+arrowright", "shift+arrowup", "shift+arrowdown"],
    "While drawing by keyboard: move the crosshair (Shift: 10 px)",
    keyDrawMove,
  );
  add(["escape"], "Give up drawing by keyboard", () => {
    if (!keyDraw) return false;
    endKeyDraw();
    editor.hint("");
  });
  labels.forEach((label) => {
    if (label.hotkey) {
      add([String(label.hotkey)], `Label “${label.name}”: for the next box, or for the box you picked`, () =>
        chooseLabel(label.name));
    }
  });
  add(["ctrl+z", "meta+z"], "Undo", actions.undo);
  add(["ctrl+shift+z", "ctrl+y", "meta+shift+z"], "Redo", actions.redo);
  add(["delete", "backspace"], "Delete the selected box", actions.delete);
  add(["ctrl+d", "meta+d"], "Duplicate the selected box", actions.duplicate);
  const cycle = (step) => {
    state.cycle(step);
    ui.picked = Boolean(state.selected);
    editor.changed();
  };
  add(["]"], "Pick the next box (label keys then relabel it)", () => cycle(1));
  add(["["], "Pick the previous box", () => cycle(-1));
  add(["escape"], "Deselect", () => {
    if (!state.selected) return false;
    state.select(null);
    ui.picked = false;
    editor.changed();
  });
  add(["arrowleft"], "Move the selected box 1 px left", () => nudge(-1, 0));
  add(["arrowright"], "Move the selected box 1 px right", () => nudge(1, 0));
  add(["arrowup"], "Move the selected box 1 px up", () => nudge(0, -1));
  add(["arrowdown"], "Move the selected box 1 px down", () => nudge(0, 1));
  add(["shift+arrowleft"], "Move 10 px left", () => nudge(-10, 0));
  add(["shift+arrowright"], "Move 10 px right", () => nudge(10, 0));
  add(["shift+arrowup"], "Move 10 px up", () => nudge(0, -10));
  add(["shift+arrowdown"], "Move 10 px down", () => nudge(0, 10));
  add(["=", "+"], "Zoom in", actions["zoom-in"]);
  add(["-"], "Zoom out", actions["zoom-out"]);
  add(["f", "0"], "Fit the image to the screen", actions.fit);
  add(["h"], "Hide or show all boxes", actions["toggle-boxes"]);
  add(["c"], "Crosshair guides on or off", actions["toggle-crosshair"]);
  cleanups.push(shortcuts.add({ keys: ["space"], description: "Hold and drag to pan (or drag with the middle button)", group: GROUP }));
  cleanups.push(shortcuts.add({ keys: ["wheel"], description: "Mouse wheel: zoom around the cursor", group: GROUP }));

  function onKeyDown(event) {
    // Space pans, except where it types (the shared guard) or presses a button.
    if (event.code === "Space" && !isTyping(event.target) && !event.target.closest("button, select")) {
      spaceHeld = true;
      svg.classList.add("pan-ready");
      event.preventDefault();
    }
  }
  function onKeyUp(event) {
    if (event.code === "Space") {
      spaceHeld = false;
      svg.classList.remove("pan-ready");
    }
  }
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);
  cleanups.push(() => document.removeEventListener("keydown", onKeyDown));
  cleanups.push(() => document.removeEventListener("keyup", onKeyUp));

  syncChips();
  renderer.schedule(true);

  return {
    getResult: () => state.toResult(),
    setResult(result) {
      state.replace((result && result.boxes) || []);
      editor.changed();
    },
    validate: () =>
      mediaBroken(root) ? [BROKEN] : state.validate({ allowEmpty: schema.allow_empty !== false }),
    onChange(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      listeners.clear();
    },
    // For tests and for screens that need them (not part of the common contract):
    state,
    ui,
    fit,
    zoomBy,
  };
}
