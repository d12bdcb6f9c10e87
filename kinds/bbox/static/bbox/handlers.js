/**
 * Mouse input of the box editor, one handler per interaction: draw, move, resize, pan, zoom.
 *
 * Pointer positions are turned into image pixels through the view at the moment of the event, so
 * a box drawn at 300 % lands on the same image pixels as one drawn at 50 %.
 */

import {
  clampRect,
  hitTest,
  panBy,
  rectFromPoints,
  snapRect,
  toImage,
  zoomAt,
} from "./state.js";
import { HANDLE_SIZE } from "./render.js";

export function stagePoint(svg, event) {
  const bounds = svg.getBoundingClientRect();
  return { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
}

/**
 * Wire the pointer and wheel handlers. `editor` gives: state, ui (view, draft, pointer…),
 * changed(listChanged) to redraw and report, hint(text) to show a message, and spaceHeld().
 * Returns a function that removes every listener.
 */
export function attachPointerHandlers(editor) {
  const { svg, state, ui } = editor;
  let gesture = null;

  function imagePoint(event) {
    return toImage(ui.view, stagePoint(svg, event));
  }

  function onPointerDown(event) {
    if (event.button !== 0 && event.button !== 1) return;
    if (ui.broken) return;
    event.preventDefault();
    editor.stage.focus({ preventScroll: true });
    svg.setPointerCapture(event.pointerId);
    const start = stagePoint(svg, event);
    if (event.button === 1 || editor.spaceHeld()) {
      gesture = { kind: "pan", last: start };
      svg.classList.add("panning");
      return;
    }
    const point = toImage(ui.view, start);
    const hit = ui.hidden
      ? null
      : hitTest(state.boxes, point, {
          selectedId: state.selectedId,
          tolerance: HANDLE_SIZE / ui.view.scale,
        });
    if (hit) ui.picked = true; // a box clicked is a box chosen: label keys now relabel it
    if (hit && hit.part !== "body") {
      const box = state.find(hit.id);
      state.begin();
      gesture = { kind: "resize", id: hit.id, handle: hit.part, origin: { ...box } };
    } else if (hit) {
      const box = state.find(hit.id);
      state.select(hit.id);
      state.begin();
      gesture = { kind: "move", id: hit.id, origin: { ...box }, start: point };
    } else {
      state.select(null);
      ui.picked = false;
      gesture = { kind: "draw", start: point };
    }
    editor.changed(true);
  }

  function onPointerMove(event) {
    const stage = stagePoint(svg, event);
    ui.pointer = stage;
    ui.pointerImage = toImage(ui.view, stage);
    if (!gesture) {
      editor.redraw();
      return;
    }
    const point = ui.pointerImage;
    if (gesture.kind === "pan") {
      ui.view = panBy(ui.view, stage.x - gesture.last.x, stage.y - gesture.last.y);
      ui.fitted = false;
      gesture.last = stage;
    } else if (gesture.kind === "draw") {
      const rect = rectFromPoints(gesture.start, point);
      ui.draft = { ...rect, refused: Boolean(state.refusal(snapRect(clampRect(rect, state.width, state.height)))) };
    } else if (gesture.kind === "move") {
      state.dragMove(gesture.id, gesture.origin, point.x - gesture.start.x, point.y - gesture.start.y);
    } else if (gesture.kind === "resize") {
      state.dragResize(gesture.id, gesture.origin, gesture.handle, point);
    }
    editor.redraw(gesture.kind === "move" || gesture.kind === "resize");
  }

  function onPointerUp(event) {
    if (!gesture) return;
    const done = gesture;
    gesture = null;
    svg.classList.remove("panning");
    if (svg.hasPointerCapture(event.pointerId)) svg.releasePointerCapture(event.pointerId);
    if (done.kind === "draw") {
      ui.draft = null;
      const rect = rectFromPoints(done.start, imagePoint(event));
      if (rect.w === 0 && rect.h === 0) {
        editor.changed(true);
        return; // a click on empty image only deselects
      }
      const added = state.add({ label: ui.currentLabel, ...rect });
      editor.hint(added.ok ? "" : added.reason);
      editor.changed(true);
    } else if (done.kind === "move" || done.kind === "resize") {
      state.commit();
      editor.changed(true);
    } else {
      editor.redraw();
    }
  }

  function onPointerCancel() {
    if (gesture && (gesture.kind === "move" || gesture.kind === "resize")) state.cancel();
    gesture = null;
    ui.draft = null;
    editor.changed(true);
  }

  function onPointerLeave() {
    ui.pointer = null;
    ui.pointerImage = null;
    editor.redraw();
  }

  function onWheel(event) {
    event.preventDefault();
    const factor = Math.exp(-event.deltaY * 0.0015);
    ui.view = zoomAt(ui.view, factor, stagePoint(svg, event));
    ui.fitted = false;
    editor.redraw();
  }

  svg.addEventListener("pointerdown", onPointerDown);
  svg.addEventListener("pointermove", onPointerMove);
  svg.addEventListener("pointerup", onPointerUp);
  svg.addEventListener("pointercancel", onPointerCancel);
  svg.addEventListener("pointerleave", onPointerLeave);
  svg.addEventListener("wheel", onWheel, { passive: false });
  return () => {
    svg.removeEventListener("pointerdown", onPointerDown);
    svg.removeEventListener("pointermove", onPointerMove);
    svg.removeEventListener("pointerup", onPointerUp);
    svg.removeEventListener("pointercancel", onPointerCancel);
    svg.removeEventListener("pointerleave", onPointerLeave);
    svg.removeEventListener("wheel", onWheel);
  };
}
