/**
 * The transcription editor: `mount(root, config)` → { getResult, setResult, validate, onChange, destroy }.
 *
 * Audio: a player driven by Alt combinations (so typing in the transcript is never interrupted),
 * a waveform decoded in the browser (Web Audio, `OfflineAudioContext.decodeAudioData`) and drawn on
 * a canvas, click to seek; optional time segments set from the playhead. Images: the picture with
 * zoom (Alt+= / Alt+- / Alt+0, wheel) and drag to pan. The transcript starts from the prediction,
 * else from the machine draft (`data.draft`).
 */

import { Shortcuts } from "../js/lib/keyboard.js";
import { mediaBroken, reportBrokenMedia } from "../js/lib/media.js";

const GROUP = "Transcription";
const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
const SKIP_SECONDS = 2;
const BROKEN_AUDIO = "The clip did not load, so it cannot be transcribed: skip this task as broken media.";
const BROKEN_IMAGE = "The image did not load, so it cannot be transcribed: skip this task as broken media.";

function clock(seconds) {
  const safe = Number.isFinite(seconds) ? Math.max(0, seconds) : 0;
  const minutes = Math.floor(safe / 60);
  return `${minutes}:${(safe - minutes * 60).toFixed(1).padStart(4, "0")}`;
}

const round = (seconds) => Math.round(seconds * 1000) / 1000;

export function mount(root, config) {
  const schema = config.schema || {};
  const data = config.data || {};
  const shortcuts = config.shortcuts || new Shortcuts();
  const listeners = new Set();
  const cleanups = [];
  const text = root.querySelector(".tx-text");
  const audio = root.querySelector(".tx-audio");
  const segmentList = root.querySelector(".tx-segments");
  let segments = [];
  let current = -1;

  function getResult() {
    const result = { text: text.value };
    if (schema.segments) result.segments = segments.map((segment) => ({ ...segment }));
    return result;
  }

  function emit() {
    const result = getResult();
    for (const listener of listeners) listener(result);
  }

  const add = (keys, description, run) =>
    cleanups.push(shortcuts.add({ keys, description, group: GROUP, run, inInputs: true }));
  const listen = (target, type, handler, options) => {
    target.addEventListener(type, handler, options);
    cleanups.push(() => target.removeEventListener(type, handler, options));
  };
  listen(text, "input", emit);

  // --- audio ----------------------------------------------------------------------------------

  let peaks = null;
  if (audio) {
    const canvas = root.querySelector(".tx-waveform");
    const timeLabel = root.querySelector(".tx-time");
    const speedLabel = root.querySelector(".tx-speed");

    const seek = (seconds) => {
      const end = Number.isFinite(audio.duration) ? audio.duration : Infinity;
      audio.currentTime = Math.min(Math.max(0, seconds), end);
      draw();
    };
    const toggle = () => (audio.paused ? audio.play().catch(() => {}) : audio.pause());
    const speed = (step) => {
      const index = SPEEDS.indexOf(audio.playbackRate);
      const next = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, (index < 0 ? 2 : index) + step))];
      audio.playbackRate = next;
      speedLabel.textContent = `${next}×`;
    };

    function draw() {
      const width = canvas.clientWidth;
      const height = canvas.clientHeight;
      if (!width || !height) return;
      const ratio = window.devicePixelRatio || 1;
      if (canvas.width !== Math.round(width * ratio)) {
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
      }
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, width, height);
      const duration = audio.duration;
      const known = Number.isFinite(duration) && duration > 0;
      if (known) {
        ctx.fillStyle = "rgba(59, 91, 219, .15)";
        for (const segment of segments) {
          if (segment.end === null) continue;
          ctx.fillRect((segment.start / duration) * width, 0, ((segment.end - segment.start) / duration) * width, height);
        }
      }
      if (peaks) {
        ctx.fillStyle = "#5f6b7a";
        const middle = height / 2;
        for (let x = 0; x < width; x += 1) {
          const peak = peaks[Math.floor((x / width) * peaks.length)] || 0;
          ctx.fillRect(x, middle - peak * middle, 1, Math.max(1, peak * height));
        }
      }
      if (known) {
        const x = (audio.currentTime / duration) * width;
        ctx.fillStyle = "#c92a2a";
        ctx.fillRect(x - 1, 0, 2, height);
      }
      timeLabel.textContent = `${clock(audio.currentTime)} / ${clock(audio.duration)}`;
    }

    async function loadWaveform() {
      try {
        const response = await fetch(audio.currentSrc || audio.src, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const blob = await response.blob();
        // Play from the downloaded bytes: seeking then works whether or not the server answers
        // Range requests, and the file is fetched once for both the player and the waveform.
        const position = audio.currentTime;
        audio.src = URL.createObjectURL(blob);
        cleanups.push(() => URL.revokeObjectURL(audio.src));
        audio.currentTime = position;
        const decoded = await new OfflineAudioContext(1, 1, 44100).decodeAudioData(await blob.arrayBuffer());
        const samples = decoded.getChannelData(0);
        const buckets = 1000;
        const size = Math.max(1, Math.floor(samples.length / buckets));
        const found = new Float32Array(buckets);
        let loudest = 0;
        for (let b = 0; b < buckets; b += 1) {
          let max = 0;
          for (let i = b * size; i < Math.min(samples.length, (b + 1) * size); i += 1) {
            max = Math.max(max, Math.abs(samples[i]));
          }
          found[b] = max;
          loudest = Math.max(loudest, max);
        }
        peaks = found.map((peak) => (loudest ? peak / loudest : 0));
        await new Promise((resolve) => {
          if (audio.readyState >= 1) resolve();
          else audio.addEventListener("loadedmetadata", resolve, { once: true });
        });
        root.dataset.waveform = "ready";
      } catch {
        // A URL on another origin cannot be fetched under the CSP: play it without a waveform.
        root.dataset.waveform = "unavailable";
      }
      draw();
    }

    // A clip that fails to load (missing, or not audio the browser can play) is broken media.
    const broken = () => reportBrokenMedia(root, BROKEN_AUDIO);
    if (audio.error) broken();
    listen(audio, "error", broken);

    listen(canvas, "click", (event) => {
      const bounds = canvas.getBoundingClientRect();
      if (Number.isFinite(audio.duration)) seek(((event.clientX - bounds.left) / bounds.width) * audio.duration);
    });
    let frame = null;
    const tick = () => {
      draw();
      frame = audio.paused ? null : requestAnimationFrame(tick);
    };
    listen(audio, "play", () => { if (frame === null) frame = requestAnimationFrame(tick); });
    for (const type of ["pause", "seeked", "loadedmetadata", "durationchange", "ratechange"]) listen(audio, type, draw);
    const resize = new ResizeObserver(draw);
    resize.observe(canvas);
    cleanups.push(() => resize.disconnect());

    const actions = {
      play: toggle,
      back: () => seek(audio.currentTime - SKIP_SECONDS),
      forward: () => seek(audio.currentTime + SKIP_SECONDS),
      slower: () => speed(-1),
      faster: () => speed(1),
    };
    listen(root, "click", (event) => {
      const button = event.target.closest("[data-action]");
      if (button && actions[button.dataset.action]) actions[button.dataset.action]();
    });
    add(["alt+k", "ctrl+space"], "Play or pause", toggle);
    add(["alt+j"], `Back ${SKIP_SECONDS} s`, actions.back);
    add(["alt+l"], `Forward ${SKIP_SECONDS} s`, actions.forward);
    add(["alt+,"], "Slower (down to 0.5×)", actions.slower);
    add(["alt+."], "Faster (up to 2×)", actions.faster);
    add(["alt+0"], "Normal speed", () => { audio.playbackRate = 1; speedLabel.textContent = "1×"; });

    if (schema.segments) {
      add(["alt+["], "New segment starting at the playhead", () => {
        const start = round(audio.currentTime);
        segments = segments.filter((segment) => segment.end !== null || segment.start !== start);
        segments.push({ start, end: null, text: "" });
        segments.sort((a, b) => a.start - b.start);
        current = segments.findIndex((segment) => segment.start === start);
        renderSegments();
        emit();
      });
      add(["alt+]"], "End the current segment at the playhead", () => {
        if (current < 0) return;
        segments[current].end = round(audio.currentTime);
        renderSegments();
        emit();
      });
      add(["alt+p"], "Play the current segment from its start", () => {
        if (current < 0) return;
        seek(segments[current].start);
        audio.play().catch(() => {});
      });
    }
    cleanups.push(() => { if (frame !== null) cancelAnimationFrame(frame); });
    loadWaveform();
    draw();
  }

  // --- segments -------------------------------------------------------------------------------

  function renderSegments() {
    if (!segmentList) return;
    segmentList.replaceChildren(...segments.map((segment, i) => {
      const li = document.createElement("li");
      li.className = `tx-segment${i === current ? " current" : ""}`;
      li.dataset.index = String(i);
      li.dataset.testid = "tx-segment";
      const field = (name, value, label) => {
        const input = document.createElement("input");
        input.type = name === "text" ? "text" : "number";
        if (name !== "text") input.step = "0.001";
        input.name = name;
        input.value = value === null ? "" : String(value);
        input.setAttribute("aria-label", `${label} of segment ${i + 1}`);
        return input;
      };
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link danger";
      remove.dataset.action = "remove-segment";
      remove.textContent = "Remove";
      li.append(field("start", segment.start, "Start"), field("end", segment.end, "End"), field("text", segment.text, "Text"), remove);
      return li;
    }));
  }
  if (segmentList) {
    listen(segmentList, "input", (event) => {
      const li = event.target.closest(".tx-segment");
      const index = Number(li.dataset.index);
      const { name, value } = event.target;
      segments[index][name] = name === "text" ? value : (value === "" ? null : Number(value));
      current = index;
      emit();
    });
    listen(segmentList, "click", (event) => {
      const button = event.target.closest("[data-action=remove-segment]");
      if (!button) return;
      segments.splice(Number(button.closest(".tx-segment").dataset.index), 1);
      current = Math.min(current, segments.length - 1);
      renderSegments();
      emit();
    });
  }

  // --- image ----------------------------------------------------------------------------------

  const imageStage = root.querySelector(".tx-image-stage");
  if (imageStage) {
    const image = imageStage.querySelector(".tx-image");
    const view = { scale: 1, x: 0, y: 0 };
    const apply = () => {
      image.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
      root.dataset.zoom = String(Math.round(view.scale * 100));
    };
    const fit = () => {
      const scale = Math.min(imageStage.clientWidth / image.naturalWidth, imageStage.clientHeight / image.naturalHeight) || 1;
      Object.assign(view, { scale, x: (imageStage.clientWidth - image.naturalWidth * scale) / 2, y: 0 });
      apply();
    };
    const zoom = (factor, anchor = { x: imageStage.clientWidth / 2, y: imageStage.clientHeight / 2 }) => {
      const scale = Math.min(20, Math.max(0.05, view.scale * factor));
      view.x = anchor.x - (anchor.x - view.x) * (scale / view.scale);
      view.y = anchor.y - (anchor.y - view.y) * (scale / view.scale);
      view.scale = scale;
      apply();
    };
    if (image.complete && image.naturalWidth) fit();
    else if (image.complete) reportBrokenMedia(root, BROKEN_IMAGE);
    else listen(image, "load", fit);
    listen(image, "error", () => reportBrokenMedia(root, BROKEN_IMAGE));
    listen(imageStage, "wheel", (event) => {
      event.preventDefault();
      const bounds = imageStage.getBoundingClientRect();
      zoom(Math.exp(-event.deltaY * 0.0015), { x: event.clientX - bounds.left, y: event.clientY - bounds.top });
    }, { passive: false });
    let drag = null;
    listen(imageStage, "pointerdown", (event) => {
      drag = { x: event.clientX - view.x, y: event.clientY - view.y };
      imageStage.setPointerCapture(event.pointerId);
    });
    listen(imageStage, "pointermove", (event) => {
      if (!drag) return;
      view.x = event.clientX - drag.x;
      view.y = event.clientY - drag.y;
      apply();
    });
    listen(imageStage, "pointerup", () => { drag = null; });
    const actions = { "zoom-in": () => zoom(1.25), "zoom-out": () => zoom(0.8), fit };
    listen(root, "click", (event) => {
      const button = event.target.closest("[data-action]");
      if (button && actions[button.dataset.action]) actions[button.dataset.action]();
    });
    add(["alt+="], "Zoom in", actions["zoom-in"]);
    add(["alt+-"], "Zoom out", actions["zoom-out"]);
    add(["alt+0"], "Fit the image", fit);
  }

  function setResult(result) {
    const start = result || {};
    text.value = typeof start.text === "string" ? start.text : (data.draft || "");
    segments = Array.isArray(start.segments)
      ? start.segments.map((segment) => ({ start: segment.start, end: segment.end ?? null, text: segment.text || "" }))
      : [];
    current = segments.length - 1;
    renderSegments();
    emit();
  }

  function validate() {
    if (mediaBroken(root)) return [audio ? BROKEN_AUDIO : BROKEN_IMAGE];
    const messages = [];
    if (!text.value.trim() && !segments.some((segment) => segment.text.trim())) {
      messages.push("Write the transcript (or mark the clip as silent in the text).");
    }
    let previousEnd = 0;
    segments.forEach((segment, i) => {
      if (segment.end === null) messages.push(`Segment ${i + 1} has no end yet (Alt+] at the playhead).`);
      else if (!(segment.start < segment.end)) messages.push(`Segment ${i + 1} ends before it starts.`);
      if (segment.start < previousEnd - 1e-6) messages.push(`Segment ${i + 1} overlaps the one before.`);
      if (segment.end !== null) previousEnd = segment.end;
    });
    return messages;
  }

  setResult(config.initial_result || { text: text.value });

  return {
    getResult,
    setResult,
    validate,
    onChange(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      listeners.clear();
    },
  };
}
